"""Raw pixels in the camd_ring Python binding (Reader.layout, BorrowedFrame.pixels() and planes(),
to_array() and to_planes()) on raw ring files the tests write from docs/ring-format.md: the
arrays' shapes, strides and values, that they are read-only and at the frame's address in the
mapping, that release() and close() work while they live and that they keep the mapping; the
refusals (a JPEG ring, an NV12 layout that no one array can hold, a copy of another size, a frame
whose slot the writer has begun to reuse); and, with numpy's import blocked, the frames' bytes
instead. ring/tests/cross_language.rs runs the same against the Rust writer,
live (numpy_view.py).

    CAMD_RING_LIB=target/debug/libcamd_ring.so python3 -m unittest discover -s ring/python/tests

Needs numpy (Debian: python3-numpy): fails, does not skip, without it.
"""

import ctypes
import gc
import os
import shutil
import struct
import sys
import tempfile
import unittest
import weakref

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

try:
    import camd_ring
except ImportError as e:  # reported as a failure by setUpModule, never skipped
    camd_ring = None
    IMPORT_ERROR = e

try:
    import numpy as np
except ImportError as e:
    np = None
    NUMPY_ERROR = e


def setUpModule():
    if camd_ring is None:
        raise AssertionError(
            "cannot load camd_ring (set CAMD_RING_LIB to the full path of libcamd_ring.so, "
            "built by `cargo build -p camd-ring`): %s" % IMPORT_ERROR
        )
    if np is None:
        raise AssertionError(
            "these tests need numpy (Debian: python3-numpy, in xtask/src/packages.rs): %s"
            % NUMPY_ERROR
        )


HEADER_SIZE = 4096
SLOT_COUNT = 2
PADDING = 0xA5


def pattern_byte(seq, plane, row, col):
    """The test pattern: byte `col` of row `row` of plane `plane` in frame `seq`."""
    return (seq * 31 + plane * 17 + row * 7 + col * 3) % 256


class Raw:
    """A raw layout as docs/ring-format.md gives it, written out here, not taken from the module:
    planes = [(offset, stride, row bytes, rows)]."""

    def __init__(self, codec, width, height, planes, frame_size):
        self.codec, self.width, self.height = codec, width, height
        self.planes, self.frame_size = planes, frame_size

    def frame(self, seq):
        out = bytearray([PADDING]) * self.frame_size
        for p, (offset, stride, row, rows) in enumerate(self.planes):
            for r in range(rows):
                start = offset + r * stride
                out[start:start + row] = bytes(pattern_byte(seq, p, r, c) for c in range(row))
        return bytes(out)

    def plane_rows(self, seq, p):
        """Plane `p` of frame `seq` as a (rows, row bytes) array."""
        _, _, row, rows = self.planes[p]
        return np.array([[pattern_byte(seq, p, r, c) for c in range(row)] for r in range(rows)],
                        dtype=np.uint8)


