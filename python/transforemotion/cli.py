"""Command line: ``transforemotion image|video|models ...``.

A thin layer: parse arguments, call the public functions, print a table.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import sys
import warnings
from typing import Dict, List, Optional, Sequence

from . import api
from .faces import FACE_SELECTIONS
from .media import list_image_files
from .models import list_vision_models
from .messages import TransforemotionWarning


def _add_model_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--classes", nargs="+", required=True, metavar="LABEL",
                        help="two or more labels, e.g. --classes joy anger 'deep sadness'")
    parser.add_argument("--face-selection", default="largest", choices=FACE_SELECTIONS,
                        help="which face to score; 'none' scores the whole picture (default: largest)")
    parser.add_argument("--model", default="oai-base", help="registered name or Hugging Face id (default: oai-base)")
    parser.add_argument("--local-model-path", default=None, help="model folder on disk; nothing is downloaded")
    parser.add_argument("--format", default="csv", choices=("csv", "json"), help="output format (default: csv)")
    parser.add_argument("--output", "-o", default=None, help="write to this file instead of standard output")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="transforemotion",
        description="Zero-shot emotion scores for faces in images and video with CLIP-style models.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    image = commands.add_parser("image", help="score image files, URLs, or folders of images")
    image.add_argument("paths", nargs="+", metavar="PATH", help="image files, http(s) URLs, or folders")
    image.add_argument("--pattern", default=api.DEFAULT_IMAGE_PATTERN, help="file-name pattern for folders")
    image.add_argument("--recursive", action="store_true", help="also look in sub-folders of folders")
    _add_model_options(image)

    video = commands.add_parser("video", help="score sampled frames of a video file or URL")
    video.add_argument("path", metavar="PATH", help="video file or http(s) URL")
    video.add_argument("--nframes", type=int, default=100)
    video.add_argument("--start", type=float, default=0, help="seconds")
    video.add_argument("--end", type=float, default=-1, help="seconds; -1 for the end")
    video.add_argument("--uniform", action="store_true", help="spread frames evenly instead of every --ffreq")
    video.add_argument("--ffreq", type=int, default=15)
    video.add_argument("--save-video", action="store_true")
    video.add_argument("--save-frames", action="store_true")
    video.add_argument("--save-dir", default="temp/")
    video.add_argument("--video-name", default="temp")
    video.add_argument("--quiet", action="store_true", help="no progress bar")
    _add_model_options(video)

    commands.add_parser("models", help="list the registered models")
    return parser


def run_image(args) -> Dict[str, list]:
    """Score every PATH; a folder contributes its matching files, by name."""
    table: Dict[str, list] = {"image": []}
    files: List[str] = []
    for path in args.paths:
        if os.path.isdir(path):
            files.extend(list_image_files(path, args.pattern, args.recursive))
        else:
            files.append(path)
    if not files:
        raise ValueError("No image files found in the given folders; check --pattern or use --recursive.")
    scores = api.image_scores(files, args.classes, args.face_selection, args.model, args.local_model_path)
    table["image"] = files
    table.update(scores)
    return table


def run_video(args) -> Dict[str, list]:
    return api.video_scores(
        args.path, args.classes, nframes=args.nframes, face_selection=args.face_selection, start=args.start,
        end=args.end, uniform=args.uniform, ffreq=args.ffreq, save_video=args.save_video,
        save_frames=args.save_frames, save_dir=args.save_dir, video_name=args.video_name, model=args.model,
        local_model_path=args.local_model_path, timestamps=True, progress=not args.quiet,
    )


def write_table(table: Dict[str, list], fmt: str, stream) -> None:
    if fmt == "json":
        clean = {k: [None if isinstance(v, float) and math.isnan(v) else v for v in col] for k, col in table.items()}
        json.dump(clean, stream, ensure_ascii=False, indent=1)
        stream.write("\n")
        return
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(list(table))
    for row in zip(*table.values()):
        writer.writerow(["NA" if isinstance(v, float) and math.isnan(v) else v for v in row])


def _print_warning(message, category, filename, lineno, file=None, line=None):
    print(f"transforemotion: warning: {message}", file=sys.stderr)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        with warnings.catch_warnings():
            # Skipped images and frames are reported as one line each on stderr,
            # without Python's source-line decoration.
            warnings.simplefilter("always", TransforemotionWarning)
            warnings.showwarning = _print_warning
            if args.command == "models":
                table, fmt, output = list_vision_models(), "csv", None
            else:
                table = run_image(args) if args.command == "image" else run_video(args)
                fmt, output = args.format, args.output
    except (FileNotFoundError, ValueError, ImportError, OSError) as exc:
        print(f"transforemotion: error: {exc}", file=sys.stderr)
        return 2
    if output:
        with open(output, "w", encoding="utf-8", newline="") as fh:
            write_table(table, fmt, fh)
    else:
        write_table(table, fmt, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
