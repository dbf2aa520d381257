"""Speed of the torch MTCNN (transforemotion.mtcnn_torch) against the OpenCV one (transforemotion.faces).

Both run the same three networks and find the same faces (tests/test_mtcnn_torch.py);
this measures frames per second on two sets of real pictures:

  corpus    the face corpus of tests/face_corpus.py (OpenCV's sample film
            Megamind.avi and stills, scikit-image's portraits and LFW faces;
            pictures of many sizes)
  Megamind  every --film-step-th frame of Megamind.avi (720x528), as a video
            is scored

and two searches:

  full      every face down to 20 px: faces.detect_faces / TorchMTCNN.detect
  largest   what face_selection="largest" runs: find_faces_for(..., "largest"),
            since issue 27 the full search (the quick search for large faces
            first found other boxes than "all")

OpenCV searches one picture at a time; the torch detector is given --batch
pictures per call (1 and 16 by default) and groups those of one size into
one batch per network (cut at its max_pixels, see --max-pixels). Each set is
timed best of --repeats, alternating the backends, because these machines
are shared and noisy; ratios above 1 mean torch is faster.

    python bench/bench_faces_torch.py                          # CPU, default threads
    python bench/bench_faces_torch.py --threads 1 --clock cpu  # on a busy machine
    python bench/bench_faces_torch.py --device cuda            # torch on the GPU, OpenCV on the CPU
    python bench/bench_faces_torch.py --max-pixels 8388608     # bigger torch batches
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time

import cv2
import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))

import face_corpus  # noqa: E402
from bench_faces import best_of  # noqa: E402
from transforemotion import faces  # noqa: E402
from transforemotion.faces.mtcnn_torch import TorchMTCNN  # noqa: E402


def in_batches(items, size):
    return [items[i:i + size] for i in range(0, len(items), size)]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu", help="where the torch networks run: cpu (default), cuda, cuda:1")
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 16],
                        help="pictures per call of the torch detector (default: 1 16)")
    parser.add_argument("--max-pixels", type=int, default=None,
                        help="the torch detector's max_pixels (default: its figure for the device)")
    parser.add_argument("--repeats", type=int, default=3, help="best of this many runs per set (default 3)")
    parser.add_argument("--threads", type=int, default=None,
                        help="cv2.setNumThreads and torch.set_num_threads for the run (default: leave both)")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                        help="wall: elapsed time; cpu: this process's CPU time, less disturbed by other work on "
                        "a shared machine (with --threads 1 the two measure the same thing; not for --device cuda)")
    parser.add_argument("--film-step", type=int, default=5, help="every n-th frame of Megamind.avi (default 5)")
    parser.add_argument("--only", choices=("corpus", "Megamind"), default=None, help="one set only")
    args = parser.parse_args(argv)
    if any(b < 1 for b in args.batch):
        parser.error(f"--batch takes whole numbers from 1; got {args.batch}")
    if args.clock == "cpu" and args.device != "cpu":
        parser.error("--clock cpu does not count the GPU's time; use --clock wall with --device cuda")

    if args.threads is not None:
        cv2.setNumThreads(args.threads)
        torch.set_num_threads(args.threads)
    clock = time.perf_counter if args.clock == "wall" else time.process_time
    detector = TorchMTCNN(args.device, max_pixels=args.max_pixels)
    sets = {}
    if args.only in (None, "corpus"):
        sets["corpus"] = [rgb for _, rgb in face_corpus.corpus()]
    if args.only in (None, "Megamind"):
        sets["Megamind"] = [frame for _, frame in face_corpus.sample_frames("Megamind.avi", step=args.film_step)]

    searches = {
        "full": (faces.detect_faces, detector.detect),
        "largest": (lambda rgb: faces.find_faces_for(rgb, "largest"),
                    lambda batch: detector.find_faces_for(batch, "largest")),
    }
    gpu = torch.cuda.get_device_name(detector.device) if detector.device.type == "cuda" else "no GPU"
    print(f"OpenCV {cv2.__version__} ({cv2.getNumThreads()} threads), torch {torch.__version__} "
          f"({torch.get_num_threads()} threads) on {detector.device} ({gpu}), max_pixels {detector.max_pixels}, "
          f"pool padding {detector.pool_padding!r}; {os.cpu_count()} CPUs, "
          f"{platform.processor() or platform.machine()}; best of {args.repeats}, {args.clock} time")
    header = f"{'set':9s} {'search':8s} {'frames':>6s} {'opencv':>9s}" + "".join(
        f" {'torch b' + str(b):>10s} {'ratio':>6s}" for b in args.batch) + "   faces opencv / torch"
    print(header)
    print("-" * len(header))
    for set_name, pictures in sets.items():
        for search, (opencv_search, torch_search) in searches.items():
            # Warm up: oneDNN and cuDNN prepare their kernels on first use of a shape.
            for b in args.batch:
                for batch in in_batches(pictures, b):
                    torch_search(batch)
            calls = [lambda: [opencv_search(rgb) for rgb in pictures]]
            calls += [lambda b=b: [torch_search(batch) for batch in in_batches(pictures, b)] for b in args.batch]
            times = best_of(args.repeats, clock, *calls)
            theirs = sum(len(opencv_search(rgb)) for rgb in pictures)
            ours = sum(len(found) for batch in in_batches(pictures, max(args.batch)) for found in torch_search(batch))
            rate = [len(pictures) / t for t in times]
            print(f"{set_name:9s} {search:8s} {len(pictures):6d} {rate[0]:7.1f}/s" + "".join(
                f" {r:8.1f}/s {r / rate[0]:5.2f}x" for r in rate[1:]) + f"   {theirs} / {ours}")


if __name__ == "__main__":
    main()
