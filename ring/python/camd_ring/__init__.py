"""camd_ring: read camd's camera rings from Python.

A ring file (/run/camd/<camera>.ring) holds a camera's latest frames, JPEG or raw pixels, and
its status. This module is a thin ctypes binding of libcamd_ring (include/camd_ring.h):
validation and the lock-free read protocol are the same Rust code the Rust and C readers use.
Standard library only (numpy, when it can be imported, for raw pixels as arrays); Python 3.9+.

    import camd_ring
    with camd_ring.Reader("/run/camd/front.ring") as ring:
        print(ring.info.name, ring.status().state)          # front ok
        got = ring.copy_latest()                             # (FrameMeta, bytes) or None
        seq = ring.latest_seq()
        while (meta := ring.wait_next(seq, timeout_s=5.0)) is not None:
            camera_ns = ring.camera_time_ns(meta)            # camera's own clock; None: not given
            with ring.borrow_latest() as frame:              # in place: read-only, no copy
                result = run_inference(frame.data)
                keep = frame.intact()                        # False: overwritten meanwhile
            seq = meta.seq

A camera with format = "rgb", "bgr" or "nv12" has a raw ring: `ring.layout` (None for JPEG)
says where the pixels are, and a borrowed frame's pixels() is a read-only numpy array over the
slot itself, no copy (without numpy, the frame's bytes, a memoryview):

    with camd_ring.Reader("/run/camd/door.ring") as ring:   # format = "bgr", 640x360
        print(ring.info.codec_name, ring.layout.plane_strides)   # bgr (1920, 0)
        with ring.borrow_latest() as frame:
            image = frame.pixels()                       # (360, 640, 3) uint8, in the ring
            boxes = model(image)                         # or cv2.resize(image, ...) ...
            if not frame.intact():                       # overwritten while in use: discard
                boxes = None
        meta, data = ring.copy_latest()                  # a copy, for pixels to keep
        image = camd_ring.to_array(ring.layout, data)    # the same array, over the copy
    # NV12: bgr = cv2.cvtColor(frame.pixels(), cv2.COLOR_YUV2BGR_NV12), then frame.intact()

Install it with `pip install ring/python` (into a venv), or camd's python3-camd-ring package,
or the dist tarball; pip builds nothing: the library is camd's own libcamd_ring.so. It is
found, first match wins, through the CAMD_RING_LIB environment variable (full path to
libcamd_ring.so); a libcamd_ring.so beside this file (camd's packages put a link to the
installed library there); the system library path, as the dynamic loader searches it
(LD_LIBRARY_PATH, the ld.so cache, /usr/lib and the other default directories: no ldconfig
needed); the libdir `pkg-config --variable=libdir camd-ring` gives (PKG_CONFIG_PATH counts).
`library_path` is the file loaded; the ImportError of a failed search names every place tried.

Every error of the library raises RingError, whose message names the file (and, for a
corrupt file, the field); asking about a frame the ring no longer holds raises FrameGone. One
Reader may be used from several threads.
"""

import ctypes
import os
import threading
import time
import weakref
from dataclasses import dataclass
from typing import Dict, Optional, Tuple, Union

__all__ = [
    "OK",
    "NO_FRAME",
    "TIMEOUT",
    "RETIRED",
    "E_ARGUMENT",
    "E_IO",
    "E_FORMAT",
    "E_BUFFER_TOO_SMALL",
    "E_CONTENDED",
    "E_INTERNAL",
    "STATE_STARTING",
    "STATE_OK",
    "STATE_RETRYING",
    "STATE_CONNECTION_FAILED",
    "STATE_NO_SIGNAL",
    "STATE_STOPPED",
    "STATE_NAMES",
    "CODEC_JPEG",
    "CODEC_NV12",
    "CODEC_RGB",
    "CODEC_BGR",
    "CODEC_NAMES",
    "FORMAT_VERSION",
    "RingError",
    "FrameGone",
    "FrameMeta",
    "RingInfo",
    "PixelLayout",
    "Status",
    "BorrowedFrame",
    "Reader",
    "format_version",
    "state_name",
    "codec_name",
    "to_array",
    "to_planes",
    "library_path",
]

# ---- constants (camd_ring.h) ----

OK = 0
NO_FRAME = 1  # the camera has not produced a frame yet
TIMEOUT = 2  # wait_next: no new frame within the timeout
RETIRED = 3  # wait_next: a newer file replaced this one (reopen)
E_ARGUMENT = -1
E_IO = -2
E_FORMAT = -3
E_BUFFER_TOO_SMALL = -4
E_CONTENDED = -5
E_INTERNAL = -6

STATE_STARTING = 0
STATE_OK = 1
STATE_RETRYING = 2
STATE_CONNECTION_FAILED = 3
STATE_NO_SIGNAL = 4
STATE_STOPPED = 5

# RingInfo.codec, PixelLayout.codec: what the frames are (docs/ring-format.md, "Raw frames").
CODEC_JPEG = 1  # whole baseline JPEG files
CODEC_NV12 = 2  # a Y plane (a byte per pixel), then a U,V plane (a pair per 2x2 pixels)
CODEC_RGB = 3  # packed 24-bit pixels, bytes R, G, B
CODEC_BGR = 4  # the same, bytes B, G, R (OpenCV's order)
FORMAT_VERSION = 1

_ERROR_NAMES = {
    E_ARGUMENT: "E_ARGUMENT",
    E_IO: "E_IO",
    E_FORMAT: "E_FORMAT",
    E_BUFFER_TOO_SMALL: "E_BUFFER_TOO_SMALL",
    E_CONTENDED: "E_CONTENDED",
    E_INTERNAL: "E_INTERNAL",
}

