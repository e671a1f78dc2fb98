# The stateless V4L2 decoders (v4l2slh264dec, v4l2slh265dec, ...: mainline Rockchip, Allwinner,
# i.MX8M and other Hantro boards), which camd picks when a board has no stateful decoder.
# oe-core builds plugins-bad without them. The plugin is a package of its own,
# gstreamer1.0-plugins-bad-v4l2codecs, that only camd's RRECOMMENDS (or an image asking for it,
# or plugins-bad-meta) installs; its one dependency, libgudev, plugins-bad already has for
# uvch264. Not wanted: PACKAGECONFIG:remove:pn-gstreamer1.0-plugins-bad = "v4l2codecs".
# oelint (and yocto-check-layer's signature test) want a core recipe changed only for a MACHINE
# or DISTRO: this layer changes plugins-bad wherever it is added, on purpose (docs/deploy.md).
# nooelint: oelint.vars.noncoreoverride
PACKAGECONFIG:append = " v4l2codecs"
