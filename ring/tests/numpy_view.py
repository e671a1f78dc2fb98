#!/usr/bin/env python3
"""The numpy view of a raw frame against a live writer: driven by ring/tests/cross_language.rs,
which writes the ring with the Rust writer and publishes frames when this script asks.

    numpy_view.py RING        (CAMD_RING_LIB set; numpy needed: fails without it)

Frame `seq`'s pixel bytes are the test pattern (cross_language.rs's `raw_byte`): byte `c` of row
`r` of plane `p` is (seq * 31 + p * 17 + r * 7 + c * 3) % 256. Steps, each printed as one line
once its checks passed (any failure: a traceback on stderr, exit status 1):

1. borrow frame 1: pixels() and planes() are read-only arrays whose data pointers are the slot's
   (inside the ring's mapping in /proc/self/maps), with the layout's shape and strides, holding
   the pattern; then "next" on stdout, and wait for a line on stdin (the writer publishes
   frames 2 to slot_count);
2. the same arrays still hold frame 1 and the frame is intact; "next", wait (the writer publishes
   frame slot_count + 1, into frame 1's slot);
3. without borrowing again, the same arrays now hold the new frame's pattern (they are the slot,
   not a copy); intact() is False, and pixels() and planes() raise FrameGone;
4. release() works while the arrays live, and so does Reader.close(); the arrays keep the ring
   mapped until they are gone, then the mapping goes.
"""

import gc
import os
import sys
import weakref

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))

import camd_ring  # noqa: E402

try:
    import numpy as np
except ImportError as e:
    raise SystemExit("numpy_view.py: needs numpy (Debian: python3-numpy): %s" % e)


def pattern(layout, seq):
    """Each plane of frame `seq` as a (rows, row bytes) array of the test pattern."""
    planes = []
    for p in range(layout.plane_count):
        row, rows = layout.plane_shape(p)
        r, c = np.arange(rows)[:, None], np.arange(row)[None, :]
        planes.append(((seq * 31 + p * 17 + r * 7 + c * 3) % 256).astype(np.uint8))
    return planes


def as_rows(array, layout, plane):
    """An array of plane `plane` (from pixels() or planes()) as (rows, row bytes), for comparing."""
    row, rows = layout.plane_shape(plane)
    return np.ascontiguousarray(array).reshape(rows, row)


def check_holds(arrays, layout, seq):
    """arrays = (pixels(), planes()) hold frame `seq`'s pattern."""
    whole, planes = arrays
    expected = pattern(layout, seq)
    if layout.codec == camd_ring.CODEC_NV12:
        h = layout.height
        assert np.array_equal(whole[:h], expected[0]), "Y rows of pixels(), frame %d" % seq
        assert np.array_equal(whole[h:], expected[1]), "UV rows of pixels(), frame %d" % seq
    else:
        assert np.array_equal(as_rows(whole, layout, 0), expected[0]), "pixels(), frame %d" % seq
    for p, array in enumerate(planes):
        assert np.array_equal(as_rows(array, layout, p), expected[p]), "plane %d, frame %d" % (p, seq)


def mappings_of(path):
    """(start, end) of every mapping of `path` in this process."""
    real = os.path.realpath(path)
    spans = []
    with open("/proc/self/maps") as maps:
        for line in maps:
            fields = line.split(None, 5)
            if len(fields) == 6 and fields[5].strip() == real:
                start, end = (int(x, 16) for x in fields[0].split("-"))
                spans.append((start, end))
    return spans


def address(array):
    return array.__array_interface__["data"][0]


def check_in_place(frame, arrays, layout, path):
    """The arrays are the slot: their pointers are the frame's bytes in the mapping, read-only."""
    whole, planes = arrays
    slot = frame._view.data  # where libcamd_ring says the frame is
    assert address(np.frombuffer(frame.data, np.uint8)) == slot, "data is not at the view"
    assert address(whole) == slot + layout.plane_offsets[0], "pixels() is not at the slot"
    for p, array in enumerate(planes):
        assert address(array) == slot + layout.plane_offsets[p], "plane %d is not in the slot" % p
    (start, end), = mappings_of(path)
    assert start <= slot and slot + layout.frame_size <= end, "the frame is not in the mapping"
    w, h, s = layout.width, layout.height, layout.plane_strides
    if layout.codec == camd_ring.CODEC_NV12:
        assert (whole.shape, whole.strides) == ((h * 3 // 2, w), (s[0], 1)), whole.strides
        assert (planes[0].shape, planes[0].strides) == ((h, w), (s[0], 1))
        assert (planes[1].shape, planes[1].strides) == ((h // 2, w // 2, 2), (s[1], 2, 1))
    else:
        assert (whole.shape, whole.strides) == ((h, w, 3), (s[0], 3, 1)), whole.strides
        assert len(planes) == 1 and address(planes[0]) == address(whole)
    for array in (whole,) + planes:
        assert array.dtype == np.uint8 and not array.flags.writeable
        try:
            array.flags.writeable = True
        except ValueError:
            pass
        else:
            raise AssertionError("an array over the read-only mapping could be made writable")


def step(text):
    """Prints a step's line, then waits for the writer's go-ahead (a line on stdin)."""
    print(text, flush=True)
    if not sys.stdin.readline():
        raise SystemExit("numpy_view.py: stdin closed")


def main(path):
    ring = camd_ring.Reader(path)
    layout, slots = ring.layout, ring.info.slot_count
    assert layout is not None, "not a raw ring"
    frame = ring.borrow_latest()
    assert frame.meta.seq == 1, frame.meta
    arrays = (frame.pixels(), frame.planes())
    check_in_place(frame, arrays, layout, path)
    check_holds(arrays, layout, 1)
    assert frame.intact()
    step("borrowed frame 1: its %s arrays are the slot, read-only, the pattern" % layout.codec_name)

    check_holds(arrays, layout, 1)
    assert frame.intact() and ring.latest_seq() == slots, ring.latest_seq()
    check_holds((frame.pixels(), frame.planes()), layout, 1)
    step("frame 1 after %d newer frames: unchanged, intact" % (slots - 1))

    assert ring.latest_seq() == slots + 1, ring.latest_seq()
    check_holds(arrays, layout, slots + 1)  # the same arrays: the writer's new bytes, no copy
    assert not frame.intact()
    for method in (frame.pixels, frame.planes):
        try:
            method()
        except camd_ring.FrameGone as gone:
            assert gone.seq == 1, gone.seq
        else:
            raise AssertionError("%s() gave an overwritten frame" % method.__name__)
    print("frame %d in its slot: the arrays show it; pixels() and planes() raise FrameGone"
          % (slots + 1), flush=True)

    handle = weakref.ref(ring._handle)
    frame.release()  # no BufferError: the arrays do not hold `data`
    ring.close()
    gc.collect()
    check_holds(arrays, layout, slots + 1)  # still mapped: the arrays keep it
    assert handle() is not None and len(mappings_of(path)) == 1
    del arrays
    gc.collect()
    assert handle() is None, "the handle outlived the arrays"
    assert mappings_of(path) == [], "the ring is still mapped"
    print("released and closed: the arrays kept the mapping, which went with them", flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
