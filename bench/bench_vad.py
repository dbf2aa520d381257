"""vad_scores (one pass over the faces for all dimensions) against transforEmotion's method (one pass per dimension).

The baseline, measured in the same run, is what transforEmotion does: one
two-label ``image_scores_dir`` call per dimension, each finding, cropping and
embedding every face again. The model has openai/clip-vit-base-patch32's exact
dimensions and random weights (speed does not depend on the weights; nothing
is downloaded). Each figure is the best of --repeats runs, alternating the two,
because these machines are shared and noisy. The largest difference between
the two methods' scores is printed too: it must be below 1e-4.

    python bench/bench_vad.py                      # 16 photos, CPU
    python bench/bench_vad.py --images 200 --device cuda
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
import warnings

from PIL import Image

import transforemotion as te
from transforemotion.testing import build_clip_vit_b32
from transforemotion.vad import DEFINITIONAL_LABELS, POLES

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_scores import face_photos  # noqa: E402


def per_dimension(folder, options):
    """transforEmotion's vad_scores: one two-label classification per dimension."""
    out = {}
    for dim, labels in DEFINITIONAL_LABELS.items():
        high, low = (labels[p] for p in POLES[dim])
        out[dim] = te.image_scores_dir(folder, [high, low], **options)[high]
    return out


def timed(function):
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    with tempfile.TemporaryDirectory() as tmp:
        model = build_clip_vit_b32(os.path.join(tmp, "model"))
        folder = os.path.join(tmp, "photos")
        os.makedirs(folder)
        for i, photo in enumerate(face_photos(args.images)):
            Image.fromarray(photo).save(os.path.join(folder, f"{i:04d}.jpg"), quality=92)
        options = dict(local_model_path=model, device=args.device, progress=False)
        te.image_scores_dir(folder, ["a", "b"], **options)  # load the model and the detector once, untimed
        ours, baseline = [], []
        for _ in range(args.repeats):
            ours.append(timed(lambda: te.vad_scores(folder, **options)))
            baseline.append(timed(lambda: per_dimension(folder, options)))
        t_ours, r_ours = min(ours, key=lambda t: t[0])
        t_base, r_base = min(baseline, key=lambda t: t[0])
    diff = max(abs(a - b) for d in r_base for a, b in zip(r_ours[d], r_base[d]))
    print(f"python {platform.python_version()}, {platform.machine()}, device {args.device}, "
          f"{args.images} photos, ViT-B/32-sized model, best of {args.repeats}")
    print(f"transforEmotion's method (3 passes): {t_base:7.2f} s  {args.images / t_base:6.1f} photos/s")
    print(f"vad_scores (1 pass):                 {t_ours:7.2f} s  {args.images / t_ours:6.1f} photos/s")
    print(f"speed-up: {t_base / t_ours:.2f}x; largest difference between the scores: {diff:.2e}")


if __name__ == "__main__":
    main()
