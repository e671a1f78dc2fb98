#!/usr/bin/env python3
"""Independent reader of camd ring files, written from docs/ring-format.md alone.

Usage: python3 spec_reader.py RING [--wait N] [--timeout-ms T]

Output (stdout, compared byte for byte with the C, Rust and Python-over-C readers):

    info name=<name> slots=<slot_count> capacity=<slot_capacity> codec=<jpeg|nv12|rgb|bgr> width=<w> height=<h>
    layout frame_size=<n> plane_offsets=<o0>,<o1> plane_strides=<s0>,<s1>     (raw codecs only)
    status state=<state name|unknown> generation=<generation> latest_seq=<latest_seq>

then, without --wait, the latest frame (or "no frame"):

    frame seq=<seq> len=<len> width=<w> height=<h> ts_mono_ns=<ns> ts_camera_ns=<ns|none> fnv1a=<16 hex>

and for a raw frame its first and last pixels ("Raw frames": R,G,B for RGB and BGR, Y,U,V for
NV12):

    pixel x=0 y=0 rgb=<r>,<g>,<b>            (NV12: yuv=<y>,<u>,<v>)
    pixel x=<width-1> y=<height-1> rgb=<r>,<g>,<b>

With --wait N: "ready", then N frame lines, each the newest frame newer than the previous
one; "timeout" and exit status 3 when a wait runs out (each wait has its own timeout).

Errors: "spec_reader: <path>: <field>: <problem>" on stderr, exit status 1.

Only the Python standard library is used; this file deliberately does not use the camd_ring
binding or libcamd_ring: it exists to prove that the document is a sufficient specification.

Notes on atomicity and ordering in Python
------------------------------------------
The spec asks for atomic loads of the exact field width (and acquire loads / fences). Python
has no atomics, so:

* Loads. Every multi-byte field is read with struct.Struct("<I"/"<Q").unpack_from(mm, off).
  On a little-endian host CPython's _struct module swaps the little-endian ('<') unpackers for
  the native ones whenever the sizes match (see _structmodule_exec, "Check endian and swap in
  faster functions"), and the native unpackers do `memcpy(&x, p, sizeof x)` with a constant
  size, which every compiler turns into ONE 4- or 8-byte load instruction. Every atomic field
  of the format is naturally aligned (checked by the offsets below and by the validation:
  slots_offset and slot_stride are multiples of 64), and aligned 4/8-byte loads are
  single-copy atomic on x86-64 and on aarch64 (and 8-byte ones are what the hardware gives
  "relaxed" atomics anyway). This is "in practice", not a language guarantee; what makes the
  result CONSISTENT is not the single load but the spec's sequence locks: every value taken
  from a slot or from the status block is only used if the sequence word read before and
  after it is unchanged, so even a torn load would be discarded. The only values used outside
  a sequence lock are index.latest_seq (a torn value would just name a slot whose seq does not
  match, so the frame protocol retries) and liveness.retired (any non-zero value means
  retired).

* Ordering. x86-64 is TSO: loads are not reordered with older loads, so program order of the
  unpack_from calls (separate C calls, the compiler cannot merge or reorder them) already
  gives acquire semantics. aarch64 may reorder independent loads, so _acquire_fence() below
  releases and re-acquires a private threading.Lock: a store-release followed by a
  load-acquire RMW (sem_post / sem_wait on CPython <= 3.12, PyMutex atomics on 3.13+) orders
  every earlier load before every later one on ARMv8 (release-acquire is RCsc there). It is
  called exactly where the spec places acquire loads and acquire fences. It costs a few
  hundred nanoseconds and is harmless on x86-64.

* Frame bytes are copied with one slice of the mmap (a memcpy); the copy is accepted only if
  the slot's sequence word is unchanged after it (the spec's copy protocol), so it is never
  torn.

* Waiting. The spec's blocking protocol sleeps in FUTEX_WAIT on index.notify, which the
  writer wakes after every publish. Python has no usable address for a read-only mmap
  (ctypes' from_buffer refuses read-only buffers), so no futex; the spec says "a reader without
  futexes polls", and the reference polls every 2 ms for files without compat bit 0. This
  reader polls every 1 ms and writes nothing, as no reader does. The polling loop keeps the
  spec's order of checks (latest_seq,
  then timeout / liveness.retired).
"""

