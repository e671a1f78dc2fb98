"""One camera's consumer for `cargo xtask bench pixels` (benches/pixels.rs): what an inference
program does to get the RGB uint8 array of WIDTHxHEIGHT its model takes, from camd's ring, in
one of two ways.

    python3 consumer.py jpeg|raw RING OUT --width 640 --height 360 [--stride BYTES]

jpeg: the ring holds JPEG (1280x720 in the benchmark): wait_next, copy_latest (the safe copy
      the binding's docs show first), cv2.imdecode (BGR), cv2.resize to WIDTHxHEIGHT (OpenCV's
      default, bilinear), cv2.cvtColor BGR->RGB: the usual code.
raw:  the ring holds RGB at WIDTHxHEIGHT (format = "rgb"): wait_next, borrow_latest, a NumPy
      view of the slot's read-only memoryview (numpy.frombuffer, rows of STRIDE bytes as the
      ring's header.plane_strides[0] says, cut to WIDTH x 3 and split into pixels): no copy.

Both end with the same thing, a HEIGHT x WIDTH x 3 uint8 array in RGB order; the clock is read
then (latency: CLOCK_MONOTONIC now minus the frame's ts_mono_ns, camd's capture time), and both
do the same final work on it: one cheap reduction that reads every row (the sum of the middle
column), standing in for the model. raw then checks intact(): a frame whose slot was
overwritten meanwhile is discarded and not counted as delivered. Nothing else differs.

Prints `ready` once it has held its first array; at the end of its standard input writes OUT
(one line per frame held: seq ts_mono_ns mono_ns_held) and exits. Exits 2 with a message if
the ring is not what the mode reads.
"""

import argparse
import os
import sys
import threading
import time

import cv2
import numpy

import camd_ring

CODEC_RGB = 3  # header.codec 3 = RGB (docs/ring-format.md, "Raw frames")


def now_ns():
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC)


def open_ring(path, timeout_s=30.0):
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return camd_ring.Reader(path)
        except camd_ring.RingError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def fail(message):
    sys.stderr.write("consumer: %s\n" % message)
    sys.exit(2)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["jpeg", "raw"])
    parser.add_argument("ring")
    parser.add_argument("out")
    parser.add_argument("--width", type=int, required=True)
    parser.add_argument("--height", type=int, required=True)
    parser.add_argument("--stride", type=int, default=0, help="raw: bytes from a row to the next")
    args = parser.parse_args()
    width, height = args.width, args.height

    ring = open_ring(args.ring)
    if args.mode == "raw":
        if ring.info.codec != CODEC_RGB or (ring.info.width, ring.info.height) != (width, height):
            fail("%s: codec %d %dx%d, not RGB %dx%d" % (
                args.ring, ring.info.codec, ring.info.width, ring.info.height, width, height))
        if args.stride < width * 3:
            fail("--stride %d is less than a row of %d pixels" % (args.stride, width))
    elif ring.info.codec != camd_ring.CODEC_JPEG:
        fail("%s: codec %d, not JPEG" % (args.ring, ring.info.codec))

    stop = threading.Event()

    def wait_for_end_of_input():
        sys.stdin.buffer.read()
        stop.set()

    threading.Thread(target=wait_for_end_of_input, daemon=True).start()

    records = []
    checksum = 0
    last = ring.latest_seq()
    while not stop.is_set():
        if ring.wait_next(last, 0.2) is None:
            continue
        if args.mode == "jpeg":
            meta, jpeg = ring.copy_latest()
            bgr = cv2.imdecode(numpy.frombuffer(jpeg, numpy.uint8), cv2.IMREAD_COLOR)
            rgb = cv2.cvtColor(cv2.resize(bgr, (width, height)), cv2.COLOR_BGR2RGB)
            held = now_ns()
            checksum += int(rgb[:, width // 2].sum())
            intact = True
        else:
            frame = ring.borrow_latest()
            meta = frame.meta
            if len(frame.data) != args.stride * height:
                fail("frame %d: %d bytes, not %d rows of %d" % (
                    meta.seq, len(frame.data), height, args.stride))
            rows = numpy.frombuffer(frame.data, numpy.uint8).reshape(height, args.stride)
            rgb = rows[:, : width * 3].reshape(height, width, 3)
            held = now_ns()
            checksum += int(rgb[:, width // 2].sum())
            intact = frame.intact()
            del rows, rgb
            frame.release()
        if intact:
            records.append((meta.seq, meta.ts_mono_ns, held))
            if len(records) == 1:
                sys.stdout.write("ready\n")
                sys.stdout.flush()
        last = meta.seq

    with open(args.out, "w") as out:
        out.writelines("%d %d %d\n" % r for r in records)
    # The reduction's result, so that no runtime could skip the work.
    sys.stderr.write("consumer %s: %d frames, checksum %d\n" % (
        os.path.basename(args.ring), len(records), checksum))


if __name__ == "__main__":
    main()
