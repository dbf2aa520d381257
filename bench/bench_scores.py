"""Throughput of image_scores_dir and video_scores against the model-only floor.

The model has openai/clip-vit-base-patch32's exact dimensions and random
weights (speed does not depend on the weights; nothing is downloaded). The
floor is the image tower alone on the same number of pre-made 224x224 tensors,
in batches of the same size, measured in the same run. Pipeline and floor
are timed in alternation, --repeats times each; the ratio printed is the
median of the paired ratios, because these machines are shared and their
speed drifts by 10-20 % over a minute (a best-of-each ratio pairs runs from
different minutes). The rates printed are the best runs.

The film check times video_scores on 25 frames of OpenCV's sample film
Megamind.avi (Debian's opencv-doc) against the same work done one stage after
another: decode those frames, find the largest face in each, embed the crops.
The pipeline overlaps the stages, so it must take no longer.

Targets (issue 17, 2 cores): images <= 1.46x, video 'largest' <= 1.31x,
video 'none' <= 1.15x of the floor; film <= 1.0x of the stages in sequence.

    python bench/bench_scores.py                 # images, video and film, CPU
    python bench/bench_scores.py --only video --nframes 250 --device cuda
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
from transforemotion.core.checks import DEFAULT_BATCH_SIZE
from transforemotion.testing import build_clip_vit_b32

CLASSES = ["joy", "sadness", "anger", "fear", "surprise", "disgust", "contempt"]


def face_photos(count):
    """Varied real photos: the public-domain astronaut portrait, shifted, scaled and mirrored."""
    from skimage import data

    base = data.astronaut()
    rng = np.random.default_rng(0)
    photos = []
    for i in range(count):
        img = base[:, ::-1] if i % 2 else base
        side = int(rng.integers(448, 640))
        img = cv2.resize(img, (side, side), interpolation=cv2.INTER_AREA)
        photos.append(np.ascontiguousarray(img))
    return photos


def make_video(path, frames, width=720, height=528, fps=25.0):
    """A face moving over a 720x528 background, the size of the film clip in the issue."""
    from skimage import data

    face = cv2.resize(data.astronaut()[0:300, 100:350], (200, 240))
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"MJPG"), fps, (width, height))
    rng = np.random.default_rng(1)
    background = rng.integers(60, 200, (height, width, 3), dtype=np.uint8)
    background = cv2.GaussianBlur(background, (0, 0), 8)
    for i in range(frames):
        frame = background.copy()
        x = 40 + (i * 3) % (width - 280)
        frame[120:360, x : x + 200] = face
        writer.write(np.ascontiguousarray(frame[:, :, ::-1]))
    writer.release()


def group_photo(faces=12, per_row=4, side=96):
    """A group picture: real faces (Labeled Faces in the Wild, from scikit-image) on a grey background."""
    from skimage import data

    tiles = data.lfw_subset()[:faces]
    rows = (faces + per_row - 1) // per_row
    canvas = np.full((rows * (side + 40) + 40, per_row * (side + 40) + 40, 3), 120, np.uint8)
    for i, tile in enumerate(tiles):
        face = cv2.resize((tile * 255).astype(np.uint8), (side, side), interpolation=cv2.INTER_CUBIC)
        y, x = 40 + (i // per_row) * (side + 40), 40 + (i % per_row) * (side + 40)
        canvas[y : y + side, x : x + side] = face[:, :, None]
    return canvas


def floor_seconds(vlm, count):
    """The image tower alone on `count` ready 224x224 tensors, batched like the pipeline."""
    pixels = torch.randn(count, 3, vlm.image_size, vlm.image_size).to(vlm.device, vlm.dtype)
    if vlm.device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for i in range(0, count, DEFAULT_BATCH_SIZE):
        vlm.embed_pixels(pixels[i : i + DEFAULT_BATCH_SIZE]).cpu()
    if vlm.device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def best_of(repeats, fn):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def paired(repeats, run, floor):
    """Pipeline and floor seconds, timed in alternation: (best pipeline, best floor, median of paired ratios)."""
    pairs = []
    for _ in range(repeats):
        pipeline = best_of(1, run)
        pairs.append((pipeline, floor()))
    ratios = sorted(p / f for p, f in pairs)
    middle = len(ratios) // 2
    median = ratios[middle] if len(ratios) % 2 else (ratios[middle - 1] + ratios[middle]) / 2
    return min(p for p, _ in pairs), min(f for _, f in pairs), median


def report(name, count, pipeline, floor, ratio, target):
    print(f"{name:<34} {count / pipeline:9.1f} /s   floor {count / floor:9.1f} /s   ratio {ratio:5.2f}x"
          f" (best/best {pipeline / floor:4.2f}x)   (target <= {target}x: {'met' if ratio <= target else 'NOT met'})",
          flush=True)
    return ratio


FILM = "/usr/share/doc/opencv-doc/examples/data/Megamind.avi"


def film_check(vlm, model_dir, repeats, nframes=25, ffreq=10):
    """video_scores on the real film against decoding, detection and the model run one after another."""
    from transforemotion import faces
    from transforemotion.media.decoding import open_video, read_frames
    from transforemotion.media.sampling import frames_to_score

    if not os.path.isfile(FILM):
        print(f"film check skipped: {FILM} not found (apt-get install opencv-doc)")
        return
    run = lambda: te.video_scores(FILM, CLASSES, nframes=nframes, ffreq=ffreq,  # noqa: E731
                                  local_model_path=model_dir, progress=False)
    stages = {}

    def in_sequence():
        start = time.perf_counter()
        capture, total, fps = open_video(FILM)
        frames = [f for _, f in read_frames(capture, frames_to_score(total, fps, nframes, ffreq=ffreq))]
        capture.release()
        decoded = time.perf_counter()
        crops = []
        for frame in frames:
            boxes = faces.choose_faces(frame, "largest")
            crops.extend(faces.crop_face(frame, b) for b in boxes)
        found = time.perf_counter()
        vlm.probabilities(vlm.embed_images(crops), vlm.embed_texts(CLASSES))
        done = time.perf_counter()
        for name, seconds in (("decode", decoded - start), ("detect", found - decoded), ("model", done - found)):
            stages[name] = min(stages.get(name, float("inf")), seconds)
        return done - start

    run(), in_sequence()
    pipeline, sequence, ratio = paired(repeats, run, in_sequence)
    parts = ", ".join(f"{k} {v:.2f} s" for k, v in stages.items())
    print(f"film, {nframes} frames of Megamind 'largest': {pipeline:.2f} s against {sequence:.2f} s in sequence "
          f"({parts}); ratio {ratio:.2f}x   (target <= 1.0x: {'met' if ratio <= 1.0 else 'NOT met'})", flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=("images", "video", "group", "film"), default=None)
    parser.add_argument("--images", type=int, default=128, help="number of images")
    parser.add_argument("--nframes", type=int, default=128, help="number of video frames")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--device", default=None, help="cpu, cuda, mps (default: automatic)")
    args = parser.parse_args(argv)
    if args.device:
        os.environ["TRANSFOREMOTION_DEVICE"] = args.device
    warnings.simplefilter("ignore", te.TransforemotionWarning)

    work = tempfile.mkdtemp(prefix="transforemotion-bench-")
    model_dir = build_clip_vit_b32(os.path.join(work, "clip-b32"))
    vlm = models.load_model(local_model_path=model_dir)
    cpu = platform.processor() or platform.machine()
    gpu = torch.cuda.get_device_name(0) if vlm.device.type == "cuda" else "none"
    print(f"machine: {os.cpu_count()} CPU cores ({cpu}), GPU {gpu}; torch {torch.__version__} "
          f"threads {torch.get_num_threads()}; device {vlm.device}, {vlm.dtype}; batch {DEFAULT_BATCH_SIZE}")
    vlm.embed_texts(CLASSES)
    floor_seconds(vlm, min(8, DEFAULT_BATCH_SIZE))  # warm-up

    if args.only in (None, "images"):
        folder = os.path.join(work, "images")
        os.makedirs(folder)
        for i, photo in enumerate(face_photos(args.images)):
            Image.fromarray(photo).save(os.path.join(folder, f"face{i:04d}.jpg"), quality=92)
        run = lambda: te.image_scores_dir(folder, CLASSES, local_model_path=model_dir, progress=False)  # noqa: E731
        run()
        pipeline, floor, ratio = paired(args.repeats, run, lambda: floor_seconds(vlm, args.images))
        report(f"image_scores_dir ({args.images} images)", args.images, pipeline, floor, ratio, 1.46)

    if args.only in (None, "group"):
        # face_selection="all" on a group photo: one detection and one forward pass for all the faces.
        from transforemotion import faces

        picture = group_photo()
        path = os.path.join(work, "group.png")
        Image.fromarray(picture).save(path)
        calls = []
        original = models.VisionLanguageModel.embed_pixels
        models.VisionLanguageModel.embed_pixels = lambda self, px: calls.append(len(px)) or original(self, px)
        found = len(te.image_scores(path, CLASSES, face_selection="all", local_model_path=model_dir)["face"])
        models.VisionLanguageModel.embed_pixels = original

        def by_hand():
            boxes = faces.detect_faces(picture)
            vlm.probabilities(vlm.embed_images([faces.crop_face(picture, b) for b in boxes]), vlm.embed_texts(CLASSES))

        run = lambda: te.image_scores(path, CLASSES, face_selection="all", local_model_path=model_dir)  # noqa: E731
        pipeline, floor = best_of(args.repeats * 3, run), best_of(args.repeats * 3, by_hand)
        print(f"face_selection='all', group photo of {found} faces: {len(calls)} forward pass(es) of {calls}; "
              f"{pipeline * 1000:.0f} ms against {floor * 1000:.0f} ms for one detection plus one batch by hand "
              f"(ratio {pipeline / floor:.2f}x)", flush=True)

    if args.only in (None, "video"):
        path = os.path.join(work, "clip.avi")
        make_video(path, args.nframes * 2)
        for selection, target in (("largest", 1.31), ("none", 1.15)):
            run = lambda selection=selection: te.video_scores(  # noqa: E731
                path, CLASSES, nframes=args.nframes, ffreq=2, face_selection=selection,
                local_model_path=model_dir, progress=False)
            result = run()
            missing = sum(np.isnan(result[CLASSES[0]]))
            pipeline, floor, ratio = paired(args.repeats, run, lambda: floor_seconds(vlm, args.nframes))
            report(f"video_scores {selection!r} ({args.nframes} frames)", args.nframes, pipeline, floor, ratio,
                   target)
            if missing:
                print(f"  note: no face found in {missing} of {args.nframes} frames")

    if args.only in (None, "film"):
        film_check(vlm, model_dir, args.repeats)
    return 0


if __name__ == "__main__":
    sys.exit(main())