def packed(codec, width, height):
    """camd's layout ("Raw frames"): rows rounded up to 4 bytes, the planes one after the other."""
    round4 = lambda n: (n + 3) // 4 * 4  # noqa: E731
    if codec == 2:  # NV12
        stride = round4(width)
        planes = [(0, stride, width, height), (stride * height, stride, width, height // 2)]
        return Raw(codec, width, height, planes, stride * height + stride * height // 2)
    stride = round4(width * 3)
    return Raw(codec, width, height, [(0, stride, width * 3, height)], stride * height)


def ring_image(raw, seq, codec=None):
    """A ring file holding frame `seq` of `raw` (latest), 2 slots of frame_size rounded up to 64;
    `codec` overrides the header's (1 makes a JPEG ring of the same bytes, with no layout)."""
    capacity = (raw.frame_size + 63) // 64 * 64
    stride = 64 + capacity
    size = HEADER_SIZE + SLOT_COUNT * stride
    image = bytearray(size)
    codec = raw.codec if codec is None else codec
    struct.pack_into(
        "<8sIIQQQIIIIIIIIQ64s", image, 0, b"CAMDRING", 1, HEADER_SIZE, size, HEADER_SIZE, stride,
        SLOT_COUNT, capacity, 64, codec, raw.width, raw.height, 1, 0, 1, b"door",
    )
    if codec != 1:
        offsets = [p[0] for p in raw.planes] + [0] * (2 - len(raw.planes))
        strides = [p[1] for p in raw.planes] + [0] * (2 - len(raw.planes))
        struct.pack_into("<IIIII", image, 144, *offsets, *strides, raw.frame_size)
    base = HEADER_SIZE + (seq % SLOT_COUNT) * stride
    struct.pack_into("<QIII", image, base, seq << 1, raw.frame_size, raw.width, raw.height)
    image[base + 64:base + 64 + raw.frame_size] = raw.frame(seq)
    struct.pack_into("<Q", image, 256, seq)  # index.latest_seq
    return bytes(image), base


def address(array):
    return array.__array_interface__["data"][0]


class Pixels(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="camd_ring_pixels_")
        self.addCleanup(shutil.rmtree, self.dir)

    def reader(self, raw, seq=1, codec=None):
        """An open Reader of a ring holding frame `seq`; self.slot is the frame's slot header's
        offset in the file (for the tests that act as the writer)."""
        self.path = os.path.join(self.dir, "door.ring")
        image, self.slot = ring_image(raw, seq, codec)
        with open(self.path, "wb") as f:
            f.write(image)
        ring = camd_ring.Reader(self.path)
        self.addCleanup(ring.close)
        return ring

    def write_at(self, offset, data):
        """Changes the file under the reader's mapping, as the writer does."""
        fd = os.open(self.path, os.O_WRONLY)
        try:
            os.pwrite(fd, data, offset)
        finally:
            os.close(fd)

    def test_the_layout_and_the_codec_names(self):
        self.assertEqual(ctypes.sizeof(camd_ring._PixelLayout), 32)
        self.assertEqual(
            camd_ring.CODEC_NAMES, {1: "jpeg", 2: "nv12", 3: "rgb", 4: "bgr"}
        )
        self.assertEqual(camd_ring.codec_name(99), "unknown")
        ring = self.reader(packed(camd_ring.CODEC_RGB, 62, 48))
        self.assertEqual(
            ring.layout,
            camd_ring.PixelLayout(camd_ring.CODEC_RGB, 62, 48, 188 * 48, (0, 0), (188, 0)),
        )
        self.assertEqual((ring.info.codec, ring.info.codec_name), (3, "rgb"))
        self.assertEqual(ring.layout.plane_shape(0), (186, 48))
        self.assertEqual(ring.layout.plane_span(0), (0, 188 * 47 + 186))

    def test_rgb_pixels_are_the_slot_read_only(self):
        raw = packed(camd_ring.CODEC_RGB, 62, 48)
        ring = self.reader(raw)
        with ring.borrow_latest() as frame:
            a = frame.pixels()
            self.assertIsInstance(a, np.ndarray)
            self.assertEqual((a.dtype, a.shape, a.strides), (np.uint8, (48, 62, 3), (188, 3, 1)))
            self.assertEqual(address(a), frame._view.data)
            self.assertEqual(address(a), address(np.frombuffer(frame.data, np.uint8)))
            np.testing.assert_array_equal(a.reshape(48, 186), raw.plane_rows(1, 0))
            self.assertEqual(a[47, 61].tolist(), [pattern_byte(1, 0, 47, 183 + k) for k in range(3)])
            self.assertFalse(a.flags.writeable)
            with self.assertRaises(ValueError):
                a.flags.writeable = True
            with self.assertRaises(ValueError):
                a[0, 0, 0] = 1
            (plane,) = frame.planes()
            self.assertEqual((address(plane), plane.shape), (address(a), a.shape))
            self.assertTrue(frame.intact())

    def test_bgr_pixels_keep_the_file_order(self):
        raw = packed(camd_ring.CODEC_BGR, 30, 20)
        ring = self.reader(raw)
        with ring.borrow_latest() as frame:
            a = frame.pixels()
            self.assertEqual((a.shape, a.strides), ((20, 30, 3), (92, 3, 1)))
            np.testing.assert_array_equal(a.reshape(20, 90), raw.plane_rows(1, 0))

    def test_nv12_is_one_array_and_two_planes(self):
        raw = packed(camd_ring.CODEC_NV12, 66, 50)
        ring = self.reader(raw)
        self.assertEqual(ring.layout.plane_offsets, (0, 68 * 50))
        with ring.borrow_latest() as frame:
            a = frame.pixels()
            self.assertEqual((a.shape, a.strides), ((75, 66), (68, 1)))
            self.assertEqual(address(a), frame._view.data)
            np.testing.assert_array_equal(a[:50], raw.plane_rows(1, 0))
            np.testing.assert_array_equal(a[50:], raw.plane_rows(1, 1))
            y, uv = frame.planes()
            self.assertEqual((y.shape, y.strides, address(y)), ((50, 66), (68, 1), address(a)))
            self.assertEqual((uv.shape, uv.strides), ((25, 33, 2), (68, 2, 1)))
            self.assertEqual(address(uv), frame._view.data + 68 * 50)
            np.testing.assert_array_equal(uv.reshape(25, 66), raw.plane_rows(1, 1))
            self.assertEqual(uv[24, 32, 1], pattern_byte(1, 1, 24, 65))  # V of the last block

    def test_nv12_planes_apart_are_not_one_array(self):
        # A valid layout (check 17) camd does not write: 64 bytes between the planes.
        y_size = 68 * 50
        planes = [(0, 68, 66, 50), (y_size + 64, 68, 66, 25)]
        raw = Raw(camd_ring.CODEC_NV12, 66, 50, planes, y_size + 64 + 68 * 25)
        ring = self.reader(raw)
        with ring.borrow_latest() as frame:
            with self.assertRaises(camd_ring.RingError) as caught:
                frame.pixels()
            self.assertEqual(caught.exception.code, camd_ring.E_ARGUMENT)
            self.assertIn("UV plane starts at byte %d" % (y_size + 64), caught.exception.message)
            self.assertIn("planes()", caught.exception.message)
            y, uv = frame.planes()
            self.assertEqual(address(uv), frame._view.data + y_size + 64)
            np.testing.assert_array_equal(uv.reshape(25, 66), raw.plane_rows(1, 1))
            np.testing.assert_array_equal(y, raw.plane_rows(1, 0))

    def test_a_jpeg_ring_has_no_pixels(self):
        ring = self.reader(packed(camd_ring.CODEC_RGB, 4, 2), codec=camd_ring.CODEC_JPEG)
        self.assertIsNone(ring.layout)
        self.assertEqual(ring.info.codec_name, "jpeg")
        with ring.borrow_latest() as frame:
            for method in (frame.pixels, frame.planes):
                with self.assertRaises(camd_ring.RingError) as caught:
                    method()
                self.assertEqual(caught.exception.code, camd_ring.E_ARGUMENT)
                self.assertIn("holds JPEG frames", caught.exception.message)
                self.assertIn(self.path, caught.exception.message)
        with self.assertRaises(camd_ring.RingError):
            camd_ring.to_array(None, b"\xff\xd8")

    def test_a_copy_as_an_array(self):
        raw = packed(camd_ring.CODEC_NV12, 66, 50)
        ring = self.reader(raw)
        meta, data = ring.copy_latest()
        a = camd_ring.to_array(ring.layout, data)
        self.assertEqual((a.shape, a.strides), ((75, 66), (68, 1)))
        self.assertFalse(a.flags.writeable)
        self.assertEqual(address(a), address(np.frombuffer(data, np.uint8)))  # no second copy
        with ring.borrow_latest() as frame:
            np.testing.assert_array_equal(a, frame.pixels())
        y, uv = camd_ring.to_planes(ring.layout, data)
        np.testing.assert_array_equal(uv.reshape(25, 66), raw.plane_rows(1, 1))
        with self.assertRaises(camd_ring.RingError) as caught:
            camd_ring.to_array(ring.layout, data[:-1])
        self.assertEqual(caught.exception.code, camd_ring.E_ARGUMENT)
        self.assertIn("is 5100 bytes, not 5099", caught.exception.message)

    def test_the_array_is_the_mapping_and_an_overwritten_frame_is_refused(self):
        raw = packed(camd_ring.CODEC_RGB, 62, 48)
        ring = self.reader(raw)
        frame = ring.borrow_latest()
        a = frame.pixels()
        # The writer rewrites the pixels in place (a reader sees the bytes change before it sees
        # the sequence word do so): the same array shows them, no copy.
        self.write_at(self.slot + 64, bytes([1, 2, 3]))
        self.assertEqual(a[0, 0].tolist(), [1, 2, 3])
        # The writer has begun frame 3 in the slot (seq word odd): the borrow is over.
        self.write_at(self.slot, struct.pack("<Q", (3 << 1) | 1))
        self.assertFalse(frame.intact())
        for method in (frame.pixels, frame.planes):
            with self.assertRaises(camd_ring.FrameGone) as caught:
                method()
            self.assertEqual(caught.exception.seq, 1)
        frame.release()

    def test_release_and_close_work_while_an_array_lives_which_keeps_the_mapping(self):
        raw = packed(camd_ring.CODEC_BGR, 30, 20)
        ring = self.reader(raw)
        frame = ring.borrow_latest()
        a = frame.pixels()
        handle = weakref.ref(ring._handle)
        frame.release()  # no BufferError
        with self.assertRaises(camd_ring.RingError) as caught:
            frame.pixels()
        self.assertIn("released", caught.exception.message)
        ring.close()
        gc.collect()
        self.assertIsNotNone(handle(), "the array keeps the handle, so the mapping")
        np.testing.assert_array_equal(a.reshape(20, 90), raw.plane_rows(1, 0))
        view = a[5:, 3]  # a view of the array keeps it too
        del a
        gc.collect()
        self.assertIsNotNone(handle())
        del view
        gc.collect()
        self.assertIsNone(handle(), "the mapping outlived the arrays")

    def test_without_numpy_the_bytes(self):
        # numpy's import blocked as where it is not installed (sys.modules["numpy"] = None makes
        # `import numpy` fail), here rather than in a child Python: a cross-built test runs this
        # under qemu-user, where a Python cannot start another. (The cross-language test runs
        # the example reader in a child Python so blocked, against the Rust writer.)
        raw = packed(camd_ring.CODEC_NV12, 66, 50)
        ring = self.reader(raw)
        saved = sys.modules["numpy"]
        self.addCleanup(setattr, camd_ring, "_numpy_module", None)  # numpy again, after
        self.addCleanup(sys.modules.__setitem__, "numpy", saved)
        sys.modules["numpy"] = None
        camd_ring._numpy_module = None  # not tried yet: the next call imports
        meta, data = ring.copy_latest()
        with ring.borrow_latest() as frame:
            pixels = frame.pixels()
            self.assertIs(pixels, frame.data)
            self.assertTrue(pixels.readonly)
            self.assertEqual(bytes(pixels), data)
            y, uv = frame.planes()
            self.assertEqual([type(y), type(uv)], [memoryview, memoryview])
            self.assertTrue(uv.readonly)
            self.assertEqual((len(y), len(uv)), (68 * 49 + 66, 68 * 24 + 66))
            self.assertEqual(bytes(uv), data[68 * 50:68 * 50 + len(uv)])
            self.assertTrue(frame.intact())
        copy = camd_ring.to_array(ring.layout, data)
        self.assertEqual((type(copy), copy.readonly, bytes(copy)), (memoryview, True, data))
        planes = camd_ring.to_planes(ring.layout, data)
        self.assertEqual([type(p) for p in planes], [memoryview, memoryview])
        self.assertIs(camd_ring._numpy_module, False, "the import was tried and failed")

if __name__ == "__main__":
    unittest.main()
