#!/usr/bin/python3
"""camd's checks against real kernel drivers, run inside the `cargo xtask vm-test` guest.

The guest is a Debian bookworm root under qemu with systemd as PID 1, the vivid webcam driver
(Debian's kernel) and visl, the virtual stateless decoder (built out of tree by
build-visl.sh). The payload disk holds camd's dist tarball, the fake RTSP cameras and this
file. Each check prints one line to the serial console, which the host reads:

    camd-vm: ok NAME: what was seen
    camd-vm: FAIL NAME: what was expected and what was seen

and the last line is `camd-vm: done N ok, M failed`. Nothing here is a mock: the devices are
the kernel's drivers, camd is the release build as installed from the tarball.
"""

import contextlib
import grp
import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import time
import traceback

PAYLOAD = "/payload"
RESULTS = {"ok": 0, "failed": 0}
# Under TCG (no KVM) the guest runs a few times slower than the host: generous deadlines.
DEADLINE_S = 60


def say(line):
    print(f"camd-vm: {line}", flush=True)


def log(line):
    print(f"  {line}", flush=True)


class CheckFailed(Exception):
    pass


def check(name, fn, daemon=None):
    """Runs one check; on failure, the last lines of camd's log (when `daemon` is given)."""
    start = time.monotonic()
    try:
        seen = fn()
        RESULTS["ok"] += 1
        say(f"ok {name} ({time.monotonic() - start:.1f} s): {seen}")
        return
    except CheckFailed as e:
        RESULTS["failed"] += 1
        say(f"FAIL {name}: {e}")
    except Exception:
        RESULTS["failed"] += 1
        say(f"FAIL {name}: {traceback.format_exc().strip().splitlines()[-1]}")
        for line in traceback.format_exc().strip().splitlines():
            log(line)
    if daemon is not None:
        text = daemon.log_text()
        for line in text[daemon.shown :].splitlines()[-40:]:
            log(f"camd: {line}")
        daemon.shown = len(text)


def sh(*args, check_rc=True, **kw):
    out = subprocess.run(args, capture_output=True, text=True, **kw)
    if check_rc and out.returncode != 0:
        raise CheckFailed(f"`{' '.join(args)}` exited {out.returncode}: {out.stderr.strip()[-600:]}")
    return out


def wait_for(what, predicate, deadline_s=DEADLINE_S, every_s=0.5):
    """Polls a real system (not a state machine's clock): the value once predicate holds."""
    end = time.monotonic() + deadline_s
    last = None
    while True:
        try:
            last = predicate()
        except CheckFailed as e:
            last = e
        if last and not isinstance(last, CheckFailed):
            return last
        if time.monotonic() > end:
            raise CheckFailed(f"{what}: not within {deadline_s} s (last seen: {describe(last)})")
        time.sleep(every_s)


def describe(value):
    if isinstance(value, CheckFailed):
        return str(value)
    return "nothing" if value is None else str(value)


# ---- camd ----


