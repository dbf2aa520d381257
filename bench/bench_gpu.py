"""The throughput table of issue 17 in one command: frames/s of video_scores and images/s of image_scores_dir
against the model-only limit measured in the same run, for ViT-B/32 and ViT-L/14 (their real dimensions,
random weights: speed does not depend on the weights, and nothing is downloaded).

    python bench/bench_gpu.py                       # on the GPU if there is one (half precision), else the CPU
    python bench/bench_gpu.py --device cpu --quick  # a small run, to check the script itself
    python bench/bench_gpu.py --models b32 --runs none largest

Rows: the selection (none, largest; all on a clip of four people walking), on a 1280x720 clip made here with
a real face (scikit-image's astronaut) and LFW faces, and image_scores_dir on a folder of 448-640 px JPEGs.
The model-only limit is the image tower alone on ready tensors of the model's input size, at the batch size
used and at 128. The face-finding threads and the face backend are the automatic ones (torch on a CUDA GPU,
OpenCV elsewhere); --face-workers and --face-backend set them. Each figure is the best of --repeats runs.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
import warnings

import cv2
import numpy as np
import torch
from PIL import Image

import transforemotion as te
from transforemotion import models
from transforemotion.core.checks import usable_cores
from transforemotion.engine import request as engine_request
from transforemotion.testing import build_clip_vit_b32, build_clip_vit_l14

from bench_scores import CLASSES, face_photos  # noqa: E402 (bench/ is on sys.path when run as a script)


BUILDERS = {"b32": build_clip_vit_b32, "l14": build_clip_vit_l14}


def make_clip(path, frames, people, width=1280, height=720, fps=25.0):
    """An HD clip of `people` faces moving across a textured background (one: the astronaut; more: LFW faces)."""
    from skimage import data

    rng = np.random.default_rng(1)
    background = cv2.GaussianBlur(rng.integers(40, 210, (height, width, 3), dtype=np.uint8), (0, 0), 6)
    if people == 1:
        faces = [cv2.resize(data.astronaut()[0:300, 100:350], (200, 240))]
    else:
        tiles = data.lfw_subset()[:people]
        faces = [np.repeat(cv2.resize((t * 255).astype(np.uint8), (150, 150))[:, :, None], 3, axis=2) for t in tiles]
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"MJPG"), fps, (width, height))
    for i in range(frames):
        frame = background.copy()
        for k, face in enumerate(faces):
            h, w = face.shape[:2]
            x = (60 + k * (width // max(1, len(faces))) + i * 4) % (width - w)
            y = 100 + (k % 2) * 250
            frame[y : y + h, x : x + w] = face
        writer.write(np.ascontiguousarray(frame[:, :, ::-1]))
    writer.release()
    return path


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def model_limit(vlm, count, batch):
    pixels = torch.randn(batch, 3, vlm.image_size, vlm.image_size, device=vlm.device).to(vlm.dtype)
    vlm.embed_pixels(pixels)  # warm-up (kernels chosen)
    sync(vlm.device)
    start = time.perf_counter()
    for _ in range(max(1, count // batch)):
        vlm.embed_pixels(pixels).cpu()
    sync(vlm.device)
    return max(1, count // batch) * batch / (time.perf_counter() - start)


def best_rate(repeats, count, fn):
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return count / best


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default=None, help="cuda, cpu (default: automatic)")
    parser.add_argument("--models", nargs="+", default=["b32", "l14"], choices=sorted(BUILDERS))
    parser.add_argument("--runs", nargs="+", default=["none", "largest", "all", "folder"],
                        choices=["none", "largest", "all", "folder"])
    parser.add_argument("--batch-size", type=int, default=None, help="default: 128 on a GPU, 32 on a CPU")
    parser.add_argument("--frames", type=int, default=None, help="frames per video run (default 900, quick 24)")
    parser.add_argument("--images", type=int, default=None, help="images in the folder run (default 512, quick 16)")
    parser.add_argument("--face-workers", type=int, default=None)
    parser.add_argument("--face-backend", default=None, choices=["opencv", "torch"])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="small sizes, to check the script")
    args = parser.parse_args(argv)
    if args.device:
        os.environ["TRANSFOREMOTION_DEVICE"] = args.device
    if args.face_workers:
        os.environ["TRANSFOREMOTION_FACE_WORKERS"] = str(args.face_workers)
    if args.face_backend:
        chosen = args.face_backend
        engine_request.resolve_face_backend = lambda backend, device_type: chosen
    frames = args.frames or (24 if args.quick else 900)
    n_images = args.images or (16 if args.quick else 512)
    warnings.simplefilter("ignore", te.TransforemotionWarning)

    work = tempfile.mkdtemp(prefix="transforemotion-gpu-bench-")
    clips = {1: make_clip(os.path.join(work, "one.avi"), frames, 1)}
    if "all" in args.runs:
        clips[4] = make_clip(os.path.join(work, "four.avi"), frames, 4)
    folder = os.path.join(work, "images")
    os.makedirs(folder)
    if "folder" in args.runs:
        for i, photo in enumerate(face_photos(n_images)):
            Image.fromarray(photo).save(os.path.join(folder, f"face{i:04d}.jpg"), quality=92)

    device = models.select_device(args.device)
    batch = args.batch_size or (128 if device.type == "cuda" else 32)
    gpu = torch.cuda.get_device_name(0) if device.type == "cuda" else "none"
    print(f"machine: {usable_cores()} cores ({platform.processor() or platform.machine()}), GPU {gpu}; torch "
          f"{torch.__version__}, OpenCV {cv2.__version__}; device {device}; batch {batch}; {frames} frames of "
          f"1280x720 per video run, {n_images} images", flush=True)
    print(f"{'model':<6} {'run':<26} {'rate':>12} {'model-only limit':>28} {'share':>7}", flush=True)
    for name in args.models:
        model_dir = BUILDERS[name](os.path.join(work, name))
        vlm = models.load_model(local_model_path=model_dir, device=args.device)
        limit = model_limit(vlm, max(batch, 4 * batch if device.type == "cuda" else batch), batch)
        limit_128 = model_limit(vlm, 512 if device.type == "cuda" else 128, 128) if not args.quick else limit
        common = dict(local_model_path=model_dir, batch_size=batch, progress=False, device=args.device)
        for run in args.runs:
            if run == "folder":
                count = n_images
                fn = lambda: te.image_scores_dir(folder, CLASSES, face_selection="largest", **common)  # noqa: E731
                label = "image_scores_dir 'largest'"
            else:
                clip = clips[4 if run == "all" else 1]
                count = frames
                fn = lambda clip=clip, run=run: te.video_scores(  # noqa: E731
                    clip, CLASSES, nframes=frames, ffreq=1, face_selection=run, **common)
                label = f"video {run!r}" + (" (4 people)" if run == "all" else "")
            fn()  # warm-up: detectors built, kernels chosen
            rate = best_rate(args.repeats, count, fn)
            print(f"{name:<6} {label:<26} {rate:9.1f} /s   {limit:9.1f} /s (batch {batch}), "
                  f"{limit_128:8.1f} at 128 {rate / limit:6.0%}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
