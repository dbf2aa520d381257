"""What following people through a video adds to video_scores(face_selection="all").

The clip is tests/clips.py's two-person clip (real LFW faces that cross, one
leaves and comes back), scored with face_selection="all" by a random-weight
model (openai/clip-vit-base-patch32's dimensions by default; ``--model tiny``
for the tiny test model). Two runs of the scoring path that video_scores
takes (decode, detect, crop, embed, shape the columns), alternated so that
both see the same load on a shared machine:

- without tracking: no appearance vectors, no tracker;
- with tracking: each face's appearance vector made next to its crop, the
  tracker run batch by batch, and the rows for missing people added:
  exactly what video_scores(face_selection="all") now does.

Each figure is the best of --repeats runs, because these machines are shared
and noisy. Target: tracking adds at most 5 % to the time without it. The
parts are also timed on their own (descriptors, tracker), and
video_scores itself once, as a check that the path timed is the real one.

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
from transforemotion.engine import (PersonFollower, Picture, ScoringOptions, rows_to_columns,  # noqa: E402
                                    score_pictures, scoring_request, time_columns, with_persons)
from transforemotion.faces.tracking import PersonTracker, face_descriptor, track_rows  # noqa: E402
from transforemotion.media import open_video, read_frames  # noqa: E402
from transforemotion.testing import build_clip_vit_b32, build_tiny_clip  # noqa: E402

CLASSES = ["joy", "sadness", "anger", "fear", "surprise", "disgust", "contempt"]
TARGET = 0.05


def scoring_path(path, indices, model_dir, track: bool):
    """video_scores(face_selection="all")'s path, with or without following people."""
    options = ScoringOptions(face_selection="all", local_model_path=model_dir, progress=False)
    request = scoring_request(CLASSES, options, video=track)
    capture, _, fps = open_video(path)
    try:
        pictures = (Picture(row, frame) for row, frame in read_frames(capture, indices))
        follower = PersonFollower() if track else None
        rows = score_pictures(request, pictures, len(indices), "frame", "bench", on_rows=follower)
    finally:
        capture.release()
    if track:
        rows = with_persons(rows, follower.finish())
    return rows_to_columns(rows, request, time_columns(indices.__getitem__, fps))


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
    indices = list(range(0, clip.frames, args.ffreq))
    nframes = len(indices)
    print(f"machine: {os.cpu_count()} CPU cores ({platform.processor() or platform.machine()}); "
          f"torch {torch.__version__} threads {torch.get_num_threads()}; model {args.model}; "
          f"{nframes} sampled frames of {clips.WIDTH}x{clips.HEIGHT}", flush=True)

    scoring_path(clip.path, indices, model_dir, True)  # warm-up: loads the model, fills caches
    plain_times, tracked_times = [], []
    for _ in range(args.repeats):  # alternated, so that a busy moment of the machine hits both alike
        start = time.perf_counter()
        scoring_path(clip.path, indices, model_dir, False)
        plain_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        rows = scoring_path(clip.path, indices, model_dir, True)
        tracked_times.append(time.perf_counter() - start)
    plain, tracked = min(plain_times), min(tracked_times)
    start = time.perf_counter()
    public = te.video_scores(clip.path, CLASSES, nframes=nframes, ffreq=args.ffreq, face_selection="all",
                             local_model_path=model_dir, progress=False)
    public_time = time.perf_counter() - start
    assert public["person"] == rows["person"] or all(
        a == b or (a != a and b != b) for a, b in zip(public["person"], rows["person"]))

    # The parts on their own, from the frames decoded beforehand.
    found = ~np.isnan(np.asarray(rows["x"], dtype=float))
    frames = np.asarray(rows["frame"])
    x, y = np.asarray(rows["x"], dtype=float), np.asarray(rows["y"], dtype=float)
    boxes = np.stack([x, y, x + np.asarray(rows["width"], float) - 1, y + np.asarray(rows["height"], float) - 1], 1)
    decoded = dict(clips.read_clip(clip, step=args.ffreq))
    start = time.perf_counter()
    vectors = np.full((len(frames), 723), np.nan)
    for r in np.flatnonzero(found):
        vectors[r] = face_descriptor(decoded[int(frames[r])], boxes[r])
    describing = time.perf_counter() - start
    start = time.perf_counter()
    track_rows(frames, boxes, np.asarray(rows["confidence"], float), vectors, (clips.HEIGHT, clips.WIDTH),
               PersonTracker())
    tracker = time.perf_counter() - start

    faces = int(found.sum())
    people = sorted(p for p in set(rows["person"]) if p == p)
    added = tracked / plain - 1
    print(f"scoring path without tracking:  {plain:.2f} s for {nframes} frames ({plain / nframes * 1000:.1f} ms a "
          f"frame); runs: {', '.join(f'{t:.2f}' for t in plain_times)}")
    print(f"scoring path with tracking:     {tracked:.2f} s; runs: {', '.join(f'{t:.2f}' for t in tracked_times)}")
    print(f"video_scores(face_selection='all'), once: {public_time:.2f} s")
    print(f"parts alone: face descriptors {describing * 1000:.1f} ms ({describing / faces * 1e6:.0f} us a face, "
          f"{faces} faces), tracker {tracker * 1000:.1f} ms ({tracker / nframes * 1e6:.0f} us a frame); "
          f"together {(describing + tracker) / plain * 100:.2f} % of the time without tracking")
    print(f"tracking added: {added * 100:+.2f} % (ratio with/without {tracked / plain:.4f}; target <= "
          f"{1 + TARGET:.2f}: {'met' if added <= TARGET else 'NOT met'}); people found: {people} (the clip has 2)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