import mmap
import os
import struct
import sys
import threading
import time

# ---------------------------------------------------------------------------------------------
# Layout (docs/ring-format.md, "Layout" and its tables)

MAGIC = b"CAMDRING"
VERSION = 1
HEADER_SIZE = 4096
SLOT_HEADER_SIZE = 64
MIN_FILE_LEN = 256
MIN_SLOTS, MAX_SLOTS = 2, 4096
MIN_CAPACITY, MAX_CAPACITY = 1, 268435456
MAX_DIMENSION = 16384
KNOWN_INCOMPAT_FEATURES = 0  # version 1 defines no bits
COMPAT_CAMERA_TIME = 1 << 1  # header.compat_features bit 1, "camera time"
SLOT_FLAG_CAMERA_TIME = 1 << 0  # slot.flags bit 0, "camera time"
CODEC_JPEG = 1
CODEC_NV12 = 2
CODEC_RGB = 3
CODEC_BGR = 4
CODEC_NAMES = {CODEC_JPEG: "jpeg", CODEC_NV12: "nv12", CODEC_RGB: "rgb", CODEC_BGR: "bgr"}
KNOWN_CODECS = tuple(CODEC_NAMES)
U64_MAX = (1 << 64) - 1

# static header
H_MAGIC = 0
H_VERSION = 8
H_HEADER_SIZE = 12
H_FILE_SIZE = 16
H_SLOTS_OFFSET = 24
H_SLOT_STRIDE = 32
H_SLOT_COUNT = 40
H_SLOT_CAPACITY = 44
H_SLOT_HEADER_SIZE = 48
H_CODEC = 52
H_WIDTH = 56
H_HEIGHT = 60
H_COMPAT = 64
H_INCOMPAT = 68
H_CREATED_REALTIME_NS = 72
H_NAME = 80
H_NAME_LEN = 64
H_PLANE_OFFSETS = 144  # u32[2]
H_PLANE_STRIDES = 152  # u32[2]
H_FRAME_SIZE = 160

# frame index
I_LATEST_SEQ = 256
I_NOTIFY = 264

# liveness
L_HEARTBEAT_MONO_NS = 320
L_HEARTBEAT_REALTIME_NS = 328
L_RETIRED = 336

# status block
S_SEQ = 384
S_STATE = 392
S_RETRY_COUNT = 396
S_MAX_RETRY_ATTEMPTS = 400
S_WRITER_PID = 404
S_GENERATION = 408
S_NEXT_RETRY_MONO_NS = 416
S_STATE_SINCE_REALTIME_NS = 424
S_FPS_MILLI = 432
S_SOURCE_WIDTH = 436
S_SOURCE_HEIGHT = 440
S_DROPS = 448
S_OVERSIZE = 456
S_RECONNECTS = 464
S_LAST_ERROR_REALTIME_NS = 472
S_INPUT_CODEC = (480, 16)
S_DECODER = (496, 48)
S_ENCODER = (544, 48)
S_LAST_ERROR = (592, 256)

# slot header (relative to the slot start)
SL_SEQ = 0
SL_LEN = 8
SL_WIDTH = 12
SL_HEIGHT = 16
SL_FLAGS = 20
SL_TS_REALTIME_NS = 24
SL_TS_MONO_NS = 32
SL_TS_CAMERA_NS = 40

STATE_NAMES = {
    0: "starting",
    1: "ok",
    2: "retrying",
    3: "connection_failed",
    4: "no_signal",
    5: "stopped",
}

# The reference gives up after 1000 attempts ("contended").
MAX_ATTEMPTS = 1000
POLL_INTERVAL_S = 0.001

FNV_OFFSET_BASIS = 0xCBF29CE484222325
FNV_PRIME = 0x100000001B3

# ---------------------------------------------------------------------------------------------
# Loads and fences (see the module docstring)

_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")


def ld32(mm, off):
    """Aligned 4-byte load (single instruction in practice, see module docstring)."""
    return _U32.unpack_from(mm, off)[0]


