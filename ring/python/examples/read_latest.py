#!/usr/bin/env python3
"""read_latest: the smallest useful Python reader of a camd ring.

    read_latest.py RING                 print the ring's info, status and latest frame (with
                                        the camera's capture time, when the camera gives it;
                                        for raw pixels, the layout and two pixels of the frame)
    read_latest.py RING --wait N        then wait for N new frames, printing each

Needs libcamd_ring.so: camd's install (found beside the package, on the system library path or
through pkg-config), or CAMD_RING_LIB=/path/to/libcamd_ring.so (cargo build -p camd-ring).
Output lines match the C and Rust examples byte for byte (the cross-language test compares them).
A raw frame's pixels are read with numpy when it can be imported (BorrowedFrame.pixels(), an array
over the ring itself), else from the frame's bytes through the layout's offsets and strides.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

try:
    import camd_ring  # noqa: E402
except ImportError as e:
    print("read_latest.py: %s" % e, file=sys.stderr)
    sys.exit(1)

USAGE = "usage: read_latest.py RING [--wait N] [--timeout-ms T]"


def fnv1a(data) -> int:
    h = 0xCBF29CE484222325
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def frame_line(m: camd_ring.FrameMeta, camera_ns, h: int) -> str:
    return "frame seq=%d len=%d width=%d height=%d ts_mono_ns=%d ts_camera_ns=%s fnv1a=%016x" % (
        m.seq,
        m.len,
        m.width,
        m.height,
        m.ts_mono_ns,
        "none" if camera_ns is None else camera_ns,
        h,
    )


def pixel(layout: camd_ring.PixelLayout, pixels, x: int, y: int) -> str:
    """Pixel (x, y) of a raw frame as R,G,B (RGB, BGR) or Y,U,V (NV12). `pixels` is what
    pixels() or to_array() gave: a numpy array, or the frame's bytes when numpy is missing."""
    nv12 = layout.codec == camd_ring.CODEC_NV12
    if isinstance(pixels, memoryview):  # no numpy: the layout's offsets and strides
        (y0, uv0), (y_stride, uv_stride) = layout.plane_offsets, layout.plane_strides
        row = y0 + y * y_stride
        if nv12:
            uv = uv0 + (y // 2) * uv_stride + (x // 2) * 2
            values = (pixels[row + x], pixels[uv], pixels[uv + 1])
        else:
            values = tuple(pixels[row + 3 * x:row + 3 * x + 3])
    elif nv12:  # the Y rows, then the UV rows (height // 2 of them), in one array
        uv_row, u = layout.height + y // 2, (x // 2) * 2
        values = (pixels[y, x], pixels[uv_row, u], pixels[uv_row, u + 1])
    else:
        values = tuple(pixels[y, x])
    if layout.codec == camd_ring.CODEC_BGR:
        values = values[::-1]
    return "%s=%d,%d,%d" % (("yuv" if nv12 else "rgb",) + tuple(int(v) for v in values))


def pixel_lines(layout: camd_ring.PixelLayout, pixels) -> str:
    """The lines for a raw frame's first and last pixels."""
    corners = ((0, 0), (layout.width - 1, layout.height - 1))
    return "".join(
        "pixel x=%d y=%d %s\n" % (x, y, pixel(layout, pixels, x, y)) for x, y in corners
    )


def copy_latest(ring: camd_ring.Reader):
    """The newest frame's (meta, bytes, camera time), or None before the first frame; copies
    again if the frame left the ring in between, so the time is always the copied frame's."""
    while True:
        got = ring.copy_latest()
        if got is None:
            return None
        try:
            return got + (ring.camera_time_ns(got[0]),)
        except camd_ring.FrameGone:
            continue


def parse(argv):
    """Returns (ring, wait, timeout_ms), or None if the arguments are wrong."""
    if not argv or argv[0].startswith("--"):
        return None
    ring, wait, timeout_ms = argv[0], 0, 5000
    rest = argv[1:]
    while rest:
        if len(rest) < 2 or rest[0] not in ("--wait", "--timeout-ms"):
            return None
        try:
            value = int(rest[1], 10)
        except ValueError:
            return None
        if value < 0:
            return None
        if rest[0] == "--wait":
            wait = value
        else:
            timeout_ms = value
        rest = rest[2:]
    return ring, wait, timeout_ms


def run(path: str, wait: int, timeout_ms: int) -> int:
    with camd_ring.Reader(path) as ring:
        info, layout = ring.info, ring.layout
        print(
            "info name=%s slots=%d capacity=%d codec=%s width=%d height=%d"
            % (info.name, info.slot_count, info.slot_capacity, info.codec_name, info.width,
               info.height)
        )
        if layout is not None:
            print(
                "layout frame_size=%d plane_offsets=%d,%d plane_strides=%d,%d"
                % ((layout.frame_size,) + layout.plane_offsets + layout.plane_strides)
            )
        status = ring.status()
        print(
            "status state=%s generation=%d latest_seq=%d"
            % (status.state, status.generation, status.latest_seq)
        )
        if wait == 0:
            got = copy_latest(ring)
            if got is None:
                print("no frame")
            else:
                meta, data, camera_ns = got
                print(frame_line(meta, camera_ns, fnv1a(data)))
                if layout is not None:
                    print(pixel_lines(layout, camd_ring.to_array(layout, data)), end="")
            return 0

        after = ring.latest_seq()
        print("ready", flush=True)
        for _ in range(wait):
            meta = ring.wait_next(after, timeout_ms / 1000.0)
            if meta is None:
                print("timeout", flush=True)
                return 3
            # Work on the newest frame in place; keep the result only if it was not overwritten.
            frame = ring.borrow_latest()
            if frame is not None:
                with frame:
                    if frame.meta.seq == meta.seq:
                        h = fnv1a(frame.data)
                        try:
                            camera_ns = frame.camera_time_ns()
                            # The pixels in place: an array over the slot (or its bytes).
                            pixels = "" if layout is None else pixel_lines(layout, frame.pixels())
                        except camd_ring.FrameGone:
                            camera_ns = None  # overwritten: intact() is False too
                        if frame.intact():
                            print(frame_line(frame.meta, camera_ns, h), flush=True)
                            print(pixels, end="", flush=True)
                            after = frame.meta.seq
                            continue
            got = copy_latest(ring)
            if got is None:  # cannot happen once a frame was published
                raise camd_ring.RingError(camd_ring.E_INTERNAL, "ring file %s: frame vanished" % path)
            meta, data, camera_ns = got
            print(frame_line(meta, camera_ns, fnv1a(data)), flush=True)
            if layout is not None:
                print(pixel_lines(layout, camd_ring.to_array(layout, data)), end="", flush=True)
            after = meta.seq
    return 0


def main(argv) -> int:
    args = parse(argv)
    if args is None:
        print(USAGE, file=sys.stderr)
        return 2
    try:
        return run(*args)
    except camd_ring.RingError as e:
        sys.stdout.flush()
        print("read_latest.py: %s" % e.message, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
