"""A worker process of the Python design: one CameraThread per camera of its group, and a loop
that copies the process's local dict into the Manager dict every 100 ms.

`camera_process_worker(process_id, camera_list, shared_dict, max_retry_attempts=5)` as in the
design, plus the JPEG quality and, for the benchmark, a file where the worker writes every
camera's (seq, mono_ns) list when it stops (after the measured window).

One deliberate difference: the design iterates `local_dict.items()` itself, and its loop dies
with "dictionary changed size during iteration" when a camera's first frame lands mid-copy
(seen in 2 of 22 worker starts, FIELD-NOTES); nothing restarts it. A benchmark run must not lose
a worker to that, so the loop iterates a snapshot (`list(...)`, a list of <= 4 pairs: no
measurable cost). Every entry is still copied every 100 ms, changed or not, as in the design.
"""

import time

from camera_thread import CameraThread


def camera_process_worker(
    process_id, camera_list, shared_dict, max_retry_attempts=5, jpeg_quality=85, log_path=None
):
    local_dict = {}
    threads = []
    for cam_name, cam_url in camera_list:
        thread = CameraThread(cam_name, cam_url, local_dict, max_retry_attempts, jpeg_quality)
        threads.append(thread)
        thread.start()
    try:
        while True:
            for cam_name, data in list(local_dict.items()):
                shared_dict[cam_name] = data
            time.sleep(0.1)
    except (KeyboardInterrupt, OSError, EOFError):
        # Ctrl-C (the benchmark's stop), or the manager went first.
        pass
    finally:
        for thread in threads:
            thread.stop()
        for thread in threads:
            thread.join(timeout=1.0)
        if log_path:
            with open(log_path, "w") as out:
                for thread in threads:
                    for seq, ns in list(thread.captured):
                        out.write("%s %d %d\n" % (thread.cam_name, seq, ns))