def ld64(mm, off):
    """Aligned 8-byte load (single instruction in practice, see module docstring)."""
    return _U64.unpack_from(mm, off)[0]


_fence_lock = threading.Lock()
_fence_lock.acquire()


def _acquire_fence():
    """Orders every earlier load before every later load (release + acquire of a private lock)."""
    _fence_lock.release()
    _fence_lock.acquire()


def ld32_acquire(mm, off):
    v = ld32(mm, off)
    _acquire_fence()
    return v


def ld64_acquire(mm, off):
    v = ld64(mm, off)
    _acquire_fence()
    return v


# ---------------------------------------------------------------------------------------------


class SpecError(Exception):
    def __init__(self, field, problem):
        Exception.__init__(self, "%s: %s" % (field, problem))
        self.field = field
        self.problem = problem


class Ring(object):
    pass


def open_ring(path):
    """Opens, maps and validates a ring (spec: "Opening a file: validation")."""
    try:
        # O_NONBLOCK: opening a FIFO by mistake must not hang; harmless for a regular file.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError as e:
        raise SpecError("file", "cannot open: %s" % (e.strerror or e))
    try:
        try:
            file_len = os.fstat(fd).st_size
        except OSError as e:
            raise SpecError("file", "cannot stat: %s" % (e.strerror or e))
        # 1. (before mapping: an empty file cannot be mapped at all)
        if file_len < MIN_FILE_LEN:
            raise SpecError("header", "empty or truncated")
        try:
            mm = mmap.mmap(fd, file_len, access=mmap.ACCESS_READ)
        except (OSError, ValueError, OverflowError) as e:
            raise SpecError("file", "cannot map: %s" % (getattr(e, "strerror", None) or e))
    finally:
        # The mapping stays valid after the descriptor is closed.
        os.close(fd)

    try:
        ring = validate(mm, file_len)
    except BaseException:
        mm.close()
        raise
    return ring


