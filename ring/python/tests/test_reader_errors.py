"""Error paths of the camd_ring Python binding: files that are not rings.

    CAMD_RING_LIB=target/debug/libcamd_ring.so python3 -m unittest discover -s ring/python/tests

Fails (does not skip) when libcamd_ring.so cannot be loaded.
"""

import os
import shutil
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


if __name__ == "__main__":
    unittest.main()
