"""One camera of the Python design: a thread that reads frames with OpenCV and keeps the latest
JPEG in its process's local dict.

As in the design camd replaces: cv2.VideoCapture on the camera's URL (OpenCV's FFmpeg backend for
rtsp://), every frame decoded to BGR and encoded with cv2.imencode, the entry
{frame: JPEG bytes, ts, status} replaced in the local dict; statuses ok, retrying (with
retry_count, next_retry_in), connection_failed (max_retry_attempts failures in a row) and
no_signal (a read failed: reconnect). Two measurement-only additions: each entry carries `seq`
(frames encoded by this camera) and `mono_ns` (CLOCK_MONOTONIC when cv2.imencode returned: the
moment the JPEG exists), and the thread keeps (seq, mono_ns) of every frame in `captured`.
"""

import sys
import threading
import time

import cv2


def mono_ns():
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC)


class CameraThread(threading.Thread):
    def __init__(self, cam_name, cam_url, local_dict, max_retry_attempts=5, jpeg_quality=85):
        super().__init__(daemon=True, name=cam_name)
        self.cam_name = cam_name
        self.cam_url = cam_url
        self.local_dict = local_dict
        self.max_retry_attempts = max_retry_attempts
        self.jpeg_quality = jpeg_quality
        self.running = False
        self.retry_count = 0
        self.seq = 0
        self.captured = []  # measurement: (seq, mono_ns) of every encoded frame

    def _set_status(self, status, **extra):
        entry = {"frame": None, "ts": time.time(), "status": status}
        entry.update(extra)
        self.local_dict[self.cam_name] = entry

    def _connect(self, timeout=5.0):
        """Opens the capture, trying again every 0.1 s for up to `timeout` seconds."""
        deadline = time.time() + timeout
        cap = cv2.VideoCapture(self.cam_url)
        while not cap.isOpened() and time.time() < deadline and self.running:
            time.sleep(0.1)
            cap = cv2.VideoCapture(self.cam_url)
        if cap.isOpened():
            self.retry_count = 0
            # One write: lines of several processes share the pipe.
            sys.stdout.write("camera %s backend %s\n" % (self.cam_name, cap.getBackendName()))
            sys.stdout.flush()
            return cap
        return None

    def _failed(self):
        """One more failed attempt: False once max_retry_attempts are used up."""
        self.retry_count += 1
        if self.retry_count >= self.max_retry_attempts:
            self._set_status("connection_failed", retry_count=self.retry_count)
            return False
        wait = min(2**self.retry_count, 30)
        self._set_status("retrying", retry_count=self.retry_count, next_retry_in=wait)
        time.sleep(wait)
        return True

    def _reconnect(self):
        cap = None
        while self.running and cap is None:
            cap = self._connect()
            if cap is None and not self._failed():
                return None
        return cap

    def run(self):
        self.running = True
        cap = self._reconnect()
        while self.running and cap is not None:
            ok, frame = cap.read()
            if not ok:
                self._set_status("no_signal")
                cap.release()
                cap = self._reconnect()
                continue
            ok, buf = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, self.jpeg_quality])
            if not ok:
                continue
            now = mono_ns()
            self.seq += 1
            self.captured.append((self.seq, now))
            self.local_dict[self.cam_name] = {
                "frame": buf.tobytes(),
                "ts": time.time(),
                "status": "ok",
                "seq": self.seq,
                "mono_ns": now,
            }
        if cap is not None:
            cap.release()

    def stop(self):
        self.running = False