def validate(mm, file_len):
    # The static header is immutable after creation: plain loads.
    # 2.
    magic = bytes(mm[H_MAGIC:H_MAGIC + 8])
    if magic != MAGIC:
        raise SpecError("header.magic", "bad magic %r, expected %r" % (magic, MAGIC))
    # 3.
    version = ld32(mm, H_VERSION)
    if version != VERSION:
        raise SpecError("header.version", "unsupported version %d (this reader implements %d)" % (version, VERSION))
    # 4.
    header_size = ld32(mm, H_HEADER_SIZE)
    if header_size != HEADER_SIZE:
        raise SpecError("header.header_size", "%d, expected %d" % (header_size, HEADER_SIZE))
    # 5.
    incompat = ld32(mm, H_INCOMPAT)
    unknown = incompat & ~KNOWN_INCOMPAT_FEATURES
    if unknown:
        raise SpecError("header.incompat_features", "unknown feature bits 0x%x" % unknown)
    # 6.
    file_size = ld64(mm, H_FILE_SIZE)
    if file_size != file_len:
        raise SpecError("header.file_size", "%d but the file is %d bytes (truncated or half-written)" % (file_size, file_len))
    # 7.
    slot_header_size = ld32(mm, H_SLOT_HEADER_SIZE)
    if slot_header_size != SLOT_HEADER_SIZE:
        raise SpecError("header.slot_header_size", "%d, expected %d" % (slot_header_size, SLOT_HEADER_SIZE))
    # 8.
    slot_count = ld32(mm, H_SLOT_COUNT)
    if not (MIN_SLOTS <= slot_count <= MAX_SLOTS):
        raise SpecError("header.slot_count", "%d, must be %d to %d" % (slot_count, MIN_SLOTS, MAX_SLOTS))
    # 9.
    slot_capacity = ld32(mm, H_SLOT_CAPACITY)
    if not (MIN_CAPACITY <= slot_capacity <= MAX_CAPACITY):
        raise SpecError("header.slot_capacity", "%d, must be %d to %d" % (slot_capacity, MIN_CAPACITY, MAX_CAPACITY))
    # 10.
    slot_stride = ld64(mm, H_SLOT_STRIDE)
    if slot_stride % 64 != 0:
        raise SpecError("header.slot_stride", "%d is not a multiple of 64" % slot_stride)
    if slot_stride < SLOT_HEADER_SIZE + slot_capacity:
        raise SpecError("header.slot_stride", "%d is less than 64 + slot_capacity (%d)" % (slot_stride, SLOT_HEADER_SIZE + slot_capacity))
    # 11.
    slots_offset = ld64(mm, H_SLOTS_OFFSET)
    if slots_offset % 64 != 0:
        raise SpecError("header.slots_offset", "%d is not a multiple of 64" % slots_offset)
    if slots_offset < header_size:
        raise SpecError("header.slots_offset", "%d is less than header_size (%d)" % (slots_offset, header_size))
    # 12. Python integers do not overflow: emulate the 64-bit checks explicitly.
    product = slot_count * slot_stride
    if product > U64_MAX:
        raise SpecError("header.file_size", "slot_count x slot_stride overflows 64 bits")
    end = slots_offset + product
    if end > U64_MAX:
        raise SpecError("header.file_size", "slots_offset + slot_count x slot_stride overflows 64 bits")
    if end > file_size:
        raise SpecError("header.file_size", "slots end at %d, beyond the file size %d" % (end, file_size))
    # 13.
    codec = ld32(mm, H_CODEC)
    if codec not in KNOWN_CODECS:
        raise SpecError("header.codec", "unknown codec %d" % codec)
    # 14.
    width = ld32(mm, H_WIDTH)
    if width > MAX_DIMENSION:
        raise SpecError("header.width", "%d exceeds %d" % (width, MAX_DIMENSION))
    height = ld32(mm, H_HEIGHT)
    if height > MAX_DIMENSION:
        raise SpecError("header.height", "%d exceeds %d" % (height, MAX_DIMENSION))
    # 15.
    raw_name = bytes(mm[H_NAME:H_NAME + H_NAME_LEN])
    nul = raw_name.find(b"\0")
    if nul < 0:
        raise SpecError("header.name", "no NUL terminator")
    if nul == 0:
        raise SpecError("header.name", "empty")
    try:
        name = raw_name[:nul].decode("utf-8")
    except UnicodeDecodeError:
        raise SpecError("header.name", "not valid UTF-8")

    layout = validate_layout(mm, codec, width, height, slot_capacity)

    ring = Ring()
    ring.mm = mm
    ring.codec = codec
    ring.layout = layout
    ring.file_len = file_len
    ring.slots_offset = slots_offset
    ring.slot_stride = slot_stride
    ring.slot_count = slot_count
    ring.slot_capacity = slot_capacity
    ring.slot_header_size = slot_header_size
    ring.width = width
    ring.height = height
    ring.name = name
    # Compat bits a reader may ignore; this one reads the camera time ("The camera's time").
    ring.compat = ld32(mm, H_COMPAT)
    return ring


class Layout(object):
    __slots__ = ("codec", "width", "height", "plane_offsets", "plane_strides", "frame_size")


