"""Zero-shot top-1 accuracy on FER2013, next to CLIP_benchmark's published figures.

Reproduces the FER2013 row of CLIP_benchmark (LAION) with our engine: every
test image scored whole (FER2013 pictures are 48x48 face crops already, so
no face detection) against the seven class names, with and without the six
FER prompt templates, for OpenAI's CLIP ViT-B/32 (``oai-base``) and ViT-L/14
(``oai-large``). Published (CLIP_benchmark, six FER templates): ViT-B/32
40.9 %, ViT-L/14 49.0 %.

Needs what a test machine does not have: the FER2013 test split as an
ImageFolder (one sub-folder per class; the Kaggle layout angry/ disgust/
fear/ happy/ neutral/ sad/ surprise/, CLIP_benchmark's class names, or
torchvision's class numbers 0-6) and the real weights (downloaded once by
name, or local folders).

    python bench/accuracy.py --data fer2013/test
    python bench/accuracy.py --data fer2013/test --model oai-base=/models/clip-vit-base-patch32 --device cuda
    python bench/accuracy.py --data fer2013/test --model oai-large --templates fer
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import sys
import time

import transforemotion as te

# CLIP_benchmark's class names for FER2013 (its en_zeroshot_classification_templates and classnames).
CLASSNAMES = ["angry", "disgusted", "fearful", "happy", "neutral", "sad", "surprised"]

# Folder names in common FER2013 layouts -> CLIP_benchmark's class names.
FOLDER_NAMES = {
    # Kaggle "fer2013" images (train/ and test/ of class folders)
    "angry": "angry", "disgust": "disgusted", "fear": "fearful", "happy": "happy",
    "neutral": "neutral", "sad": "sad", "surprise": "surprised",
    # CLIP_benchmark's own names
    "disgusted": "disgusted", "fearful": "fearful", "surprised": "surprised",
    # torchvision.datasets.FER2013 class numbers
    "0": "angry", "1": "disgusted", "2": "fearful", "3": "happy", "4": "sad", "5": "surprised", "6": "neutral",
}

KAGGLE_FOLDERS = ["angry", "disgust", "fear", "happy", "neutral", "sad", "surprise"]

# Top-1 accuracy (%) published by CLIP_benchmark for FER2013 with the six FER templates.
PUBLISHED = {"oai-base": ("ViT-B/32", 40.9), "oai-large": ("ViT-L/14", 49.0)}

FER2013_TEST_IMAGES = 7178


def label_map_for(data_dir: str) -> dict:
    """Folder name -> class name, for the folders of ``data_dir``; exits with a message when they are not FER2013's."""
    folders = sorted(f for f in os.listdir(data_dir) if os.path.isdir(os.path.join(data_dir, f)) and not f.startswith("."))
    unknown = [f for f in folders if f.lower() not in FOLDER_NAMES]
    mapping = {f: FOLDER_NAMES[f.lower()] for f in folders if f.lower() in FOLDER_NAMES}
    if unknown or sorted(set(mapping.values())) != sorted(CLASSNAMES):
        sys.exit(
            f"{data_dir} does not look like FER2013's test split: its class folders are {folders}. Expected one "
            f"folder per class, named {KAGGLE_FOLDERS} (Kaggle), "
            f"{CLASSNAMES}, or 0-6 (torchvision)."
        )
    return mapping


def parse_model(spec: str):
    """'oai-base' or 'oai-base=/path/to/folder' -> (name, local folder or None)."""
    name, _, folder = spec.partition("=")
    return name, (folder or None)


def binomial_interval(p: float, n: int) -> float:
    """Half-width of the normal-approximation 95 % interval of a proportion, in percentage points."""
    return 196 * math.sqrt(p * (1 - p) / n) if n else math.nan


def run(data_dir, model, local_model_path, templates, args):
    started = time.perf_counter()
    result = te.evaluate_dir(
        data_dir,
        classes=CLASSNAMES,
        label_map=label_map_for(data_dir),
        templates=templates,
        face_selection="none",
        model=model,
        local_model_path=local_model_path,
        batch_size=args.batch_size,
        device=args.device,
        progress=True,
    )
    return result["evaluation"], time.perf_counter() - started


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True, help="the FER2013 test split as an ImageFolder (one folder per class)")
    parser.add_argument("--model", action="append", metavar="NAME[=FOLDER]",
                        help="model to evaluate, optionally with a local folder holding its weights; repeatable "
                             "(default: oai-base and oai-large)")
    parser.add_argument("--templates", action="append", choices=["none", "fer"],
                        help="prompt templates: none (the bare class name) or fer (CLIP_benchmark's six); "
                             "repeatable (default: both)")
    parser.add_argument("--batch-size", type=int, default=None, help="images per forward pass (default: the package's)")
    parser.add_argument("--device", default=None, help="cpu, cuda, mps (default: automatic)")
    args = parser.parse_args(argv)

    if not os.path.isdir(args.data):
        parser.error(f"--data {args.data}: not a folder")
    models = [parse_model(m) for m in (args.model or ["oai-base", "oai-large"])]
    variants = args.templates or ["none", "fer"]

    print(f"transforemotion {te.__version__}, Python {platform.python_version()}, {platform.machine()}")
    print(f"data: {args.data}")
    header = f"{'model':<12}{'templates':<11}{'top-1 %':>9}{'95% CI ±':>10}{'published %':>13}{'diff':>7}{'n':>7}{'time s':>8}"
    print(header)
    print("-" * len(header))
    for name, folder in models:
        for variant in variants:
            templates = None if variant == "none" else variant
            try:
                evaluation, seconds = run(args.data, name, folder, templates, args)
            except TypeError as exc:
                if "templates" in str(exc):
                    print(f"{name:<12}{variant:<11}  this transforemotion has no templates= yet ({exc})")
                    continue
                raise
            top1 = 100 * evaluation["accuracy"]
            n = evaluation["n_used"]
            published = PUBLISHED.get(name) if variant == "fer" else None
            shown = f"{published[1]:.1f}" if published else "-"
            diff = f"{top1 - published[1]:+.1f}" if published else "-"
            print(f"{name:<12}{variant:<11}{top1:>9.1f}{binomial_interval(evaluation['accuracy'], n):>10.1f}"
                  f"{shown:>13}{diff:>7}{n:>7}{seconds:>8.0f}")
            if evaluation["n_excluded"]:
                print(f"  {evaluation['n_excluded']} images left out: {evaluation['excluded']}")
            if n != FER2013_TEST_IMAGES:
                print(f"  note: {n} images evaluated; FER2013's test split has {FER2013_TEST_IMAGES}")
    print("\nPublished: CLIP_benchmark (LAION), FER2013 zero-shot top-1, ViT-B/32 40.9 %, ViT-L/14 49.0 %, "
          "six FER templates. A difference inside the 95 % interval is sampling noise.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