class Daemon:
    """`camd run --config FILE` as root, outside systemd (checks 1 and 2)."""

    def __init__(self, name, config):
        self.dir = f"/run/camd-vm/{name}"
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir)
        self.config = f"{self.dir}.toml"
        with open(self.config, "w") as f:
            f.write(config.replace("RUNTIME_DIR", self.dir))
        self.log = open(f"{self.dir}.log", "w")
        # How much of the log a failed check has printed already.
        self.shown = 0
        self.proc = subprocess.Popen(
            ["camd", "run", "--config", self.config, "--log-to", "stderr"],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def camera(self, name):
        return camera_in(self.dir, name)

    def wait_state(self, name, state, deadline_s=DEADLINE_S):
        return wait_state_in(self.dir, name, state, deadline_s)

    def frames_advance(self, name, seconds=3.0):
        """The camera's frame count grows over `seconds`: frames per second."""
        before = self.camera(name)
        time.sleep(seconds)
        after = self.camera(name)
        grew = (after.get("frames") or 0) - (before.get("frames") or 0)
        if after["status"] != "ok" or grew <= 0:
            raise CheckFailed(f"{name} stopped: {short(before)} -> {short(after)}")
        return grew / seconds

    def log_text(self):
        self.log.flush()
        with open(f"{self.dir}.log") as f:
            return f.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def camera_in(ring_dir, name):
    """One camera of `camd status --format json` for the rings of `ring_dir`."""
    out = sh("camd", "status", "--dir", ring_dir, "--format", "json", check_rc=False)
    if not out.stdout.strip():
        raise CheckFailed(f"camd status printed nothing: {out.stderr.strip()}")
    cams = {c["name"]: c for c in json.loads(out.stdout)["cameras"]}
    if name not in cams:
        raise CheckFailed(f"camera {name} not in camd status ({sorted(cams)})")
    return cams[name]


def wait_state_in(ring_dir, name, state, deadline_s=DEADLINE_S):
    """Waits until the camera is in `state` (and, for ok, has published a frame)."""

    def seen():
        c = camera_in(ring_dir, name)
        if c["status"] == state and (state != "ok" or (c.get("frames") or 0) > 0):
            return c
        raise CheckFailed(f"{name}: {short(c)}")

    return wait_for(f"camera {name} {state}", seen, deadline_s)


def short(c):
    keys = ["status", "fps", "width", "height", "input_codec", "decoder", "encoder", "frames"]
    keys.append("last_error")
    return {k: c.get(k) for k in keys if c.get(k) not in (None, "")}


def latest_frame(ring):
    """The newest frame of a ring through the Python binding installed by the tarball."""
    sys.path.insert(0, "/usr/lib/python3/dist-packages")
    import camd_ring  # noqa: PLC0415 (installed by the tarball, not at import time)

    with camd_ring.Reader(ring) as reader:
        latest = reader.copy_latest()
    if latest is None:
        raise CheckFailed(f"{ring} holds no frame")
    return latest[1]


def jpeg_size(data):
    """Width and height from a JPEG's SOF marker."""
    if data[:2] != b"\xff\xd8":
        raise CheckFailed(f"not a JPEG (starts {data[:4].hex()})")
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            i += 1
            continue
        marker = data[i + 1]
        length = int.from_bytes(data[i + 2 : i + 4], "big")
        if marker in (0xC0, 0xC1, 0xC2):
            h = int.from_bytes(data[i + 5 : i + 7], "big")
            w = int.from_bytes(data[i + 7 : i + 9], "big")
            return w, h
        i += 2 + length
    raise CheckFailed("JPEG without a frame header")


# ---- the guest's devices ----


def vivid(load=True):
    """Two vivid webcams, capture nodes only: /dev/video0 and /dev/video1."""
    sh("modprobe", "-r", "vivid", check_rc=False)
    if load:
        sh("modprobe", "vivid", "n_devs=2", "node_types=0x1,0x1", "vid_cap_nr=0,1")
        wait_for("/dev/video0 and /dev/video1", lambda: all(map(os.path.exists, VIVID_NODES)), 20)
        sh("udevadm", "settle")


VIVID_NODES = ["/dev/video0", "/dev/video1"]


def video_nodes():
    return sorted(n for n in os.listdir("/dev") if n.startswith("video"))


def nothing_held_open():
    held = held_open()
    if held:
        raise CheckFailed(f"held open: {held}")
    return True


def held_open():
    """Which processes hold a video node open (for a failure's message)."""
    held = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        with contextlib.suppress(OSError):
            for fd in os.listdir(f"/proc/{pid}/fd"):
                with contextlib.suppress(OSError):
                    target = os.readlink(f"/proc/{pid}/fd/{fd}")
                    if target.startswith("/dev/video"):
                        held.append(f"{pid}:{target}")
    return held


def visl():
    """Loads visl: its decoder node is the next free /dev/videoN, named in sysfs."""
    sh("modprobe", "visl")
    node = wait_for("visl's video node", lambda: node_named("visl"), 20)
    sh("udevadm", "settle")
    return node


def node_named(prefix):
    """The /dev/videoN whose sysfs name starts with `prefix`, or None."""
    base = "/sys/class/video4linux"
    for n in sorted(os.listdir(base)):
        with contextlib.suppress(OSError):
            with open(f"{base}/{n}/name") as f:
                if f.read().startswith(prefix):
                    return f"/dev/{n}"
    return None


WEBCAMS = """
[daemon]
runtime_dir = "RUNTIME_DIR"
cameras_per_worker = 4
stop_timeout_s = 5

[daemon.defaults]
retry_initial_s = 0.5
retry_max_s = 2
max_retry_attempts = 1000

[[camera]]
name = "by_index"
url = 0
width = 640
height = 360
max_fps = 10

[[camera]]
name = "by_path"
url = "/dev/video1"
width = 1280
height = 720
max_fps = 5

[[camera]]
name = "missing"
url = 7

[[camera]]
name = "pattern"
url = "test:smpte"
width = 320
height = 240
max_fps = 5
"""


def webcam_checks():
    vivid()
    d = Daemon("webcams", WEBCAMS)
    try:
        check("webcam by index is ok", lambda: webcam_ok(d, "by_index", (640, 360), 10), d)
        check("webcam by path is ok", lambda: webcam_ok(d, "by_path", (1280, 720), 5), d)
        check("missing webcam is retrying, named", lambda: missing_webcam(d), d)
        check("camd probe lists the webcams", probe_lists_webcams)
        check("disconnect makes retrying", lambda: disconnect(d), d)
    finally:
        d.stop()


def replug_checks():
    """The device gone and back, and injected faults, with a fresh vivid."""
    vivid()
    d = Daemon("replug", WEBCAMS)
    try:
        for name in ("by_index", "by_path"):
            d.wait_state(name, "ok")
        check("replug brings it back", lambda: replug(d), d)
        check("injected streaming errors harm one camera", lambda: streaming_error(d), d)
        check("dropped buffers harm one camera", lambda: dropped_buffers(d), d)
    finally:
        d.stop()


def webcam_ok(d, name, size, fps):
    c = d.wait_state(name, "ok")
    if (c["width"], c["height"]) != size:
        raise CheckFailed(f"{name}: size {c['width']}x{c['height']}, configured {size}")
    frame = latest_frame(f"{d.dir}/{name}.ring")
    if jpeg_size(frame) != size:
        raise CheckFailed(f"{name}: the ring's JPEG is {jpeg_size(frame)}, not {size}")
    rate = d.frames_advance(name, 4.0)
    if not fps * 0.6 <= rate <= fps * 1.2:
        raise CheckFailed(f"{name}: {rate:.1f} frames/s published, configured max_fps {fps}")
    c = d.camera(name)
    # vivid offers no MJPEG: camd's first raw choice, YUYV, encoded to JPEG.
    if c.get("input_codec") != "yuyv" or not c.get("encoder"):
        raise CheckFailed(f"{name}: the status does not say YUYV encoded to JPEG: {short(c)}")
    said = "no MJPEG at {}x{}: capturing YUYV".format(*size)
    if said not in d.log_text():
        raise CheckFailed(f"{name}: the log does not say why YUYV ({said!r})")
    return f"{short(c)}, {rate:.1f} frames/s, JPEG {size[0]}x{size[1]}"


def missing_webcam(d):
    c = d.wait_state("missing", "retrying")
    if "/dev/video7" not in (c.get("last_error") or ""):
        raise CheckFailed(f"missing: the error does not name /dev/video7: {short(c)}")
    d.frames_advance("by_index", 2.0)
    return c["last_error"]


def probe_lists_webcams():
    out = sh("camd", "probe", "--format", "json")
    report = json.loads(out.stdout)
    devices = {dev["path"]: dev for dev in report["v4l2"]["devices"]}
    for node in VIVID_NODES:
        dev = devices.get(node)
        if not dev:
            raise CheckFailed(f"{node} not in camd probe: {sorted(devices)}")
        if dev.get("driver") != "vivid" or not dev.get("bus") or not dev.get("formats"):
            raise CheckFailed(f"{node}: driver, bus or formats missing: {json.dumps(dev)[:400]}")
    table = sh("camd", "probe").stdout
    if "vivid" not in table:
        raise CheckFailed(f"the table names no vivid device:\n{table[:800]}")
    dev = devices[VIVID_NODES[0]]
    return f"{dev['driver']} {dev.get('card')} {dev.get('bus')}, {len(dev['formats'])} formats"


def disconnect(d):
    """The disconnect control makes the camera retry with the unplug error. vivid accepts the
    reopen, so camd may be back before a poll sees `retrying` (seen: retrying for 0.5 s, while
    `camd status` under TCG takes about as long): the error, set since the control, says it."""
    since = time.monotonic()
    sh("v4l2-ctl", "-d", "/dev/video0", "--set-ctrl=disconnect=1")

    def went_retrying():
        c = d.camera("by_index")
        age_ms = c.get("last_error_age_ms")
        recent = age_ms is not None and age_ms < (time.monotonic() - since) * 1000
        if c["status"] == "retrying" or (recent and "stopped delivering" in (c.get("last_error") or "")):
            return c
        raise CheckFailed(f"by_index: {short(c)}")

    c = wait_for("camera by_index retrying after the disconnect", went_retrying)
    if not c.get("last_error"):
        raise CheckFailed(f"retrying without an error: {short(c)}")
    d.frames_advance("by_path", 2.0)
    return f"{c['status']}: {c['last_error']}"


def replug(d):
    """Unbinds vivid from its driver and binds it again: the kernel removes the nodes under
    camd while they are open, as a USB unplug does (rmmod cannot: camd holds the nodes open, so
    the module is in use). vivid makes both webcams from one platform device, so both go; the
    test-pattern camera in the same worker must not notice."""
    pid = d.proc.pid
    driver = "/sys/bus/platform/drivers/vivid"
    with open(f"{driver}/unbind", "w") as f:
        f.write("vivid.0")
    wait_for("/dev/video0 gone", lambda: not os.path.exists("/dev/video0"), 20)
    gone = d.wait_state("by_index", "retrying")
    d.wait_state("by_path", "retrying")
    d.frames_advance("pattern", 2.0)
    # A process that keeps a vanished node open keeps its number: the device would come back
    # under another one (/dev/video2), and a camera configured by path would never return.
    wait_for("camd to close the vanished nodes", nothing_held_open, 10)
    with open(f"{driver}/bind", "w") as f:
        f.write("vivid.0")
    try:
        wait_for("/dev/video0 back", lambda: all(map(os.path.exists, VIVID_NODES)), 20)
    except CheckFailed as e:
        raise CheckFailed(f"{e}; video nodes now: {video_nodes()}; held open: {held_open()}")
    back = d.wait_state("by_index", "ok")
    d.wait_state("by_path", "ok")
    if d.proc.poll() is not None or d.proc.pid != pid:
        raise CheckFailed("camd did not survive the replug")
    return (
        f"unplugged: {gone.get('last_error')}; back: {short(back)}; pattern kept streaming; "
        f"camd pid {pid} throughout"
    )


def streaming_error(d):
    sh("v4l2-ctl", "-d", "/dev/video0", "--set-ctrl=inject_fatal_streaming_error=1")
    c = d.wait_state("by_index", "retrying", 20)
    d.frames_advance("by_path", 2.0)
    d.wait_state("by_index", "ok")
    return f"by_index went retrying ({c.get('last_error')}) and back, by_path kept streaming"


def dropped_buffers(d):
    """Half of by_index's buffers dropped by its driver: by_path streams on meanwhile, and
    by_index streams again once the driver stops dropping (however it fared meanwhile)."""
    sh("v4l2-ctl", "-d", "/dev/video0", "--set-ctrl=percentage_of_dropped_buffers=50")
    try:
        time.sleep(3)
        before = d.camera("by_index")
        rate = d.frames_advance("by_path", 3.0)
        during = d.camera("by_index")
    finally:
        sh("v4l2-ctl", "-d", "/dev/video0", "--set-ctrl=percentage_of_dropped_buffers=0")
    d.wait_state("by_index", "ok")
    after = d.frames_advance("by_index", 2.0)
    grew = (during.get("frames") or 0) - (before.get("frames") or 0)
    return (
        f"by_path {rate:.1f} frames/s meanwhile; by_index {grew / 3.0:.1f} frames/s during "
        f"({short(during)}), {after:.1f} after"
    )


# ---- the hardware decoder path ----

DECODER = """
[daemon]
runtime_dir = "RUNTIME_DIR"

[daemon.defaults]
transport = "tcp"
# The fake camera's first frames take a while under TCG (x264 in an emulated CPU).
connect_timeout_s = 30
retry_initial_s = 0.5
max_retry_attempts = 1000
width = 320
height = 240

[[camera]]
name = "picked"
url = "rtsp://127.0.0.1:8554/h264"

[[camera]]
name = "software"
url = "rtsp://127.0.0.1:8554/h264"
decoder = "avdec_h264"

# Raw output from the webcams: vim2m's converter (v4l2convert) by itself, and the software one.
[[camera]]
name = "converted"
url = "/dev/video0"
format = "rgb"
max_fps = 5

[[camera]]
name = "soft_converted"
url = "/dev/video1"
format = "rgb"
converter = "videoconvertscale"
max_fps = 5
"""


def decoder_checks():
    log(f"visl: {visl()}")
    sh("modprobe", "vim2m")
    log(f"vim2m: {wait_for('vim2m video node', lambda: node_named('vim2m'), 20)}")
    sh("udevadm", "settle")
    fake = subprocess.Popen(
        [f"{PAYLOAD}/fake_cameras", "--port", "8554", "h264=h264:320x240@10"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        said = []

        def ready():
            line = fake.stdout.readline()
            said.append(line)
            if not line and fake.poll() is not None:
                raise CheckFailed(f"fake_cameras exited {fake.returncode}: {''.join(said)[-600:]}")
            return "ready" in line

        wait_for("the fake camera's 'ready'", ready, 30)
        d = Daemon("decoder", DECODER)
        try:
            check("camd picks v4l2slh264dec by itself", lambda: picked_decoder(d), d)
            check("decoder override uses the software decoder", lambda: overridden(d), d)
            check(
                "camd probe lists v4l2slh264dec as hardware, picked",
                lambda: probe_picks("decoders", "h264", "v4l2slh264dec"),
            )
            check("camd picks v4l2convert for a raw webcam", lambda: converted(d), d)
            check(
                "camd probe lists v4l2convert for rgb, picked",
                lambda: probe_picks("converters", "RGB", "v4l2convert"),
            )
        finally:
            d.stop()
    finally:
        fake.terminate()
        fake.wait()


def picked_decoder(d):
    c = d.wait_state("picked", "ok")
    rate = d.frames_advance("picked", 4.0)
    c = d.camera("picked")
    if c.get("decoder") != "v4l2slh264dec":
        raise CheckFailed(f"decoder {c.get('decoder')!r}, expected v4l2slh264dec: {short(c)}")
    if rate < 10 * 0.6:
        raise CheckFailed(f"{rate:.1f} frames/s from a 10 fps camera")
    return f"{short(c)}, {rate:.1f} frames/s"


def overridden(d):
    c = d.wait_state("software", "ok")
    if c.get("decoder") != "avdec_h264":
        raise CheckFailed(f"decoder {c.get('decoder')!r} with decoder = \"avdec_h264\"")
    return short(c)


def rgb_row(ring, y, xs):
    """Pixels (R, G, B) at columns `xs` of row `y` of a ring's latest RGB frame, by its layout."""
    sys.path.insert(0, "/usr/lib/python3/dist-packages")
    import camd_ring  # noqa: PLC0415 (installed by the tarball, not at import time)

    with camd_ring.Reader(ring) as reader:
        info = reader.info
        got = reader.copy_latest()
    if got is None:
        raise CheckFailed(f"{ring} holds no frame")
    meta, data = got
    stride = len(data) // meta.height
    if info.codec != 3 or len(data) != stride * meta.height or stride < meta.width * 3:
        raise CheckFailed(f"{ring}: codec {info.codec}, {len(data)} bytes for {meta.width}x{meta.height}")
    return [tuple(data[y * stride + 3 * x : y * stride + 3 * x + 3]) for x in xs]


def converted(d):
    """vim2m converts vivid's YUYV to RGB: its pixels match the software converter's of the
    same pattern on the other webcam (vivid's colour bars), bar by bar."""
    c = d.wait_state("converted", "ok")
    soft = d.wait_state("soft_converted", "ok")
    if c.get("encoder") != "v4l2convert":
        raise CheckFailed(f"converter {c.get('encoder')!r}, expected v4l2convert: {short(c)}")
    if soft.get("encoder") != "videoconvertscale":
        raise CheckFailed(f"override gave {soft.get('encoder')!r}: {short(soft)}")
    rate = d.frames_advance("converted", 2.0)
    xs = [20 + 40 * i for i in range(8)]
    hard = rgb_row(f"{d.dir}/converted.ring", 60, xs)
    software = rgb_row(f"{d.dir}/soft_converted.ring", 60, xs)
    if len(set(hard)) < 4:
        raise CheckFailed(f"vim2m's frame is not vivid's bars: {hard}")
    far = [(h, s) for h, s in zip(hard, software) if max(abs(a - b) for a, b in zip(h, s)) > 40]
    if far:
        raise CheckFailed(f"v4l2convert and videoconvertscale differ: {far} (all: {hard} vs {software})")
    return f"{short(c)}, {rate:.1f} frames/s; bars {hard}"


def probe_picks(kind, key, name):
    """`camd probe --format json` lists `name` as present hardware in its `kind` list for `key`
    (decoders/h264, converters/RGB) and as the one camd picks."""
    report = json.loads(sh("camd", "probe", "--format", "json").stdout)
    choice = report["gstreamer"][kind][key]
    entry = next((e for e in choice["candidates"] if e["name"] == name), None)
    if not entry or not entry.get("hardware") or not entry.get("present"):
        raise CheckFailed(f"{name} not listed as present hardware: {json.dumps(choice)[:600]}")
    if choice.get("picked") != name:
        raise CheckFailed(f"probe picks {choice.get('picked')!r} for {key}")
    return json.dumps(entry)


# ---- the unit under systemd ----

UNIT_CONFIG = """
[daemon]
ring_group = "camd-readers"

[daemon.defaults]
retry_initial_s = 0.5

[[camera]]
name = "webcam"
url = "/dev/video0"
width = 640
height = 360
max_fps = 5
"""

RELOADED = UNIT_CONFIG + """
[[camera]]
name = "second"
url = "/dev/video1"
width = 320
height = 180
max_fps = 5
"""


def systemd_checks():
    vivid()
    with open("/etc/camd/camd.toml", "w") as f:
        f.write(UNIT_CONFIG)
    check("systemctl start camd reaches READY", unit_start)
    check("a camd-readers member reads the ring, others cannot", ring_permissions)
    check("systemctl reload adds a camera, keeps the other", unit_reload)
    check("systemctl stop stops camd and its workers", unit_stop)


def unit_status(name):
    return camera_in("/run/camd", name)


def unit_ok(name):
    return wait_state_in("/run/camd", name, "ok")


def unit_start():
    sh("systemd-sysusers")
    sh("systemctl", "daemon-reload")
    start = time.monotonic()
    sh("systemctl", "start", "camd", timeout=120)
    took = time.monotonic() - start
    state = sh("systemctl", "show", "camd", "-p", "ActiveState,SubState,StatusText").stdout
    if "ActiveState=active" not in state:
        raise CheckFailed(f"camd is not active after start: {state}")
    c = unit_ok("webcam")
    return f"start returned in {took:.1f} s ({' '.join(state.split())}); webcam {short(c)}"


def ring_permissions():
    ring = "/run/camd/webcam.ring"
    st = os.stat(ring)
    group = grp.getgrgid(st.st_gid).gr_name
    mode = oct(st.st_mode & 0o777)
    for user, groups in (("reader", "camd-readers"), ("stranger", None)):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(user)
            continue
        args = ["useradd", "--system", "--no-create-home", user]
        sh(*(args + (["-G", groups] if groups else [])))
    read = "import sys; open(sys.argv[1], 'rb').read(64)"
    member = sh("runuser", "-u", "reader", "--", "python3", "-c", read, ring, check_rc=False)
    if member.returncode != 0:
        raise CheckFailed(f"reader (camd-readers) cannot read {ring} ({group} {mode}): {member.stderr}")
    stat = sh("runuser", "-u", "reader", "--", "camd", "status", "--dir", "/run/camd", check_rc=False)
    if stat.returncode != 0 or "webcam" not in stat.stdout:
        raise CheckFailed(f"camd status as reader: {stat.stdout} {stat.stderr}")
    other = sh("runuser", "-u", "stranger", "--", "python3", "-c", read, ring, check_rc=False)
    if other.returncode == 0 or "Permission denied" not in other.stderr:
        raise CheckFailed(f"stranger read {ring} ({group} {mode}): rc {other.returncode}")
    return f"{ring} {group} {mode}: read as reader, refused to stranger"


def unit_reload():
    before = unit_status("webcam")
    with open("/etc/camd/camd.toml", "w") as f:
        f.write(RELOADED)
    sh("systemctl", "reload", "camd", timeout=60)
    c = unit_ok("second")
    after = unit_status("webcam")
    if after["writer_pid"] != before["writer_pid"] or after["status"] != "ok":
        raise CheckFailed(f"webcam's worker changed: {short(before)} -> {short(after)}")
    if (after.get("frames") or 0) <= (before.get("frames") or 0):
        raise CheckFailed("webcam published nothing across the reload")
    state = sh("systemctl", "show", "camd", "-p", "ActiveState").stdout.strip()
    return f"second {short(c)}; webcam kept worker {after['writer_pid']}; {state}"


def unit_stop():
    main_pid = sh("systemctl", "show", "camd", "-p", "MainPID", "--value").stdout.strip()
    start = time.monotonic()
    sh("systemctl", "stop", "camd", timeout=60)
    took = time.monotonic() - start
    props = sh("systemctl", "show", "camd", "-p", "ActiveState,Result").stdout
    if "ActiveState=inactive" not in props or "Result=success" not in props:
        raise CheckFailed(f"after stop: {props}")
    left = sh("pgrep", "-u", "camd", check_rc=False).stdout.split()
    if left:
        raise CheckFailed(f"processes of user camd left: {left}")
    return f"main pid {main_pid} stopped in {took:.1f} s, {' '.join(props.split())}"


# ---- main ----


def main():
    say(f"start: {os.uname().release}, {os.cpu_count()} cpus")
    sh("tar", "-C", "/", "-xzf", next(
        os.path.join(PAYLOAD, f) for f in os.listdir(PAYLOAD) if f.endswith(".tar.gz")
    ))
    log(sh("camd", "--version", check_rc=False).stdout.strip())
    # No ldconfig, as docs/deploy.md says: the Python module (latest_frame) loads the
    # libcamd_ring.so linked beside it.
    # The image holds root's plugin registry, scanned when it was made (xtask/src/vm.rs,
    # PRESCAN): camd run as root below starts without a scan. Under systemd (user camd, the
    # unit's own cache) camd's first worker scans every plugin, as on a board's first boot.
    start = time.monotonic()
    sh("gst-inspect-1.0", "--version")
    say(f"measure gstreamer start with the image's registry: {time.monotonic() - start:.1f} s")
    # vivid first, whatever the parts: its webcams are /dev/video0 and 1, visl takes the next.
    vivid()
    # `cargo xtask vm-test --only PART,...` writes the parts to run into the payload.
    only = ""
    with contextlib.suppress(FileNotFoundError):
        only = open(f"{PAYLOAD}/only").read().strip()
    parts = (
        ("webcams", webcam_checks),
        ("replug", replug_checks),
        ("decoder", decoder_checks),
        ("systemd", systemd_checks),
    )
    for part, fn in parts:
        if only and part not in only.split(","):
            continue
        say(f"part {part}")
        try:
            fn()
        except Exception:
            RESULTS["failed"] += 1
            say(f"FAIL {part} (setup): {traceback.format_exc().strip().splitlines()[-1]}")
            for line in traceback.format_exc().strip().splitlines():
                log(line)
    say(f"done {RESULTS['ok']} ok, {RESULTS['failed']} failed")


if __name__ == "__main__":
    main()