def plane_shape(codec, plane, width, height):
    """("Raw frames") Bytes of pixels in a row of `plane`, and its rows; None: no such plane."""
    if codec in (CODEC_RGB, CODEC_BGR):
        return (width * 3, height) if plane == 0 else None
    if codec == CODEC_NV12:
        return (width, height if plane == 0 else height // 2)
    return None


def validate_layout(mm, codec, width, height, slot_capacity):
    """Check 17, raw codecs only (None for JPEG), in the document's order. Python integers do
    not overflow, which is what "compute in 64 bits" asks for with 32-bit fields."""
    if codec == CODEC_JPEG:
        return None
    name = CODEC_NAMES[codec]
    if width < 1 or height < 1 or (codec == CODEC_NV12 and (width % 2 or height % 2)):
        raise SpecError("header.width", "%dx%d is not a size for %s frames" % (width, height, name))
    offsets = (ld32(mm, H_PLANE_OFFSETS), ld32(mm, H_PLANE_OFFSETS + 4))
    strides = (ld32(mm, H_PLANE_STRIDES), ld32(mm, H_PLANE_STRIDES + 4))
    frame_size = ld32(mm, H_FRAME_SIZE)
    previous_end = 0
    for p in (0, 1):
        shape = plane_shape(codec, p, width, height)
        if shape is None:
            if offsets[p] != 0 or strides[p] != 0:
                raise SpecError("header.plane_offsets", "plane %d is set, but %s has no plane %d" % (p, name, p))
            continue
        row, rows = shape
        if strides[p] < row:
            raise SpecError("header.plane_strides", "plane %d: stride %d < its row of %d bytes" % (p, strides[p], row))
        if offsets[p] < previous_end:
            raise SpecError("header.plane_offsets", "plane %d starts at %d, before the end (%d) of the plane before it" % (p, offsets[p], previous_end))
        end = offsets[p] + strides[p] * (rows - 1) + row
        if end > frame_size:
            raise SpecError("header.frame_size", "%d, but plane %d ends at %d" % (frame_size, p, end))
        previous_end = end
    if frame_size > slot_capacity:
        raise SpecError("header.frame_size", "%d exceeds slot_capacity %d" % (frame_size, slot_capacity))
    layout = Layout()
    layout.codec, layout.width, layout.height = codec, width, height
    layout.plane_offsets, layout.plane_strides, layout.frame_size = offsets, strides, frame_size
    return layout


def pixel_lines(layout, data):
    """("Raw frames") the first and last pixels of a raw frame, addressed by offsets and strides:
    row r of plane p starts at plane_offsets[p] + r * plane_strides[p]."""
    lines = []
    for x, y in ((0, 0), (layout.width - 1, layout.height - 1)):
        row = layout.plane_offsets[0] + y * layout.plane_strides[0]
        if layout.codec == CODEC_NV12:
            uv = layout.plane_offsets[1] + (y // 2) * layout.plane_strides[1] + (x // 2) * 2
            text = "yuv=%d,%d,%d" % (data[row + x], data[uv], data[uv + 1])
        else:
            r, g, b = data[row + 3 * x:row + 3 * x + 3]
            if layout.codec == CODEC_BGR:
                r, b = b, r
            text = "rgb=%d,%d,%d" % (r, g, b)
        lines.append("pixel x=%d y=%d %s\n" % (x, y, text))
    return "".join(lines)


# ---------------------------------------------------------------------------------------------
# Status ("Reading the status")


def read_status(ring):
    mm = ring.mm
    for attempt in range(MAX_ATTEMPTS):
        # 1.
        s1 = ld64_acquire(mm, S_SEQ)
        if s1 & 1:
            # The writer is updating: yield, then retry. A writer that died between its two
            # increments leaves the word odd for good, hence the bound.
            time.sleep(0 if attempt < 100 else POLL_INTERVAL_S)
            continue
        # 2. (only the fields this tool prints, plus the text fields to exercise the protocol)
        st = {
            "state": ld32(mm, S_STATE),
            "retry_count": ld32(mm, S_RETRY_COUNT),
            "max_retry_attempts": ld32(mm, S_MAX_RETRY_ATTEMPTS),
            "writer_pid": ld32(mm, S_WRITER_PID),
            "generation": ld64(mm, S_GENERATION),
            "next_retry_mono_ns": ld64(mm, S_NEXT_RETRY_MONO_NS),
            "state_since_realtime_ns": ld64(mm, S_STATE_SINCE_REALTIME_NS),
            "fps_milli": ld32(mm, S_FPS_MILLI),
            "source_width": ld32(mm, S_SOURCE_WIDTH),
            "source_height": ld32(mm, S_SOURCE_HEIGHT),
            "drops": ld64(mm, S_DROPS),
            "oversize": ld64(mm, S_OVERSIZE),
            "reconnects": ld64(mm, S_RECONNECTS),
            "last_error_realtime_ns": ld64(mm, S_LAST_ERROR_REALTIME_NS),
        }
        texts = {}
        for key, (off, size) in (("input_codec", S_INPUT_CODEC), ("decoder", S_DECODER),
                                 ("encoder", S_ENCODER), ("last_error", S_LAST_ERROR)):
            texts[key] = bytes(mm[off:off + size])
        # 3.
        _acquire_fence()
        s2 = ld64(mm, S_SEQ)
        if s2 != s1:
            continue
        for key, raw in texts.items():
            st[key] = raw.split(b"\0", 1)[0].decode("utf-8", "replace")
        return st
    raise SpecError("status.seq", "contended (gave up after %d attempts)" % MAX_ATTEMPTS)


def latest_seq(ring):
    return ld64_acquire(ring.mm, I_LATEST_SEQ)


# ---------------------------------------------------------------------------------------------
# Frames ("Reading a frame": latest frame metadata + copy)


class Frame(object):
    __slots__ = ("seq", "len", "width", "height", "flags", "ts_realtime_ns", "ts_mono_ns",
                 "ts_camera_ns", "data")


def read_latest_frame(ring):
    """Returns a Frame copied per the copy protocol, or None if no frame was published yet."""
    mm = ring.mm
    for _ in range(MAX_ATTEMPTS):
        # 1.
        n = ld64_acquire(mm, I_LATEST_SEQ)
        if n == 0:
            return None
        # 2.
        i = n % ring.slot_count
        base = ring.slots_offset + i * ring.slot_stride
        s1 = ld64_acquire(mm, base + SL_SEQ)
        if s1 != ((n << 1) & U64_MAX):
            continue
        # 3.
        length = ld32(mm, base + SL_LEN)
        width = ld32(mm, base + SL_WIDTH)
        height = ld32(mm, base + SL_HEIGHT)
        flags = ld32(mm, base + SL_FLAGS)
        ts_realtime_ns = ld64(mm, base + SL_TS_REALTIME_NS)
        ts_mono_ns = ld64(mm, base + SL_TS_MONO_NS)
        ts_camera_ns = ld64(mm, base + SL_TS_CAMERA_NS)
        # 4.
        _acquire_fence()
        s2 = ld64(mm, base + SL_SEQ)
        if s2 != s1:
            continue
        # 5. (only after step 4: a torn len is not corruption)
        if length > ring.slot_capacity:
            raise SpecError("slot[%d].len" % i, "%d exceeds slot_capacity %d (corrupt file)" % (length, ring.slot_capacity))
        # ("Raw frames") every raw frame is exactly frame_size bytes.
        if ring.layout is not None and length != ring.layout.frame_size:
            raise SpecError("slot[%d].len" % i, "%d, but every frame of this ring is %d bytes (corrupt file)" % (length, ring.layout.frame_size))
        # Copy.
        start = base + ring.slot_header_size
        data = mm[start:start + length]
        _acquire_fence()
        s3 = ld64(mm, base + SL_SEQ)
        if s3 != s1:
            continue
        f = Frame()
        f.seq = n
        f.len = length
        f.width = width
        f.height = height
        f.flags = flags
        f.ts_realtime_ns = ts_realtime_ns
        f.ts_mono_ns = ts_mono_ns
        # A camera time only with both bits; in a file without compat bit 1, never.
        has_camera_time = ring.compat & COMPAT_CAMERA_TIME and flags & SLOT_FLAG_CAMERA_TIME
        f.ts_camera_ns = ts_camera_ns if has_camera_time else None
        f.data = data
        return f
    raise SpecError("index.latest_seq", "contended (no consistent copy of the latest frame after %d attempts)" % MAX_ATTEMPTS)


def wait_newer(ring, after, timeout_ms):
    """Polling version of "Waiting for the next frame". True once latest_seq > after; False on
    timeout or when the file is retired (the spec's "no frame")."""
    mm = ring.mm
    deadline = time.monotonic() + timeout_ms / 1000.0
    while True:
        # Steps 1 and 4 (notify value, futex) are replaced by the poll below.
        # 2.
        if ld64_acquire(mm, I_LATEST_SEQ) > after:
            return True
        # 3.
        now = time.monotonic()
        if now >= deadline or ld32_acquire(mm, L_RETIRED) != 0:
            return False
        time.sleep(min(POLL_INTERVAL_S, deadline - now))


# ---------------------------------------------------------------------------------------------


def fnv1a64(data):
    h = FNV_OFFSET_BASIS
    prime = FNV_PRIME
    mask = U64_MAX
    for b in data:
        h = ((h ^ b) * prime) & mask
    return h


def frame_line(f):
    camera = "none" if f.ts_camera_ns is None else "%d" % f.ts_camera_ns
    return "frame seq=%d len=%d width=%d height=%d ts_mono_ns=%d ts_camera_ns=%s fnv1a=%016x" % (
        f.seq, f.len, f.width, f.height, f.ts_mono_ns, camera, fnv1a64(f.data))


def parse_args(argv):
    usage = "usage: spec_reader.py RING [--wait N] [--timeout-ms T]"
    path = None
    wait = None
    timeout_ms = 5000
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in ("--wait", "--timeout-ms") or a.startswith("--wait=") or a.startswith("--timeout-ms="):
            if "=" in a:
                key, value = a.split("=", 1)
            else:
                key = a
                i += 1
                if i >= len(argv):
                    raise ValueError("%s needs a value\n%s" % (key, usage))
                value = argv[i]
            try:
                number = int(value, 10)
            except ValueError:
                raise ValueError("%s: not an integer: %r\n%s" % (key, value, usage))
            if number < 0:
                raise ValueError("%s: must not be negative\n%s" % (key, usage))
            if key == "--wait":
                wait = number
            else:
                timeout_ms = number
        elif a in ("-h", "--help"):
            raise ValueError(usage)
        elif a.startswith("-") and a != "-":
            raise ValueError("unknown option %r\n%s" % (a, usage))
        elif path is None:
            path = a
        else:
            raise ValueError("unexpected argument %r\n%s" % (a, usage))
        i += 1
    if path is None:
        raise ValueError(usage)
    return path, wait, timeout_ms


def run(path, wait, timeout_ms):
    out = sys.stdout
    ring = open_ring(path)
    out.write("info name=%s slots=%d capacity=%d codec=%s width=%d height=%d\n" % (
        ring.name, ring.slot_count, ring.slot_capacity, CODEC_NAMES[ring.codec], ring.width, ring.height))
    layout = ring.layout
    if layout is not None:
        out.write("layout frame_size=%d plane_offsets=%d,%d plane_strides=%d,%d\n" % (
            (layout.frame_size,) + layout.plane_offsets + layout.plane_strides))
    st = read_status(ring)
    seq = latest_seq(ring)
    out.write("status state=%s generation=%d latest_seq=%d\n" % (
        STATE_NAMES.get(st["state"], "unknown"), st["generation"], seq))
    if wait is None:
        f = read_latest_frame(ring)
        out.write((frame_line(f) if f is not None else "no frame") + "\n")
        if f is not None and layout is not None:
            out.write(pixel_lines(layout, f.data))
        out.flush()
        return 0
    after = seq
    out.write("ready\n")
    out.flush()
    for _ in range(wait):
        if not wait_newer(ring, after, timeout_ms):
            # Timeout, or liveness.retired != 0 (the spec's wait returns "no frame" for both).
            out.write("timeout\n")
            out.flush()
            return 3
        f = read_latest_frame(ring)
        if f is None:  # cannot happen: latest_seq only grows
            raise SpecError("index.latest_seq", "went back to 0")
        out.write(frame_line(f) + "\n")
        if layout is not None:
            out.write(pixel_lines(layout, f.data))
        out.flush()
        after = f.seq
    return 0


def main(argv):
    try:
        path, wait, timeout_ms = parse_args(argv[1:])
    except ValueError as e:
        sys.stderr.write("spec_reader: %s\n" % e)
        return 2
    try:
        return run(path, wait, timeout_ms)
    except SpecError as e:
        _flush_quietly()
        sys.stderr.write("spec_reader: %s: %s: %s\n" % (path, e.field, e.problem))
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # Reader of our stdout went away; silence the interpreter's own flush error at exit.
        try:
            sys.stdout = open(os.devnull, "w")
        except Exception:
            pass
        return 1
    except BaseException as e:  # never a traceback, whatever the file holds
        _flush_quietly()
        sys.stderr.write("spec_reader: %s: file: unexpected error: %s: %s\n" % (path, type(e).__name__, e))
        return 1


def _flush_quietly():
    try:
        sys.stdout.flush()
    except Exception:
        pass


if __name__ == "__main__":
    sys.exit(main(sys.argv))
