SUMMARY = "Camera-capture daemon publishing JPEG frames into shared-memory rings"
DESCRIPTION = "camd keeps RTSP and V4L2 cameras connected, decodes with the board's \
               hardware decoder through GStreamer, and publishes each camera's latest JPEG \
               frames and status in a ring file under /run/camd that inference programs map \
               and read without copies. Packages: camd (daemon, unit, config), libcamd-ring \
               (reader library), libcamd-ring-dev (header, pkg-config file), \
               libcamd-ring-staticdev and python3-camd-ring."
HOMEPAGE = "https://git.example.com/camd/camd"
BUGTRACKER = "https://git.example.com/camd/camd/issues"
SECTION = "multimedia"
LICENSE = "MIT | Apache-2.0"
# The two license texts at the top of the repository (Cargo.toml: "MIT OR Apache-2.0").
LIC_FILES_CHKSUM = "file://LICENSE-MIT;md5=b56435ce27350693ae651dd5d9167855 \
                    file://LICENSE-APACHE;md5=22a53954e4e0ec258dfce4391e905dac"

DEPENDS = "glib-2.0 gstreamer1.0 gstreamer1.0-plugins-base"

PV = "0.2.0+git"

# Where the sources come from. By default: the camd checkout this layer lives in
# (yocto/meta-camd inside the camd repository), as a local git repository, at the head of
# CAMD_GIT_BRANCH: no network is needed to parse or fetch it. For a product, pin a release in
# local.conf or a bbappend (docs/deploy.md):
#   CAMD_GIT_URI:pn-camd = "git://HOST/camd.git;protocol=https;branch=main"
#   SRCREV:pn-camd = "<commit>"
# Every commit carries camd-crates.inc for its own Cargo.lock (CI checks it).
CAMD_SRC_DIR ?= "${@os.path.abspath(os.path.join(d.getVar('FILE_DIRNAME'), '../../../..'))}"
CAMD_GIT_BRANCH ?= "main"
CAMD_GIT_URI ?= "git://${CAMD_SRC_DIR};protocol=file;branch=${CAMD_GIT_BRANCH}"
SRC_URI = "${CAMD_GIT_URI};destsuffix=${BP}"
# The branch head when SRCREV is not set: git ls-remote on the local path at parse time (bitbake
# checks network access only for remote protocols). PKGV gets the revision by itself (oe-core
# since 2023: SRCPV is empty).
# nooelint: oelint.vars.autorev
SRCREV ?= "${AUTOREV}"

require ${BPN}-crates.inc

inherit cargo cargo-update-recipe-crates pkgconfig python3native systemd useradd

# v4l2: webcam capabilities through the v4l crate, whose bindings bindgen makes with libclang
# (clang-native). On by default where a clang-native recipe exists: meta-clang (collection
# clang-layer) or oe-core's own (wrynose has one, scarthgap none). Elsewhere camd is built
# without it (RTSP, files and test patterns still work) and do_configure says so in its log.
# Decided at parse time from the layer list and the files of oe-core: no network, no provider
# lookup. CAMD_HAVE_CLANG = "1" or "0" in local.conf overrides the guess.
CAMD_HAVE_CLANG ??= "${@'1' if bb.utils.contains('BBFILE_COLLECTIONS', 'clang-layer', True, False, d) or os.path.isdir(os.path.join(d.getVar('COREBASE'), 'meta/recipes-devtools/clang')) else '0'}"
PACKAGECONFIG ??= "${@'v4l2' if d.getVar('CAMD_HAVE_CLANG') == '1' else ''}"
PACKAGECONFIG[v4l2] = ",,clang-native"
CAMD_FEATURES = "${@bb.utils.contains('PACKAGECONFIG', 'v4l2', '--features camd-worker/v4l2', '', d)}"

# The daemon (camd, camd-worker) and the reader library (cdylib, staticlib); not xtask.
CARGO_BUILD_FLAGS += "--package camd --package camd-worker --package camd-ring --no-default-features ${CAMD_FEATURES}"
# Keep the symbols and debug info: Yocto strips into the -dbg packages itself.
export CARGO_PROFILE_RELEASE_STRIP = "false"
# bindgen (v4l2): libclang from clang-native, headers from the target sysroot.
export LIBCLANG_PATH = "${STAGING_LIBDIR_NATIVE}"
export BINDGEN_EXTRA_CLANG_ARGS = "--sysroot=${STAGING_DIR_TARGET}"

do_configure:prepend() {
    if [ -z "${@bb.utils.filter('PACKAGECONFIG', 'v4l2', d)}" ]; then
        bbnote "camd: built without V4L2 webcam support (PACKAGECONFIG v4l2 off, CAMD_HAVE_CLANG = ${CAMD_HAVE_CLANG}):" \
               "a /dev/videoN camera fails with 'this camd was built without V4L2 support';" \
               "V4L2 needs clang-native: meta-clang on scarthgap, oe-core's own on wrynose"
    fi
}

CAMD_RING_VERSION = "${@d.getVar('PV').split('+')[0]}"