_UINT32_MAX = 0xFFFFFFFF
# wait_next sleeps in slices this long so that Ctrl-C (KeyboardInterrupt) is handled promptly.
_WAIT_SLICE_S = 0.5

# ---- the C structs ----


class _FrameMeta(ctypes.Structure):
    _fields_ = [
        ("seq", ctypes.c_uint64),
        ("ts_realtime_ns", ctypes.c_uint64),
        ("ts_mono_ns", ctypes.c_uint64),
        ("len", ctypes.c_uint32),
        ("width", ctypes.c_uint32),
        ("height", ctypes.c_uint32),
        ("slot", ctypes.c_uint32),
    ]


class _FrameView(ctypes.Structure):
    _fields_ = [
        ("data", ctypes.c_void_p),
        ("len", ctypes.c_size_t),
        ("meta", _FrameMeta),
    ]


class _RingInfo(ctypes.Structure):
    _fields_ = [
        ("name", ctypes.c_char * 64),
        ("format_version", ctypes.c_uint32),
        ("slot_count", ctypes.c_uint32),
        ("slot_capacity", ctypes.c_uint32),
        ("codec", ctypes.c_uint32),
        ("width", ctypes.c_uint32),
        ("height", ctypes.c_uint32),
        ("file_size", ctypes.c_uint64),
        ("created_realtime_ns", ctypes.c_uint64),
    ]


class _PixelLayout(ctypes.Structure):
    _fields_ = [
        ("codec", ctypes.c_uint32),
        ("width", ctypes.c_uint32),
        ("height", ctypes.c_uint32),
        ("frame_size", ctypes.c_uint32),
        ("plane_offsets", ctypes.c_uint32 * 2),
        ("plane_strides", ctypes.c_uint32 * 2),
    ]


class _RingStatus(ctypes.Structure):
    _fields_ = [
        ("state", ctypes.c_uint32),
        ("retry_count", ctypes.c_uint32),
        ("max_retry_attempts", ctypes.c_uint32),
        ("writer_pid", ctypes.c_uint32),
        ("generation", ctypes.c_uint64),
        ("latest_seq", ctypes.c_uint64),
        ("next_retry_in_ms", ctypes.c_int64),
        ("state_since_realtime_ns", ctypes.c_uint64),
        ("heartbeat_age_ms", ctypes.c_uint64),
        ("heartbeat_realtime_ns", ctypes.c_uint64),
        ("fps_milli", ctypes.c_uint32),
        ("source_width", ctypes.c_uint32),
        ("source_height", ctypes.c_uint32),
        ("retired", ctypes.c_uint32),
        ("drops", ctypes.c_uint64),
        ("oversize", ctypes.c_uint64),
        ("reconnects", ctypes.c_uint64),
        ("last_error_realtime_ns", ctypes.c_uint64),
        ("input_codec", ctypes.c_char * 16),
        ("decoder", ctypes.c_char * 48),
        ("encoder", ctypes.c_char * 48),
        ("last_error", ctypes.c_char * 256),
    ]


# The same numbers camd_ring.h and capi.rs assert.
assert ctypes.sizeof(_FrameMeta) == 40, "camd_frame_meta"
assert ctypes.sizeof(_FrameView) == 2 * ctypes.sizeof(ctypes.c_void_p) + 40, "camd_frame_view"
assert ctypes.sizeof(_RingInfo) == 104, "camd_ring_info"
assert ctypes.sizeof(_PixelLayout) == 32, "camd_pixel_layout"
assert ctypes.sizeof(_RingStatus) == 480, "camd_ring_status"
assert _RingStatus.fps_milli.offset == 64, "camd_ring_status.fps_milli"
assert _RingStatus.input_codec.offset == 112, "camd_ring_status.input_codec"

# ---- loading the library ----


# Its one name: the library has no SONAME version (nothing installs a libcamd_ring.so.N).
_LIB_NAME = "libcamd_ring.so"


def _dlopen(path: str) -> ctypes.CDLL:
    """Loads the file found at `path`: one that does not load is an error, not a reason to look
    further (it would hide a wrong install)."""
    try:
        return ctypes.CDLL(path)
    except OSError as e:
        raise ImportError(
            "camd_ring: cannot load %s: %s (set CAMD_RING_LIB to the full path of "
            "libcamd_ring.so)" % (path, e)
        ) from e


class _DlInfo(ctypes.Structure):
    _fields_ = [
        ("dli_fname", ctypes.c_char_p),
        ("dli_fbase", ctypes.c_void_p),
        ("dli_sname", ctypes.c_char_p),
        ("dli_saddr", ctypes.c_void_p),
    ]


def _loaded_file(lib: ctypes.CDLL) -> str:
    """The file the dynamic loader chose for a library opened by its bare name: dladdr() of one
    of its functions (in libc since glibc 2.34 and in musl, in libdl.so.2 before)."""
    function = getattr(lib, "camd_ring_format_version", None)
    if function is None:  # not camd's library (_declare says so); the bare name meanwhile
        return _LIB_NAME
    for libc in (None, "libdl.so.2"):
        try:
            dladdr = ctypes.CDLL(libc).dladdr
        except (OSError, AttributeError):
            continue
        dladdr.argtypes = [ctypes.c_void_p, ctypes.POINTER(_DlInfo)]
        dladdr.restype = ctypes.c_int
        info = _DlInfo()
        if dladdr(ctypes.cast(function, ctypes.c_void_p), ctypes.byref(info)) and info.dli_fname:
            return os.path.abspath(os.fsdecode(info.dli_fname))
    return _LIB_NAME  # no dladdr: the name it was loaded by


