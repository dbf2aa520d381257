"""What following people through a video adds to video_scores(face_selection="all").

The clip is tests/clips.py's two-person clip (real LFW faces that cross, one
leaves and comes back), scored with video_scores(face_selection="all") by a
random-weight model (openai/clip-vit-base-patch32's dimensions by default;
``--model tiny`` for the tiny test model). Its rows are then given person ids
twice: by the tracker alone (motion only), and by the tracker with the
appearance descriptor of each face (what the scoring path would do; the
descriptors are computed from frames decoded beforehand, so decoding, which
the scoring path already does, is not counted). Each figure is the best of
--repeats runs, because these machines are shared and noisy. Target: tracking
adds at most 5 % to video_scores' time.

    python bench/bench_tracking.py
    python bench/bench_tracking.py --model tiny --repeats 5
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
import warnings

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))  # the clip maker is shared with the tests

import clips  # noqa: E402
import transforemotion as te  # noqa: E402
from transforemotion.testing import build_clip_vit_b32, build_tiny_clip  # noqa: E402
from transforemotion.faces.tracking import PersonTracker, face_descriptor, track_rows  # noqa: E402

CLASSES = ["joy", "sadness", "anger", "fear", "surprise", "disgust", "contempt"]
TARGET = 0.05


def best_of(repeats, fn):
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", choices=("b32", "tiny"), default="b32")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--ffreq", type=int, default=2, help="score every ffreq-th frame of the 144-frame clip")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore", te.TransforemotionWarning)

    work = tempfile.mkdtemp(prefix="transforemotion-bench-tracking-")
    build = build_clip_vit_b32 if args.model == "b32" else build_tiny_clip
    model_dir = build(os.path.join(work, args.model))
    clip = clips.two_people(os.path.join(work, "two.avi"))
    nframes = len(range(0, clip.frames, args.ffreq))
    print(f"machine: {os.cpu_count()} CPU cores ({platform.processor() or platform.machine()}); "
          f"torch {torch.__version__} threads {torch.get_num_threads()}; model {args.model}; "
          f"{nframes} sampled frames of {clips.WIDTH}x{clips.HEIGHT}", flush=True)

    def score():
        return te.video_scores(clip.path, CLASSES, nframes=nframes, ffreq=args.ffreq, face_selection="all",
                               local_model_path=model_dir, progress=False)

    score()  # warm-up: loads the model, fills caches
    scoring, rows = best_of(args.repeats, score)
    found = ~np.isnan(np.asarray(rows["x"], dtype=float))
    frames = np.asarray(rows["frame"])
    boxes = np.full((len(frames), 4), np.nan)
    x, y = np.asarray(rows["x"], dtype=float), np.asarray(rows["y"], dtype=float)
    boxes[:, 0], boxes[:, 1] = x, y
    boxes[:, 2] = x + np.asarray(rows["width"], dtype=float) - 1
    boxes[:, 3] = y + np.asarray(rows["height"], dtype=float) - 1
    confidence = np.asarray(rows["confidence"], dtype=float)
    size = (clips.HEIGHT, clips.WIDTH)

    decoded = dict(clips.read_clip(clip, step=args.ffreq))

    def describe():
        vectors = np.zeros((len(frames), 723))
        for r in np.flatnonzero(found):
            vectors[r] = face_descriptor(decoded[int(frames[r])], boxes[r])
        return vectors

    motion, _ = best_of(args.repeats, lambda: track_rows(frames, boxes, confidence, None, size, PersonTracker()))
    describing, vectors = best_of(args.repeats, describe)
    appearance, person = best_of(args.repeats, lambda: track_rows(frames, boxes, confidence, vectors, size,
                                                                  PersonTracker()))
    faces = int(found.sum())
    people = len(set(person[person >= 0].tolist()))
    print(f"video_scores(face_selection='all'): {scoring:.2f} s for {nframes} frames, {faces} faces "
          f"({scoring / nframes * 1000:.1f} ms a frame)")
    print(f"tracker, motion only:               {motion * 1000:7.1f} ms ({motion / nframes * 1e6:6.0f} us a frame)"
          f"   ratio {motion / scoring:.4f}")
    print(f"face descriptors:                   {describing * 1000:7.1f} ms ({describing / faces * 1e6:6.0f} us a face)")
    print(f"tracker with appearance:            {appearance * 1000:7.1f} ms ({appearance / nframes * 1e6:6.0f} us a frame)")
    added = (describing + appearance) / scoring
    print(f"tracking added (descriptors + tracker with appearance): {added * 100:.2f} % of video_scores' time "
          f"(ratio {added:.4f}; target <= {TARGET:.2f}: {'met' if added <= TARGET else 'NOT met'}); "
          f"{people} people found (the clip has 2)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