do_install() {
    out="${B}/target/${CARGO_TARGET_SUBDIR}"

    install -d ${D}${bindir}
    install -m 0755 ${out}/camd ${out}/camd-worker ${D}${bindir}/

    install -d ${D}${systemd_system_unitdir}
    sed -e 's,/usr/bin/camd,${bindir}/camd,' -e 's,/bin/kill,${base_bindir}/kill,' \
        ${S}/systemd/camd.service > ${D}${systemd_system_unitdir}/camd.service
    chmod 0644 ${D}${systemd_system_unitdir}/camd.service

    # The config may hold RTSP passwords: readable by camd only.
    install -d ${D}${sysconfdir}/camd
    install -m 0640 -g camd ${S}/systemd/camd.toml ${D}${sysconfdir}/camd/camd.toml

    install -d ${D}${libdir} ${D}${libdir}/pkgconfig ${D}${includedir}
    install -m 0755 ${out}/libcamd_ring.so ${D}${libdir}/
    install -m 0644 ${out}/libcamd_ring.a ${D}${libdir}/
    install -m 0644 ${S}/ring/include/camd_ring.h ${D}${includedir}/
    sed -e 's,@PREFIX@,${prefix},' -e 's,@LIBDIR@,${libdir},' \
        -e 's,@INCLUDEDIR@,${includedir},' -e 's,@VERSION@,${CAMD_RING_VERSION},' \
        ${S}/ring/camd-ring.pc.in > ${D}${libdir}/pkgconfig/camd-ring.pc
    chmod 0644 ${D}${libdir}/pkgconfig/camd-ring.pc

    install -d ${D}${PYTHON_SITEPACKAGES_DIR}/camd_ring
    install -m 0644 ${S}/ring/python/camd_ring/*.py ${D}${PYTHON_SITEPACKAGES_DIR}/camd_ring/
    # The binding loads the libcamd_ring.so beside it first: no ldconfig or compiler needed on
    # the target to find the library.
    ln -rs ${D}${libdir}/libcamd_ring.so ${D}${PYTHON_SITEPACKAGES_DIR}/camd_ring/libcamd_ring.so
    # Install metadata (camd_ring-VERSION.dist-info) from pyproject.toml, as pip writes it, so
    # importlib.metadata and pip know the package; run by the host's python3-native.
    ${PYTHON} ${S}/ring/python/dist_info.py ${D}${PYTHON_SITEPACKAGES_DIR} > /dev/null
}

# Listed before ${PN}-dev and ${PN}-staticdev, so they take the library's files first.
PACKAGES =+ "libcamd-ring libcamd-ring-dev libcamd-ring-staticdev python3-camd-ring"

# The library has no SONAME version: the unversioned .so is the runtime library.
FILES:libcamd-ring += "${libdir}/libcamd_ring.so"
FILES:libcamd-ring-dev += "${includedir}/camd_ring.h ${libdir}/pkgconfig/camd-ring.pc"
FILES:libcamd-ring-staticdev += "${libdir}/libcamd_ring.a"
FILES:python3-camd-ring += "${PYTHON_SITEPACKAGES_DIR}/camd_ring ${PYTHON_SITEPACKAGES_DIR}/camd_ring-*.dist-info"
CONFFILES:${PN} = "${sysconfdir}/camd/camd.toml"

# What the pipelines use: appsink and appsrc, decodebin and typefinding (files), scaling and
# conversion, rate, test patterns, parsers, JPEG, MP4, RTP and rtspsrc, V4L2 (webcams, stateful
# hardware codecs, v4l2convert), aspectratiocrop (resize = "crop"), PNG (snapshots of raw
# cameras).
# glib-networking: GIO's TLS backend, for rtsps:// cameras (rtspsrc's TLS is GIO's).
RDEPENDS:${PN} = "\
    glib-networking \
    gstreamer1.0-plugins-bad-jpegformat \
    gstreamer1.0-plugins-bad-videoparsersbad \
    gstreamer1.0-plugins-base-app \
    gstreamer1.0-plugins-base-playback \
    gstreamer1.0-plugins-base-typefindfunctions \
    gstreamer1.0-plugins-base-videoconvertscale \
    gstreamer1.0-plugins-base-videorate \
    gstreamer1.0-plugins-base-videotestsrc \
    gstreamer1.0-plugins-good-isomp4 \
    gstreamer1.0-plugins-good-jpeg \
    gstreamer1.0-plugins-good-png \
    gstreamer1.0-plugins-good-rtp \
    gstreamer1.0-plugins-good-rtpmanager \
    gstreamer1.0-plugins-good-rtsp \
    gstreamer1.0-plugins-good-udp \
    gstreamer1.0-plugins-good-video4linux2 \
    gstreamer1.0-plugins-good-videocrop \
"
RDEPENDS:libcamd-ring-dev = "libcamd-ring"
RDEPENDS:libcamd-ring-staticdev = "libcamd-ring-dev"
RDEPENDS:python3-camd-ring = "libcamd-ring python3-core python3-ctypes python3-threading"
# NumPy views of raw frames (BorrowedFrame.pixels); without it the binding gives bytes.
RRECOMMENDS:python3-camd-ring = "python3-numpy"
# Stateless V4L2 decoders, and software ones (avdec_h264) where their LICENSE_FLAGS
# "commercial" is accepted (bitbake fails on a recommendation of a skipped recipe).
RRECOMMENDS:${PN} = "gstreamer1.0-plugins-bad-v4l2codecs \
                     ${@bb.utils.contains('LICENSE_FLAGS_ACCEPTED', 'commercial', 'gstreamer1.0-libav', '', d)}"
# The libcamd_ring.so symlink beside the binding is what it loads, not a development link.
# nooelint: oelint.vars.insaneskip
INSANE_SKIP:python3-camd-ring = "dev-so"

SYSTEMD_SERVICE:${PN} = "camd.service"

# camd runs as camd; camd-readers owns the ring files (put inference programs in it); video,
# the webcams' group, comes from base-passwd.
USERADD_PACKAGES = "${PN}"
GROUPADD_PARAM:${PN} = "--system camd-readers"
USERADD_PARAM:${PN} = "--system --user-group --home-dir /nonexistent --no-create-home \
                       --shell ${base_sbindir}/nologin --comment 'camd camera capture daemon' camd"
