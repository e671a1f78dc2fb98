#!/bin/sh
# Runs inside the guest root (chroot) while `cargo xtask vm-test` builds it: builds visl, the
# kernel's virtual stateless video decoder, vim2m, its virtual memory-to-memory scaler and
# colour converter (GStreamer's v4l2convert), and the V4L2 helper modules they need that
# Debian's kernel does not ship, out of tree from the root's own linux-source against its own headers,
# and installs them under /lib/modules/KVER/updates/. Prints what it built.
set -eu
kver=$(ls /lib/modules | head -n 1)
src=$(ls /usr/src/linux-source-*.tar.xz | head -n 1)
top=$(basename "$src" .tar.xz)
work=/tmp/camd-visl
rm -rf "$work" && mkdir -p "$work"
cd "$work"
tar -xJf "$src" "$top/drivers/media/test-drivers/visl" \
    "$top/drivers/media/test-drivers/vim2m.c" \
    "$top/drivers/media/v4l2-core/v4l2-mem2mem.c" \
    "$top/drivers/media/v4l2-core/v4l2-h264.c" \
    "$top/drivers/media/v4l2-core/v4l2-vp9.c"
mkdir build
cp "$top"/drivers/media/test-drivers/visl/*.c "$top"/drivers/media/test-drivers/visl/*.h build/
cp "$top/drivers/media/test-drivers/vim2m.c" build/
# The trace points name their header's directory relative to the kernel tree.
sed -i 's|^#define TRACE_INCLUDE_PATH .*|#define TRACE_INCLUDE_PATH .|' build/visl-trace-*.h
modules="visl.o vim2m.o"
for helper in v4l2-mem2mem v4l2-h264 v4l2-vp9; do
    if ! modinfo -k "$kver" "$helper" >/dev/null 2>&1; then
        cp "$top/drivers/media/v4l2-core/$helper.c" build/
        modules="$modules $helper.o"
    fi
done
visl_objs=$(cd build && ls visl-*.c | grep -v debugfs | sed 's/\.c$/.o/' | tr '\n' ' ')
cat > build/Kbuild <<KBUILD
obj-m := $modules
visl-y := $visl_objs
ccflags-y += -I\$(src)
KBUILD
make -s -C "/lib/modules/$kver/build" M="$work/build" CONFIG_DEBUG_INFO_BTF_MODULES= modules
mkdir -p "/lib/modules/$kver/updates/camd-vm"
cp build/*.ko "/lib/modules/$kver/updates/camd-vm/"
depmod "$kver"
echo "build-visl: built $(cd build && ls *.ko | tr '\n' ' ')for $kver from $(basename "$src")"
rm -rf "$work"
