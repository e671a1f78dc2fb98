"""Runs the Python design camd replaces: a multiprocessing.Manager dict, one worker process per
group of cameras (camera_process_worker), and a consumer process reading the dict.

    python3 run.py --out-dir DIR [--per-process 4] [--quality 85] NAME=URL...

Prints `pid ROLE PID` per process, `camera NAME backend B` per opened capture and `ready` once the consumer has held a frame
of every camera. Ctrl-C (SIGINT to the process group) stops everything; then DIR holds
capture-<worker>.txt (camera seq mono_ns per encoded frame) and consumer.txt (camera seq
mono_ns_encoded mono_ns_held per delivered frame).
"""

import argparse
import multiprocessing
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from camera_process import camera_process_worker  # noqa: E402
from consumer import consumer  # noqa: E402


def main():
    # Ctrl-C raises KeyboardInterrupt even when started with SIGINT ignored (a background job).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    parser = argparse.ArgumentParser()
    parser.add_argument("--out-dir", required=True)
    parser.add_argument("--per-process", type=int, default=4)
    parser.add_argument("--quality", type=int, default=85)
    parser.add_argument("--max-retry-attempts", type=int, default=5)
    parser.add_argument("cameras", nargs="+", help="NAME=URL")
    args = parser.parse_args()
    cameras = [tuple(c.split("=", 1)) for c in args.cameras]

    manager = multiprocessing.Manager()
    shared_dict = manager.dict()
    processes = []
    for process_id, first in enumerate(range(0, len(cameras), args.per_process)):
        group = cameras[first : first + args.per_process]
        log = os.path.join(args.out_dir, "capture-%d.txt" % process_id)
        processes.append(
            multiprocessing.Process(
                target=camera_process_worker,
                args=(process_id, group, shared_dict, args.max_retry_attempts, args.quality, log),
            )
        )
    processes.append(
        multiprocessing.Process(
            target=consumer,
            args=(shared_dict, [c[0] for c in cameras], os.path.join(args.out_dir, "consumer.txt")),
        )
    )
    for p in processes:
        p.start()
    # For the benchmark's CPU breakdown: which process is which.
    roles = [("manager", manager._process.pid)]
    roles += [("worker", p.pid) for p in processes[:-1]] + [("consumer", processes[-1].pid)]
    sys.stdout.write("".join("pid %s %d\n" % role for role in roles))
    sys.stdout.flush()
    try:
        for p in processes:
            p.join()
    except KeyboardInterrupt:
        for p in processes:
            p.join(timeout=5)
            if p.is_alive():
                p.kill()


if __name__ == "__main__":
    main()