def _pkg_config_libdir() -> Tuple[Optional[str], str]:
    """camd-ring's libdir as pkg-config gives it (None if it gives none), and what was asked,
    for the error message. PKG_CONFIG_PATH (and PKG_CONFIG_SYSROOT_DIR) count, as for a C
    build. Imported here: only an install without the library beside or on the system path
    gets this far."""
    try:
        import shutil
        import subprocess
    except ImportError as e:  # a trimmed Python without subprocess
        return None, "pkg-config's libdir (cannot run programs: %s)" % e
    asked = "`pkg-config --variable=libdir camd-ring`"
    if os.environ.get("PKG_CONFIG_PATH"):
        asked += " with PKG_CONFIG_PATH=%s" % os.environ["PKG_CONFIG_PATH"]
    program = shutil.which("pkg-config")
    if program is None:
        return None, "pkg-config's libdir (no pkg-config on PATH)"
    try:
        out = subprocess.run(
            [program, "--variable=libdir", "camd-ring"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.SubprocessError) as e:
        return None, "%s (%s)" % (asked, e)
    libdir = os.fsdecode(out.stdout).strip()
    if out.returncode != 0 or not libdir:
        return None, "%s (no camd-ring.pc)" % asked
    return libdir, asked


def _load() -> Tuple[ctypes.CDLL, str]:
    """libcamd_ring and the path of the file loaded, from the first of: CAMD_RING_LIB; a
    libcamd_ring.so beside this file; the system library path, searched by the dynamic loader
    (LD_LIBRARY_PATH, the ld.so cache, then its default directories, /usr/lib among them, so
    no ldconfig is needed); the libdir pkg-config gives for camd-ring."""
    env = os.environ.get("CAMD_RING_LIB")
    if env:
        if not os.path.isfile(env):
            raise ImportError(
                "camd_ring: CAMD_RING_LIB=%r does not name a file; set it to the full path of "
                "libcamd_ring.so (built by `cargo build -p camd-ring` into target/debug/)" % env
            )
        return _dlopen(env), env
    looked = ["$CAMD_RING_LIB (not set)"]
    beside = os.path.join(os.path.dirname(os.path.abspath(__file__)), _LIB_NAME)
    if os.path.isfile(beside):
        return _dlopen(beside), beside
    looked.append(beside)
    try:
        lib = ctypes.CDLL(_LIB_NAME)
    except OSError as e:
        search = "the ld.so cache, the default directories such as /usr/lib"
        if os.environ.get("LD_LIBRARY_PATH"):
            search = "LD_LIBRARY_PATH=%s, %s" % (os.environ["LD_LIBRARY_PATH"], search)
        looked.append("the system library path (%s: %s)" % (search, e))
    else:
        return lib, _loaded_file(lib)
    libdir, asked = _pkg_config_libdir()
    if libdir is not None:
        path = os.path.join(libdir, _LIB_NAME)
        if os.path.isfile(path):
            return _dlopen(path), path
        asked = "%s, the libdir of %s" % (path, asked)
    looked.append(asked)
    raise ImportError(
        "camd_ring: libcamd_ring.so not found; looked at %s. Install camd's reader library "
        "(the libcamd-ring package or the dist tarball), or set CAMD_RING_LIB to the full path "
        "of libcamd_ring.so (built by `cargo build -p camd-ring` into target/debug/)"
        % "; ".join(looked)
    )


_lib, library_path = _load()

_c_ring_p = ctypes.c_void_p  # camd_ring * (opaque)


def _declare(name, restype, argtypes):
    try:
        fn = getattr(_lib, name)
    except AttributeError:
        raise ImportError(
            "camd_ring: %s has no function %s: a libcamd_ring that does not match this module "
            "(set CAMD_RING_LIB to the right one)" % (library_path, name)
        ) from None
    fn.restype = restype
    fn.argtypes = argtypes
    return fn


_format_version = _declare("camd_ring_format_version", ctypes.c_uint32, [])
_last_error = _declare("camd_ring_last_error", ctypes.c_char_p, [])
_state_name = _declare("camd_ring_state_name", ctypes.c_char_p, [ctypes.c_uint32])
_codec_name = _declare("camd_ring_codec_name", ctypes.c_char_p, [ctypes.c_uint32])
_open = _declare("camd_ring_open", ctypes.c_int, [ctypes.c_char_p, ctypes.POINTER(_c_ring_p)])
_close = _declare("camd_ring_close", None, [_c_ring_p])
_get_info = _declare("camd_ring_get_info", ctypes.c_int, [_c_ring_p, ctypes.POINTER(_RingInfo)])
_get_pixel_layout = _declare(
    "camd_ring_get_pixel_layout", ctypes.c_int, [_c_ring_p, ctypes.POINTER(_PixelLayout)]
)
_latest_seq = _declare("camd_ring_latest_seq", ctypes.c_uint64, [_c_ring_p])
_latest = _declare("camd_ring_latest", ctypes.c_int, [_c_ring_p, ctypes.POINTER(_FrameMeta)])
_copy_latest = _declare(
    "camd_ring_copy_latest",
    ctypes.c_int,
    [_c_ring_p, ctypes.c_void_p, ctypes.c_size_t, ctypes.POINTER(_FrameMeta)],
)
_borrow_latest = _declare(
    "camd_ring_borrow_latest", ctypes.c_int, [_c_ring_p, ctypes.POINTER(_FrameView)]
)
_view_intact = _declare(
    "camd_ring_view_intact", ctypes.c_int, [_c_ring_p, ctypes.POINTER(_FrameView)]
)
_camera_time = _declare(
    "camd_ring_camera_time",
    ctypes.c_int,
    [_c_ring_p, ctypes.POINTER(_FrameMeta), ctypes.POINTER(ctypes.c_uint64)],
)
_wait_next = _declare(
    "camd_ring_wait_next",
    ctypes.c_int,
    [_c_ring_p, ctypes.c_uint64, ctypes.c_uint32, ctypes.POINTER(_FrameMeta)],
)
_get_status = _declare(
    "camd_ring_get_status", ctypes.c_int, [_c_ring_p, ctypes.POINTER(_RingStatus)]
)
_writer_alive = _declare("camd_ring_writer_alive", ctypes.c_int, [_c_ring_p, ctypes.c_uint32])
_is_replaced = _declare("camd_ring_is_replaced", ctypes.c_int, [_c_ring_p])

if _format_version() != FORMAT_VERSION:
    raise ImportError(
        "camd_ring: %s reads ring format %d, this module expects %d"
        % (library_path, _format_version(), FORMAT_VERSION)
    )


def format_version() -> int:
    """The ring format version the loaded library reads."""
    return int(_format_version())


def state_name(state: int) -> str:
    """"starting", "ok", "retrying", "connection_failed", "no_signal", "stopped" or "unknown"."""
    return _state_name(state & _UINT32_MAX).decode("ascii")


# The names come from the library (one table, in the Rust core), not from a copy here.
STATE_NAMES = {
    raw: state_name(raw)
    for raw in (
        STATE_STARTING,
        STATE_OK,
        STATE_RETRYING,
        STATE_CONNECTION_FAILED,
        STATE_NO_SIGNAL,
        STATE_STOPPED,
    )
}  # any other value: "unknown"


def codec_name(codec: int) -> str:
    """"jpeg", "nv12", "rgb", "bgr" (camd's `format` names) or "unknown"."""
    return _codec_name(codec & _UINT32_MAX).decode("ascii")


# From the library too.
CODEC_NAMES = {raw: codec_name(raw) for raw in (CODEC_JPEG, CODEC_NV12, CODEC_RGB, CODEC_BGR)}


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace")


def _ms(seconds: float) -> int:
    """Seconds to a uint32 millisecond count, rounded up (a tiny positive timeout is not 0)."""
    if seconds != seconds or seconds < 0:  # NaN or negative
        raise ValueError("timeout must be a number of seconds >= 0, got %r" % (seconds,))
    ms = seconds * 1000.0
    if ms >= _UINT32_MAX:  # also infinity
        return _UINT32_MAX
    whole = int(ms)
    if whole < ms:
        whole += 1
    return min(whole, _UINT32_MAX)


# ---- errors ----


class RingError(Exception):
    """An error of libcamd_ring. `code` is the negative E_* code, `message` the library's message
    (it names the ring file and, for a corrupt file, the field, e.g. "header.magic")."""

    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code
        self.message = message

    @property
    def code_name(self) -> str:
        return _ERROR_NAMES.get(self.code, str(self.code))

    def __repr__(self) -> str:
        return "RingError(%s, %r)" % (self.code_name, self.message)


class FrameGone(LookupError):
    """The ring no longer holds the frame asked about: the writer reused its slot for a newer
    frame (after slot_count - 1 newer ones). Not an error of the file: ask sooner."""

    def __init__(self, seq: int):
        super().__init__("frame %d is no longer in the ring (its slot holds a newer frame)" % seq)
        self.seq = seq


def _check(code: int) -> int:
    """Returns code if it is an outcome (>= 0); raises RingError for an error code."""
    if code < 0:
        message = _text(_last_error() or b"") or "camd_ring error %d" % code
        raise RingError(code, message)
    return code


# ---- results ----


@dataclass(frozen=True)
class FrameMeta:
    seq: int  # 1 for the ring's first frame, +1 per frame
    ts_realtime_ns: int  # capture time, CLOCK_REALTIME
    ts_mono_ns: int  # capture time, CLOCK_MONOTONIC
    len: int  # frame length in bytes (a raw ring's frame_size)
    width: int
    height: int
    slot: int

    def age_s(self) -> float:
        """Seconds since the frame was captured (CLOCK_MONOTONIC)."""
        return (time.clock_gettime_ns(time.CLOCK_MONOTONIC) - self.ts_mono_ns) / 1e9

    @classmethod
    def _from_c(cls, m: _FrameMeta) -> "FrameMeta":
        return cls(m.seq, m.ts_realtime_ns, m.ts_mono_ns, m.len, m.width, m.height, m.slot)

    def _to_c(self) -> _FrameMeta:
        return _FrameMeta(
            self.seq, self.ts_realtime_ns, self.ts_mono_ns, self.len, self.width, self.height,
            self.slot,
        )


def _camera_time_ns(ptr: _c_ring_p, meta: _FrameMeta) -> Optional[int]:
    """camd_ring_camera_time: the time, None without one; FrameGone if the frame left the ring."""
    out = ctypes.c_uint64()
    if _check(_camera_time(ptr, ctypes.byref(meta), ctypes.byref(out))) == NO_FRAME:
        raise FrameGone(meta.seq)
    return out.value or None


@dataclass(frozen=True)
class RingInfo:
    name: str  # camera name
    format_version: int
    slot_count: int
    slot_capacity: int  # largest frame in bytes
    codec: int  # CODEC_JPEG, CODEC_NV12, CODEC_RGB or CODEC_BGR
    width: int  # configured output size (0 if unknown; a raw ring's frames are this size)
    height: int
    file_size: int
    created_realtime_ns: int
    codec_name: str  # "jpeg", "nv12", "rgb" or "bgr"


@dataclass(frozen=True)
class PixelLayout:
    """Where a raw ring's pixels are (Reader.layout; camd_pixel_layout; docs/ring-format.md, "Raw
    frames"). Every frame is frame_size bytes; row r of plane p starts at plane_offsets[p] + r *
    plane_strides[p] from the frame's first byte, and the bytes after a row's pixels, up to the
    next row, are padding. NV12 has plane 0 (Y: height rows of width bytes) and plane 1 (U and V
    interleaved, U first: height // 2 rows of width bytes, a U,V pair per 2x2 pixels); RGB and
    BGR have plane 0 (height rows of width * 3 bytes) and zeros for plane 1."""

    codec: int  # CODEC_NV12, CODEC_RGB or CODEC_BGR
    width: int
    height: int
    frame_size: int  # bytes of every frame
    plane_offsets: Tuple[int, int]  # from the frame's first byte
    plane_strides: Tuple[int, int]  # bytes from one row to the next

    @property
    def codec_name(self) -> str:
        return codec_name(self.codec)

    @property
    def plane_count(self) -> int:
        return 2 if self.codec == CODEC_NV12 else 1

    def plane_shape(self, plane: int) -> Tuple[int, int]:
        """Bytes of pixels in each row of `plane`, and its rows ((0, 0) for a plane the codec does
        not have)."""
        if self.codec == CODEC_NV12 and plane in (0, 1):
            return self.width, self.height if plane == 0 else self.height // 2
        if self.codec in (CODEC_RGB, CODEC_BGR) and plane == 0:
            return self.width * 3, self.height
        return 0, 0

    def plane_span(self, plane: int) -> Tuple[int, int]:
        """Where `plane` is in a frame: from its first byte to the end of its last row's pixels."""
        row, rows = self.plane_shape(plane)
        start = self.plane_offsets[plane] if rows else 0
        return start, start + (self.plane_strides[plane] * (rows - 1) + row if rows else 0)


# ---- raw pixels as numpy arrays ----

_numpy_module = None  # numpy once imported; False once the import failed


def _numpy():
    """numpy, imported on first use (this module needs only the standard library); None when it
    cannot be imported."""
    global _numpy_module
    if _numpy_module is None:
        try:
            import numpy
        except ImportError:
            _numpy_module = False
        else:
            _numpy_module = numpy
    return _numpy_module or None


def _array_shapes(layout: PixelLayout, planes: bool, what: str):
    """(offset, shape, strides) of each array pixels() (one) or planes() (one per plane) makes
    of a frame in `layout`, uint8 elements. RingError if one array cannot hold an NV12 frame."""
    (o0, o1), (s0, s1) = layout.plane_offsets, layout.plane_strides
    w, h = layout.width, layout.height
    if layout.codec in (CODEC_RGB, CODEC_BGR):
        return [(o0, (h, w, 3), (s0, 3, 1))]
    if layout.codec != CODEC_NV12:
        raise RingError(E_ARGUMENT, "%s: codec %d has no pixel arrays" % (what, layout.codec))
    if planes:
        return [(o0, (h, w), (s0, 1)), (o1, (h // 2, w // 2, 2), (s1, 2, 1))]
    if (o1, s1) != (o0 + s0 * h, s0):
        raise RingError(
            E_ARGUMENT,
            "%s: the NV12 UV plane starts at byte %d with rows %d bytes apart, not right after "
            "the Y plane (byte %d) with its stride %d, so no one array holds the frame: use "
            "planes()" % (what, o1, s1, o0 + s0 * h, s0),
        )
    return [(o0, (h * 3 // 2, w), (s0, 1))]


def _extent(offset: int, shape, strides) -> int:
    """One past the last byte an array of `shape` and `strides` at `offset` reads."""
    return offset + sum((n - 1) * s for n, s in zip(shape, strides)) + 1


class _Pixels:
    """The base of an array over a borrowed frame: its __array_interface__ points into the ring
    mapping, read-only, and it holds the reader's handle, so the mapping stays for as long as the
    array (or any view of it) lives, whatever happens to the BorrowedFrame and the Reader."""

    __slots__ = ("__array_interface__", "_handle")


def _raw_layout(layout: Optional[PixelLayout], what: str) -> PixelLayout:
    if layout is None:
        raise RingError(
            E_ARGUMENT,
            "invalid argument: %s holds JPEG frames, not raw pixels: decode the bytes (e.g. "
            "cv2.imdecode), or configure the camera with format = \"rgb\", \"bgr\" or \"nv12\""
            % what,
        )
    return layout


def _in_copy(layout: Optional[PixelLayout], data, planes: bool):
    layout = _raw_layout(layout, "the ring")
    view = memoryview(data).cast("B").toreadonly()
    if view.nbytes != layout.frame_size:
        raise RingError(
            E_ARGUMENT,
            "invalid argument: a %s frame of %dx%d is %d bytes, not %d"
            % (layout.codec_name, layout.width, layout.height, layout.frame_size, view.nbytes),
        )
    np = _numpy()
    if np is None:
        if not planes:
            return view
        return tuple(view[slice(*layout.plane_span(p))] for p in range(layout.plane_count))
    flat = np.frombuffer(view, dtype=np.uint8)
    arrays = tuple(
        np.ndarray(shape, np.uint8, buffer=flat, offset=offset, strides=strides)
        for offset, shape, strides in _array_shapes(layout, planes, "the copy")
    )
    return arrays if planes else arrays[0]


def to_array(layout: Optional[PixelLayout], data):
    """A copied raw frame (copy_latest()'s bytes) as BorrowedFrame.pixels() gives a frame in
    place: with numpy, the read-only array of the same shape and strides over `data` (no
    further copy); without numpy, `data` as a read-only memoryview. `layout` is
    the ring's (Reader.layout). RingError (E_ARGUMENT) when layout is None (a JPEG ring), when
    data is not layout.frame_size bytes, and, with numpy, for an NV12 layout whose planes are not
    one after the other (see pixels())."""
    return _in_copy(layout, data, planes=False)


def to_planes(layout: Optional[PixelLayout], data):
    """A copied raw frame's planes, as BorrowedFrame.planes() gives them in place: a tuple of
    numpy arrays over `data` (NV12: Y and UV; RGB and BGR: one), or without numpy a tuple of
    read-only memoryviews, each plane from its first byte to the end of its last row's pixels."""
    return _in_copy(layout, data, planes=True)


@dataclass(frozen=True)
class Status:
    """A consistent snapshot of a camera's status (camd_ring_status)."""

    state: str  # "ok", "retrying", "connection_failed", "no_signal", "starting", "stopped", "unknown"
    state_code: int  # STATE_* value
    retry_count: int
    max_retry_attempts: int
    writer_pid: int
    generation: int  # changes whenever a writer (re)starts
    latest_seq: int  # frames published
    next_retry_in_ms: int  # -1 if no retry is pending
    next_retry_in_s: Optional[float]  # None if no retry is pending
    state_since_realtime_ns: int
    heartbeat_age_ms: int  # time since the writer's last sign of life
    heartbeat_realtime_ns: int
    fps_milli: int
    fps: float  # measured frames per second
    source_width: int
    source_height: int
    retired: bool  # a newer file replaced this one: close and reopen
    drops: int
    oversize: int
    reconnects: int
    last_error_realtime_ns: int
    input_codec: str
    decoder: str
    encoder: str
    last_error: str  # "" if none

    @classmethod
    def _from_c(cls, s: _RingStatus) -> "Status":
        return cls(
            state=state_name(s.state),
            state_code=s.state,
            retry_count=s.retry_count,
            max_retry_attempts=s.max_retry_attempts,
            writer_pid=s.writer_pid,
            generation=s.generation,
            latest_seq=s.latest_seq,
            next_retry_in_ms=s.next_retry_in_ms,
            next_retry_in_s=None if s.next_retry_in_ms < 0 else s.next_retry_in_ms / 1000.0,
            state_since_realtime_ns=s.state_since_realtime_ns,
            heartbeat_age_ms=s.heartbeat_age_ms,
            heartbeat_realtime_ns=s.heartbeat_realtime_ns,
            fps_milli=s.fps_milli,
            fps=s.fps_milli / 1000.0,
            source_width=s.source_width,
            source_height=s.source_height,
            retired=bool(s.retired),
            drops=s.drops,
            oversize=s.oversize,
            reconnects=s.reconnects,
            last_error_realtime_ns=s.last_error_realtime_ns,
            input_codec=_text(s.input_codec),
            decoder=_text(s.decoder),
            encoder=_text(s.encoder),
            last_error=_text(s.last_error),
        )

    def as_python_dict(self) -> Dict[str, Union[str, int, float, None]]:
        """The status in the shape of the former Python implementation's status dict:

        status        state name ("ok", "retrying", "connection_failed", "no_signal", ...)
        retry_count   consecutive failed connection attempts
        max_retries   the limit after which the state becomes "connection_failed"
        next_retry_in seconds until the next connection attempt, None if none is pending
        fps           measured frames per second
        last_error    the last error message, None if none
        ts            the writer's last sign of life, seconds since the epoch (float)
        """
        return {
            "status": self.state,
            "retry_count": self.retry_count,
            "max_retries": self.max_retry_attempts,
            "next_retry_in": self.next_retry_in_s,
            "fps": self.fps,
            "last_error": self.last_error or None,
            "ts": self.heartbeat_realtime_ns / 1e9,
        }


# ---- the reader ----


class _Handle:
    """Owns one camd_ring handle. Borrowed frames' buffers keep it alive, so the mapping a
    memoryview points into is never unmapped under it (not even by Reader.close())."""

    __slots__ = ("ptr", "__weakref__")

    def __init__(self, ptr: _c_ring_p):
        self.ptr = ptr

    def close(self) -> None:
        ptr, self.ptr = self.ptr, None
        if ptr is not None and _close is not None:
            _close(ptr)

    def __del__(self):
        self.close()


class BorrowedFrame:
    """The newest frame in place, with no copy (Reader.borrow_latest()).

    `data` is a read-only memoryview of the frame (the JPEG, or a raw ring's frame_size bytes)
    inside the shared mapping; pixels() and planes() give a raw frame's pixels as numpy arrays
    over the same bytes. The writer does not wait for readers: once done with the bytes or the
    arrays (or with what was computed from them), call intact(); False means the slot was
    overwritten meanwhile and the result must be discarded. Use as a context manager (or call
    release()) to drop the view when done.
    """

    __slots__ = ("meta", "data", "_view", "_handle", "_layout", "_path", "__weakref__")

    def __init__(
        self,
        handle: _Handle,
        view: _FrameView,
        layout: Optional[PixelLayout] = None,
        path: str = "",
    ):
        # Weak: once `data` is released, the frame does not keep a closed Reader's file mapped.
        self._handle = weakref.ref(handle)
        self._view = view
        self._layout = layout
        self._path = path
        self.meta = FrameMeta._from_c(view.meta)
        if view.len:
            raw = (ctypes.c_char * view.len).from_address(view.data)
            # The memoryview keeps `raw` alive and `raw` keeps the handle (the mapping) alive.
            raw._camd_ring_handle = handle
            self.data = memoryview(raw).cast("B").toreadonly()
        else:
            self.data = memoryview(b"")

    def _ptr(self) -> _c_ring_p:
        handle = self._handle()
        ptr = None if handle is None else handle.ptr
        if ptr is None:
            raise RingError(E_ARGUMENT, "invalid argument: the ring reader is closed")
        return ptr

    def intact(self) -> bool:
        """True while the slot still holds this frame (call after using the bytes)."""
        return _check(_view_intact(self._ptr(), ctypes.byref(self._view))) == 1

    def camera_time_ns(self) -> Optional[int]:
        """The frame's capture time by the camera's own clock, None if it has none (see
        Reader.camera_time_ns); raises FrameGone once the slot was overwritten."""
        return _camera_time_ns(self._ptr(), self._view.meta)

    def pixels(self):
        """A raw frame's pixels in place, no copy. With numpy: a read-only uint8 array over the
        slot in the shared mapping; RGB and BGR (height, width, 3), strides (plane_strides[0], 3,
        1), the bytes in the codec's order (BGR is OpenCV's); NV12 (height * 3 // 2, width),
        strides (plane_strides[0], 1): the Y rows, then the UV rows, as
        cv2.cvtColor(a, cv2.COLOR_YUV2BGR_NV12) takes it. That needs the UV plane right after the
        Y plane with the same stride, as camd writes it; another layout raises RingError
        (E_ARGUMENT) saying so (planes() reads any). Without numpy (not installed): `data`, the
        frame's bytes, a read-only memoryview to index with Reader.layout's offsets and strides.

        Raises FrameGone if the slot no longer holds this frame once the array is made, and
        RingError (E_ARGUMENT) for a JPEG ring, a released frame or a closed Reader. The array
        is the slot itself: the writer does not wait, and reuses the slot after slot_count - 1
        newer frames, so call intact() after using the array (or what was computed from it),
        exactly as with `data`; False means the pixels changed under it: discard the result.
        The array keeps the ring mapped as long as it lives (release() and Reader.close() still
        work meanwhile); copy it (a.copy(), or copy_latest() and to_array()) to keep pixels.
        """
        return self._pixels(planes=False)

    def planes(self):
        """A raw frame's planes in place, no copy, for any valid layout: with numpy, a tuple of
        read-only uint8 arrays over the slot; NV12 (Y, UV): Y (height, width), strides
        (plane_strides[0], 1), and UV (height // 2, width // 2, 2), strides (plane_strides[1], 2,
        1), U at [..., 0] and V at [..., 1] (cv2.cvtColorTwoPlane(y, uv,
        cv2.COLOR_YUV2BGR_NV12)); RGB and BGR, the one array pixels() gives. Without numpy, a
        tuple of read-only memoryviews, each plane from its first byte to the end of its last
        row's pixels (PixelLayout.plane_span). Raises, and must be checked with intact() after
        use, as pixels()."""
        return self._pixels(planes=True)

    def _pixels(self, planes: bool):
        what = "ring file %s" % self._path
        layout = _raw_layout(self._layout, what)
        try:
            length = self.data.nbytes
        except ValueError:  # released
            raise RingError(E_ARGUMENT, "invalid argument: the frame was released") from None
        handle = self._handle()
        if handle is None or handle.ptr is None:
            raise RingError(E_ARGUMENT, "invalid argument: the ring reader is closed")
        if length != layout.frame_size:  # the library refuses such a frame: never here
            message = "%s: a frame of %d bytes, not %d" % (what, length, layout.frame_size)
            raise RingError(E_FORMAT, message)
        np = _numpy()
        if np is None:
            if planes:
                result = tuple(
                    self.data[slice(*layout.plane_span(p))] for p in range(layout.plane_count)
                )
            else:
                result = self.data
        else:
            arrays = []
            for offset, shape, strides in _array_shapes(layout, planes, what):
                if _extent(offset, shape, strides) > length:  # check 17 makes this impossible
                    raise RingError(E_FORMAT, "%s: a plane beyond the frame" % what)
                base = _Pixels()
                base._handle = handle
                base.__array_interface__ = {
                    "version": 3,
                    "typestr": "|u1",
                    "shape": shape,
                    "strides": strides,
                    "data": (self._view.data + offset, True),  # True: read-only
                }
                arrays.append(np.asarray(base))
            result = tuple(arrays) if planes else arrays[0]
        if not self.intact():
            raise FrameGone(self.meta.seq)
        return result

    def release(self) -> None:
        """Releases `data` (idempotent); pixels() and planes() then raise RingError. Fails
        with BufferError while something holds a buffer of `data` itself. Arrays from pixels()
        and planes() do not, and keep the mapping themselves; so does np.frombuffer(frame.data)
        with NumPy 1.23 or later (Debian 12 has 1.24), which makes a view of its own. (With
        older NumPy such an array may keep nothing: do not use it after release().)"""
        self.data.release()

    def __enter__(self) -> "BorrowedFrame":
        return self

    def __exit__(self, *exc) -> None:
        self.release()

    def __repr__(self) -> str:
        return "BorrowedFrame(%r)" % (self.meta,)


class Reader:
    """An open ring file (camd_ring_open): maps it read-only after validating it.

    A context manager; close() is idempotent and also runs when the Reader is garbage
    collected. Every library error raises RingError; so does using a closed Reader.
    """

    def __init__(self, path: Union[str, bytes, "os.PathLike[str]"]):
        self._handle: Optional[_Handle] = None
        self._borrowed: "weakref.WeakSet[BorrowedFrame]" = weakref.WeakSet()
        self._buf = None
        self._buf_lock = threading.Lock()
        self._info: Optional[RingInfo] = None
        self._layout: Optional[PixelLayout] = None
        self._layout_read = False
        self.path = os.fsdecode(path)
        ptr = _c_ring_p()
        _check(_open(os.fsencode(path), ctypes.byref(ptr)))
        self._handle = _Handle(ptr)

    # -- lifetime --

    def close(self) -> None:
        """Releases the borrowed frames' memoryviews and closes the ring (idempotent). Views
        that cannot be released (exported further), and the arrays of BorrowedFrame.pixels() and
        planes(), keep the mapping until they are gone."""
        handle, self._handle = self._handle, None
        if handle is None:
            return
        for frame in list(self._borrowed):
            try:
                frame.release()
            except BufferError:
                pass
        self._buf = None
        # Closes now unless a memoryview (or a slice of one) still points into the mapping.
        del handle

    @property
    def closed(self) -> bool:
        return self._handle is None

    def __enter__(self) -> "Reader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self):
        if getattr(self, "_handle", None) is not None:
            self.close()

    def __repr__(self) -> str:
        return "Reader(%r%s)" % (self.path, ", closed" if self.closed else "")

    def _ptr(self) -> _c_ring_p:
        handle = self._handle
        if handle is None or handle.ptr is None:
            raise RingError(E_ARGUMENT, "ring file %s: the reader is closed" % self.path)
        return handle.ptr

    # -- reading --

    @property
    def info(self) -> RingInfo:
        """Camera name, slot count and capacity, codec, configured size (fixed for the file)."""
        if self._info is None:
            out = _RingInfo()
            _check(_get_info(self._ptr(), ctypes.byref(out)))
            self._info = RingInfo(
                name=_text(out.name),
                format_version=out.format_version,
                slot_count=out.slot_count,
                slot_capacity=out.slot_capacity,
                codec=out.codec,
                width=out.width,
                height=out.height,
                file_size=out.file_size,
                created_realtime_ns=out.created_realtime_ns,
                codec_name=codec_name(out.codec),
            )
        return self._info

    @property
    def layout(self) -> Optional[PixelLayout]:
        """Where a raw ring's pixels are (fixed for the file; checked when it was opened), None
        for a JPEG ring: `if ring.layout:` tells the two apart. See BorrowedFrame.pixels() and
        to_array()."""
        if not self._layout_read:
            out = _PixelLayout()
            _check(_get_pixel_layout(self._ptr(), ctypes.byref(out)))
            if out.codec != CODEC_JPEG:
                self._layout = PixelLayout(
                    codec=out.codec,
                    width=out.width,
                    height=out.height,
                    frame_size=out.frame_size,
                    plane_offsets=tuple(out.plane_offsets),
                    plane_strides=tuple(out.plane_strides),
                )
            self._layout_read = True
        return self._layout

    def latest_seq(self) -> int:
        """Sequence number of the newest frame (0: none yet)."""
        return int(_latest_seq(self._ptr()))

    def latest(self) -> Optional[FrameMeta]:
        """Metadata of the newest frame, None before the first."""
        out = _FrameMeta()
        if _check(_latest(self._ptr(), ctypes.byref(out))) == NO_FRAME:
            return None
        return FrameMeta._from_c(out)

    def copy_latest(self) -> Optional[Tuple[FrameMeta, bytes]]:
        """The newest frame and a copy of its bytes (never torn), None before the first. A raw
        frame's bytes as an array: to_array(ring.layout, data)."""
        ptr = self._ptr()
        with self._buf_lock:
            if self._buf is None:
                self._buf = (ctypes.c_char * self.info.slot_capacity)()
            buf = self._buf
            out = _FrameMeta()
            if _check(_copy_latest(ptr, buf, len(buf), ctypes.byref(out))) == NO_FRAME:
                return None
            return FrameMeta._from_c(out), bytes(buf[: out.len])

    def borrow_latest(self) -> Optional[BorrowedFrame]:
        """The newest frame in place (no copy), None before the first. See BorrowedFrame."""
        ptr = self._ptr()
        layout = self.layout
        view = _FrameView()
        if _check(_borrow_latest(ptr, ctypes.byref(view))) == NO_FRAME:
            return None
        frame = BorrowedFrame(self._handle, view, layout, self.path)
        self._borrowed.add(frame)
        return frame

    def camera_time_ns(self, meta: FrameMeta) -> Optional[int]:
        """The capture time of the frame `meta` describes (from latest(), copy_latest(),
        wait_next() or a BorrowedFrame), by the camera's own clock, in ns since the Unix epoch.
        None if the frame has none: the camera gives it only once its first RTCP sender report
        has come (about the stream's first second), and V4L2 cameras and cameras that send no
        reports never do. The camera's clock may be off from this machine's by any amount.
        Raises FrameGone if the ring no longer holds the frame (ask soon after reading it)."""
        return _camera_time_ns(self._ptr(), meta._to_c())

    def wait_next(self, after_seq: int, timeout_s: float) -> Optional[FrameMeta]:
        """Blocks until a frame newer than after_seq exists and returns its metadata, or returns
        None after timeout_s seconds, or at once if the file has been replaced by a newer one
        (then is_replaced() is True: reopen). Pass latest_seq() to wait for the next frame.
        Other Python threads run meanwhile, and Ctrl-C interrupts it."""
        deadline = time.monotonic() + timeout_s if _ms(timeout_s) else None
        out = _FrameMeta()
        while True:
            remaining = 0.0 if deadline is None else deadline - time.monotonic()
            slice_ms = _ms(min(max(remaining, 0.0), _WAIT_SLICE_S))
            code = _check(_wait_next(self._ptr(), after_seq, slice_ms, ctypes.byref(out)))
            if code == OK:
                return FrameMeta._from_c(out)
            if code == RETIRED:
                return None
            if deadline is None or time.monotonic() >= deadline:
                return None
            # The library also returns TIMEOUT at once when the file is retired (replaced by a
            # newer one): no frame will come here, so do not wait out the rest of timeout_s.
            if self._retired():
                return None

    def _retired(self) -> bool:
        out = _RingStatus()
        _check(_get_status(self._ptr(), ctypes.byref(out)))
        return bool(out.retired)

    def status(self) -> Status:
        """A consistent status snapshot."""
        out = _RingStatus()
        _check(_get_status(self._ptr(), ctypes.byref(out)))
        return Status._from_c(out)

    def writer_alive(self, timeout_s: float = 3.0) -> bool:
        """True if the writer gave a sign of life within timeout_s seconds."""
        return _check(_writer_alive(self._ptr(), _ms(timeout_s))) == 1

    def is_replaced(self) -> bool:
        """True if the path now names another file (or none): close and open a new Reader."""
        return _check(_is_replaced(self._ptr())) == 1
