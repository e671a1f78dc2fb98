"""The consumer of the Python design: the inference process's loop over the Manager dict,
without the inference.

Like the design's inference worker: list the dict's keys, get each camera's entry (one round
trip to the manager process, the whole entry unpickled, JPEG included), use it if its status is
ok, it has a frame and it is under 2 s old, then sleep 50 ms (the design's ~20 passes a second).
With no inference in the loop it polls as often as the design ever would: the best case for
the design's delivery latency.

A frame counts as delivered the first time the consumer holds an entry with a new `seq`; the
record is (camera, seq, mono_ns at encode, CLOCK_MONOTONIC right after the get returned).
"""

import sys
import time


def mono_ns():
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC)


def consumer(shared_dict, cam_names, out_path, poll_s=0.05):
    last = {}
    records = []
    ready = False
    try:
        while True:
            for cam_name in list(shared_dict.keys()):
                data = shared_dict.get(cam_name, {})
                held = mono_ns()
                if (
                    data.get("status") == "ok"
                    and data.get("frame") is not None
                    and time.time() - data.get("ts", 0) < 2.0
                ):
                    seq = data["seq"]
                    if last.get(cam_name) != seq:
                        last[cam_name] = seq
                        records.append((cam_name, seq, data["mono_ns"], held))
            if not ready and all(name in last for name in cam_names):
                ready = True
                sys.stdout.write("ready\n")  # one write: workers print on the same pipe
                sys.stdout.flush()
            time.sleep(poll_s)
    except (KeyboardInterrupt, OSError, EOFError):
        pass
    finally:
        with open(out_path, "w") as out:
            for cam_name, seq, produced, held in records:
                out.write("%s %d %d %d\n" % (cam_name, seq, produced, held))
        sys.stdout.flush()
