"""Throughput of score_corpus (local and Ray engines) against video_scores called video by video.

A corpus of --videos videos of --frames frames each (a face moving over a
background, 720x528 as in bench_scores.py), every frame sampled, scored with a
model of openai/clip-vit-base-patch32's exact dimensions and random weights
(speed does not depend on the weights; nothing is downloaded). In each of
--repeats rounds the three runs alternate, and each figure is the best round,
because these machines are shared and noisy:

- baseline: ``video_scores`` on each video in turn (the model stays loaded);
- local: ``score_corpus(engine="local")`` into a fresh folder (target: at
  least 0.9x the baseline's throughput, i.e. within 10 %);
- ray: ``score_corpus(engine="ray", workers=--workers)`` into a fresh folder,
  on a Ray instance started once before the rounds (as a cluster would be);
  the workers' start and model loads are inside the time (target: at least
  0.8x the local engine on a 2-core machine).

    python bench/bench_corpus.py                       # CPU, 8 videos x 200 frames
    python bench/bench_corpus.py --device cuda --workers 1 --videos 16
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
import time
import warnings

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import transforemotion as te  # noqa: E402
from transforemotion import models  # noqa: E402
from transforemotion.testing import build_clip_vit_b32  # noqa: E402
from bench_scores import CLASSES, make_video  # noqa: E402


def timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--videos", type=int, default=8)
    parser.add_argument("--frames", type=int, default=200, help="frames per video, all of them scored")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2, help="Ray workers")
    parser.add_argument("--cpus-per-worker", type=float, default=0.5)
    parser.add_argument("--face-selection", default="largest")
    parser.add_argument("--device", default=None, help="cpu, cuda, mps (default: automatic)")
    parser.add_argument("--no-ray", action="store_true", help="skip the Ray engine")
    args = parser.parse_args(argv)
    if args.device:
        os.environ["TRANSFOREMOTION_DEVICE"] = args.device
    warnings.simplefilter("ignore", te.TransforemotionWarning)

    work = tempfile.mkdtemp(prefix="transforemotion-bench-corpus-")
    model_dir = build_clip_vit_b32(os.path.join(work, "clip-b32"))
    folder = os.path.join(work, "videos")
    os.makedirs(folder)
    paths = []
    for i in range(args.videos):
        paths.append(os.path.join(folder, f"video{i:02d}.avi"))
        make_video(paths[-1], args.frames)
    total = args.videos * args.frames
    options = dict(nframes=args.frames, ffreq=1, face_selection=args.face_selection, local_model_path=model_dir,
                   progress=False)
    vlm = models.load_model(local_model_path=model_dir)
    gpu = torch.cuda.get_device_name(0) if vlm.device.type == "cuda" else "none"
    print(f"machine: {os.cpu_count()} CPU cores ({platform.processor() or platform.machine()}), GPU {gpu}; "
          f"torch {torch.__version__} threads {torch.get_num_threads()}; device {vlm.device}")
    print(f"corpus: {args.videos} videos x {args.frames} frames = {total} frames, face_selection "
          f"{args.face_selection!r}; best of {args.repeats}", flush=True)

    def baseline():
        for path in paths:
            te.video_scores(path, CLASSES, **options)

    def corpus(engine, **extra):
        out = os.path.join(work, f"out-{engine}")
        shutil.rmtree(out, ignore_errors=True)
        te.score_corpus(folder, CLASSES, out, engine=engine, **options, **extra)
        return out

    # Warm-up, and a check that the corpus gives video_scores' rows.
    one = te.video_scores(paths[0], CLASSES, timestamps=True, **options)
    rows = te.read_corpus(corpus("local"))
    first = [i for i, s in enumerate(rows["source"]) if s == os.path.basename(paths[0])]
    assert np.allclose([rows["joy"][i] for i in first], one["joy"], atol=1e-6, equal_nan=True)

    use_ray = not args.no_ray
    if use_ray:
        import ray

        ray.init(num_cpus=os.cpu_count(), include_dashboard=False, logging_level="ERROR", log_to_driver=False)
    ray_options = dict(workers=args.workers, cpus_per_worker=args.cpus_per_worker)
    best = {"video_scores": float("inf"), "local": float("inf"), "ray": float("inf")}
    for round_ in range(args.repeats):
        best["video_scores"] = min(best["video_scores"], timed(baseline))
        best["local"] = min(best["local"], timed(lambda: corpus("local")))
        if use_ray:
            best["ray"] = min(best["ray"], timed(lambda: corpus("ray", **ray_options)))
        print(f"  round {round_ + 1}: " + ", ".join(f"{k} {v:.1f} s" for k, v in best.items() if v < float("inf")),
              flush=True)
    if use_ray:
        ray.shutdown()

    rate = {k: total / v for k, v in best.items()}
    print(f"video_scores, video by video      {rate['video_scores']:8.1f} frames/s")
    ratio = rate["local"] / rate["video_scores"]
    print(f"score_corpus engine='local'       {rate['local']:8.1f} frames/s   {ratio:5.2f}x video_scores "
          f"(target >= 0.90: {'met' if ratio >= 0.9 else 'NOT met'})")
    if use_ray:
        ratio = rate["ray"] / rate["local"]
        print(f"score_corpus engine='ray', {args.workers} workers {rate['ray']:8.1f} frames/s   {ratio:5.2f}x local "
              f"(target >= 0.80: {'met' if ratio >= 0.8 else 'NOT met'})")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
