"""Error paths of the camd_ring Python binding (files that are not rings), its surface, and
the camera's capture time (Reader.camera_time_ns, BorrowedFrame.camera_time_ns) on small ring
files the tests write from docs/ring-format.md.

    CAMD_RING_LIB=target/debug/libcamd_ring.so python3 -m unittest discover -s ring/python/tests

Fails (does not skip) when libcamd_ring.so cannot be loaded.
"""

import os
import shutil
import struct
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

try:
    import camd_ring
except ImportError as e:  # reported as a failure by setUpModule, never skipped
    camd_ring = None
    IMPORT_ERROR = e


def setUpModule():
    if camd_ring is None:
        raise AssertionError(
            "cannot load camd_ring (set CAMD_RING_LIB to the full path of libcamd_ring.so, "
            "built by `cargo build -p camd-ring`): %s" % IMPORT_ERROR
        )


class ReaderErrors(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="camd_ring_test_")
        self.addCleanup(shutil.rmtree, self.dir)

    def write(self, name, data):
        path = os.path.join(self.dir, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def open_error(self, path):
        with self.assertRaises(camd_ring.RingError) as caught:
            camd_ring.Reader(path)
        error = caught.exception
        self.assertIn(path, error.message)
        self.assertEqual(str(error), error.message)
        return error

    def test_missing_file(self):
        path = os.path.join(self.dir, "missing.ring")
        error = self.open_error(path)
        self.assertEqual(error.code, camd_ring.E_IO)
        self.assertIn("open", error.message)

    def test_random_bytes(self):
        path = self.write("random.ring", os.urandom(8192))
        error = self.open_error(path)
        self.assertEqual(error.code, camd_ring.E_FORMAT)
        self.assertIn("header.magic", error.message)

    def test_empty_file(self):
        path = self.write("empty.ring", b"")
        error = self.open_error(path)
        self.assertEqual(error.code, camd_ring.E_FORMAT)
        self.assertIn("header", error.message)
        self.assertNotIn("header.magic", error.message)

    def test_short_file(self):
        path = self.write("short.ring", b"CAMDRING" + bytes(100))
        error = self.open_error(path)
        self.assertEqual(error.code, camd_ring.E_FORMAT)
        self.assertIn("header", error.message)

    def test_wrong_version(self):
        header = bytearray(8192)
        header[0:8] = b"CAMDRING"
        header[8:12] = (99).to_bytes(4, "little")
        path = self.write("version.ring", bytes(header))
        error = self.open_error(path)
        self.assertEqual(error.code, camd_ring.E_FORMAT)
        self.assertIn("header.version", error.message)

    def test_pathlike_and_bytes_paths(self):
        import pathlib

        path = os.path.join(self.dir, "missing.ring")
        for arg in (pathlib.Path(path), os.fsencode(path)):
            with self.assertRaises(camd_ring.RingError) as caught:
                camd_ring.Reader(arg)
            self.assertIn(path, caught.exception.message)


class ModuleSurface(unittest.TestCase):
    def test_struct_sizes_and_constants(self):
        import ctypes

        self.assertEqual(ctypes.sizeof(camd_ring._FrameMeta), 40)
        self.assertEqual(ctypes.sizeof(camd_ring._RingInfo), 104)
        self.assertEqual(ctypes.sizeof(camd_ring._RingStatus), 480)
        self.assertEqual(camd_ring.format_version(), camd_ring.FORMAT_VERSION)
        self.assertEqual((camd_ring.OK, camd_ring.NO_FRAME, camd_ring.TIMEOUT), (0, 1, 2))

    def test_state_names_match_the_library(self):
        for code, name in camd_ring.STATE_NAMES.items():
            self.assertEqual(camd_ring.state_name(code), name)
        self.assertEqual(camd_ring.state_name(77), "unknown")

    def test_status_dict_shape(self):
        status = camd_ring.Status(
            state="retrying", state_code=camd_ring.STATE_RETRYING, retry_count=2,
            max_retry_attempts=5, writer_pid=1, generation=1, latest_seq=0,
            next_retry_in_ms=1500, next_retry_in_s=1.5, state_since_realtime_ns=0,
            heartbeat_age_ms=0, heartbeat_realtime_ns=1_700_000_000_000_000_000,
            fps_milli=0, fps=0.0, source_width=0, source_height=0, retired=False, drops=0,
            oversize=0, reconnects=0, last_error_realtime_ns=0, input_codec="", decoder="",
            encoder="", last_error="",
        )
        self.assertEqual(
            status.as_python_dict(),
            {
                "status": "retrying",
                "retry_count": 2,
                "max_retries": 5,
                "next_retry_in": 1.5,
                "fps": 0.0,
                "last_error": None,
                "ts": 1_700_000_000.0,
            },
        )


# The layout (docs/ring-format.md): a 4096-byte header page, then 2 slots of 64 + 64 bytes.
HEADER_SIZE = 4096
SLOT_COUNT = 2
SLOT_CAPACITY = 64
SLOT_STRIDE = 64 + SLOT_CAPACITY
FILE_SIZE = HEADER_SIZE + SLOT_COUNT * SLOT_STRIDE
COMPAT_WAKE_EVERY_PUBLISH = 1
COMPAT_CAMERA_TIME = 2
SLOT_FLAG_CAMERA_TIME = 1
CAMERA_NS = 1_700_000_000_123_456_789


def ring_image(compat_features, frames):
    """A ring file's bytes holding `frames`: (seq, flags, ts_camera_ns) each, in slot
    seq % SLOT_COUNT, 4 bytes long; latest_seq is the last seq."""
    image = bytearray(FILE_SIZE)
    struct.pack_into(
        "<8sIIQQQIIIIIIIIQ64s",
        image,
        0,
        b"CAMDRING",
        1,  # version
        HEADER_SIZE,
        FILE_SIZE,
        HEADER_SIZE,  # slots_offset
        SLOT_STRIDE,
        SLOT_COUNT,
        SLOT_CAPACITY,
        64,  # slot_header_size
        1,  # codec: JPEG
        0,  # width
        0,  # height
        compat_features,
        0,  # incompat_features
        1,  # created_realtime_ns
        b"cam",
    )
    for seq, flags, ts_camera_ns in frames:
        base = HEADER_SIZE + (seq % SLOT_COUNT) * SLOT_STRIDE
        # seq word (complete), len, width, height, flags, ts_realtime, ts_mono, ts_camera
        struct.pack_into("<QIIIIQQQ", image, base, seq << 1, 4, 0, 0, flags, 10 + seq, 20 + seq,
                         ts_camera_ns)
        image[base + 64:base + 68] = bytes([seq] * 4)
    struct.pack_into("<Q", image, 256, frames[-1][0])  # index.latest_seq
    return bytes(image)


def meta_of(seq):
    """A FrameMeta for frame `seq` of ring_image's files (what latest() would return)."""
    return camd_ring.FrameMeta(seq, 10 + seq, 20 + seq, 4, 0, 0, seq % SLOT_COUNT)


class CameraTime(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="camd_ring_test_")
        self.addCleanup(shutil.rmtree, self.dir)

    def reader(self, compat_features, frames):
        path = os.path.join(self.dir, "cam.ring")
        with open(path, "wb") as f:
            f.write(ring_image(compat_features, frames))
        ring = camd_ring.Reader(path)
        self.addCleanup(ring.close)
        return ring

    def test_a_frame_with_a_camera_time_and_one_without(self):
        ring = self.reader(
            COMPAT_WAKE_EVERY_PUBLISH | COMPAT_CAMERA_TIME,
            [(1, SLOT_FLAG_CAMERA_TIME, CAMERA_NS), (2, 0, 0)],
        )
        latest = ring.latest()
        self.assertEqual(latest, meta_of(2))
        self.assertIsNone(ring.camera_time_ns(latest))
        self.assertEqual(ring.camera_time_ns(meta_of(1)), CAMERA_NS)
        with ring.borrow_latest() as frame:
            self.assertIsNone(frame.camera_time_ns())

    def test_the_borrowed_frame_reads_its_camera_time(self):
        ring = self.reader(COMPAT_CAMERA_TIME, [(1, SLOT_FLAG_CAMERA_TIME, CAMERA_NS)])
        with ring.borrow_latest() as frame:
            self.assertEqual(frame.camera_time_ns(), CAMERA_NS)
            self.assertTrue(frame.intact())

    def test_a_frame_that_left_the_ring_is_gone_not_without_a_time(self):
        ring = self.reader(COMPAT_CAMERA_TIME, [(3, SLOT_FLAG_CAMERA_TIME, CAMERA_NS)])
        # Frame 1 lived in slot 1, which frame 3 reused; frame 0 never exists.
        for seq in (1, 0, 5):
            with self.assertRaises(camd_ring.FrameGone) as caught:
                ring.camera_time_ns(meta_of(seq))
            self.assertEqual(caught.exception.seq, seq)
            self.assertIn("frame %d is no longer in the ring" % seq, str(caught.exception))
        self.assertTrue(issubclass(camd_ring.FrameGone, LookupError))

    def test_a_file_without_the_compat_bit_has_no_camera_times(self):
        # An older writer's file whose slot holds a flag and a time anyway: both are ignored.
        ring = self.reader(COMPAT_WAKE_EVERY_PUBLISH, [(1, SLOT_FLAG_CAMERA_TIME, CAMERA_NS)])
        self.assertIsNone(ring.camera_time_ns(ring.latest()))

    def test_null_pointers_are_argument_errors_of_the_c_function(self):
        import ctypes

        ring = self.reader(COMPAT_CAMERA_TIME, [(1, SLOT_FLAG_CAMERA_TIME, CAMERA_NS)])
        meta, out = meta_of(1)._to_c(), ctypes.c_uint64(7)
        for args in ((None, ctypes.byref(meta), ctypes.byref(out)),
                     (ring._ptr(), None, ctypes.byref(out)),
                     (ring._ptr(), ctypes.byref(meta), None)):
            self.assertEqual(camd_ring._camera_time(*args), camd_ring.E_ARGUMENT)
        self.assertEqual(out.value, 0, "out_ns is 0 unless the frame has a camera time")
        self.assertEqual(
            camd_ring._camera_time(ring._ptr(), ctypes.byref(meta), ctypes.byref(out)),
            camd_ring.OK,
        )
        self.assertEqual(out.value, CAMERA_NS)

    def test_a_closed_reader_is_an_argument_error(self):
        ring = self.reader(COMPAT_CAMERA_TIME, [(1, SLOT_FLAG_CAMERA_TIME, CAMERA_NS)])
        meta = ring.latest()
        ring.close()
        with self.assertRaises(camd_ring.RingError) as caught:
            ring.camera_time_ns(meta)
        self.assertEqual(caught.exception.code, camd_ring.E_ARGUMENT)


if __name__ == "__main__":
    unittest.main()
