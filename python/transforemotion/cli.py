"""Command line: ``transforemotion image|video|corpus|embed|rescore|evaluate|models ...``.

A thin layer: parse the flags, call the public functions, write a table.
Messages are spelled for the shell (``--face-selection none``, not
``face_selection="none"``); items that cannot be scored are one-line
warnings and rows with ``NA``, and the rest of the run goes on.

Exit status, for scripts (see the README's "Command line" section):

===  ==========================================================================
0    success
2    bad input: a flag, a file or a folder is wrong (one line on stderr says which)
4    the environment lacks something: a package, a model, a writable disk
70   an internal fault: a bug in transforemotion or a library; please report it
130  interrupted (Ctrl-C)
===  ==========================================================================
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import traceback
import warnings
from typing import Dict, List, Optional, Sequence

from . import api, corpus, embeddings_api
from .core.checks import is_missing
from .core.errors import ArgumentError, InputError, TransforemotionError
from .core.files import atomic_write, check_output_path
from .core.messages import TransforemotionWarning, caller
from .faces import FACE_SELECTIONS
from .media import list_image_files
from .models import TEMPLATE_SETS, list_vision_models

EXIT_OK = 0
EXIT_BAD_INPUT = 2  # also argparse's status for a flag it cannot parse
EXIT_ENVIRONMENT = 4
EXIT_INTERNAL = 70  # EX_SOFTWARE in BSD's sysexits.h
EXIT_INTERRUPTED = 130


class _Formatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Show each option's default, and keep the epilog's line breaks."""


def _add_scoring_options(parser: argparse.ArgumentParser, classes_required: bool = True,
                         face_selections: Sequence[str] = FACE_SELECTIONS, face_boxes: bool = True,
                         formats: Sequence[str] = ("csv", "json")) -> None:
    parser.add_argument("--classes", nargs="+", required=classes_required, metavar="LABEL",
                        help="two or more labels, e.g. --classes joy anger 'deep sadness'")
    parser.add_argument("--face-selection", default="largest", choices=face_selections,
                        help="which face to score: the largest, the leftmost or rightmost, every face (one row each), "
                             "or none (the whole picture)")
    if face_boxes:
        parser.add_argument("--face-boxes", action="store_true",
                            help="add the scored face's box (x, y, width, height) and the detector's confidence")
    parser.add_argument("--templates", nargs="+", default=None, metavar="TEMPLATE",
                        help="phrase each label with these templates (one {} where the label goes; their embeddings "
                             f"are averaged) or a built-in set: {', '.join(TEMPLATE_SETS)}; default: labels as given")
    parser.add_argument("--model", default="oai-base", help="registered name (see `transforemotion models`), "
                                                             "Hugging Face id, or model folder")
    parser.add_argument("--local-model-path", default=None, metavar="FOLDER",
                        help="model folder on disk; nothing is downloaded")
    parser.add_argument("--batch-size", type=int, default=None, metavar="N",
                        help="faces per forward pass (default: 32, or TRANSFOREMOTION_BATCH_SIZE)")
    parser.add_argument("--device", default=None,
                        help="cpu, cuda, cuda:1 or mps (default: the first of CUDA, MPS and CPU that exists)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    _add_output_options(parser, formats)


def _add_output_options(parser: argparse.ArgumentParser, formats: Sequence[str] = ("csv", "json")) -> None:
    parser.add_argument("--format", default=formats[0], choices=formats,
                        help="output format" + (" (text: a readable report; json: every measure)"
                                                if "text" in formats else ""))
    parser.add_argument("--output", "-o", default=None, metavar="FILE",
                        help="write to this file (in an existing folder) instead of standard output")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="transforemotion",
        description="Zero-shot emotion scores for faces in images and video with CLIP-style models.",
        epilog="Examples:\n"
               "  transforemotion image face.jpg photos/ --classes joy anger surprise > scores.csv\n"
               "  transforemotion video interview.mp4 --classes joy anger --ffreq 25 -o scores.csv\n"
               "  transforemotion corpus videos/ --classes joy anger --nframes 500 --output-dir scores/ -o scores.csv\n"
               "  transforemotion embed video interview.mp4 --ffreq 5 -o interview.parquet\n"
               "  transforemotion rescore interview.parquet --classes calm tense -o scores.csv\n"
               "  transforemotion models",
        formatter_class=_Formatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    image = commands.add_parser("image", help="score image files, URLs, or folders of images",
                                formatter_class=_Formatter)
    image.add_argument("paths", nargs="+", metavar="PATH", help="image files, http(s) URLs, or folders")
    image.add_argument("--pattern", default=api.DEFAULT_IMAGE_PATTERN,
                       help="regular expression for the file names taken from folders (ignoring case)")
    image.add_argument("--recursive", action="store_true", help="also look in sub-folders of folders")
    _add_scoring_options(image)

    video = commands.add_parser("video", help="score sampled frames of a video file or URL",
                                formatter_class=_Formatter)
    video.add_argument("path", metavar="PATH", help="video file, http(s) link to one, or a page such as YouTube's")
    video.add_argument("--nframes", type=int, default=None, metavar="N",
                       help="how many frames to score (default: up to 100, as many as the video has room for; "
                            "an N the video cannot supply is an error)")
    video.add_argument("--ffreq", type=int, default=15, metavar="N", help="take every N-th frame")
    video.add_argument("--uniform", action="store_true", help="spread the frames evenly instead of every --ffreq")
    video.add_argument("--start", type=float, default=0, metavar="SECONDS", help="score from here")
    video.add_argument("--end", type=float, default=-1, metavar="SECONDS", help="score up to here; -1: the end")
    video.add_argument("--save-video", action="store_true", help="keep a downloaded video in --save-dir")
    video.add_argument("--save-frames", action="store_true",
                       help="write the sampled frames as NAME-frame-I.jpg in --save-dir")
    video.add_argument("--save-dir", default="temp/", metavar="FOLDER",
                       help="the only folder anything is written to (made only when something is written)")
    video.add_argument("--video-name", default="temp", metavar="NAME", help="base name of saved files")
    _add_scoring_options(video)

    _add_corpus_command(commands)
    _add_embedding_commands(commands)
    evaluate = commands.add_parser(
        "evaluate", formatter_class=_Formatter,
        help="score a labelled folder (one sub-folder per class) and report how well the scores agree with the labels")
    evaluate.add_argument("path", metavar="DIR", help="folder with one sub-folder of images per class")
    evaluate.add_argument("--label-map", nargs="+", default=None, metavar="FOLDER=LABEL",
                          help="label text for a folder, e.g. --label-map happy=joy sad=sadness (default: folder names)")
    evaluate.add_argument("--pattern", default=api.DEFAULT_IMAGE_PATTERN,
                          help="regular expression for the image file names (ignoring case)")
    evaluate.add_argument("--scores-out", default=None, metavar="FILE",
                          help="also write the per-image scores (image_id, truth, classes) to this CSV file")
    _add_scoring_options(evaluate, classes_required=False, face_selections=[s for s in FACE_SELECTIONS if s != "all"],
                         face_boxes=False, formats=("text", "json"))

    models = commands.add_parser("models", help="list the registered models", formatter_class=_Formatter)
    _add_output_options(models)
    return parser


def _add_corpus_command(commands) -> None:
    sub = commands.add_parser(
        "corpus", formatter_class=_Formatter,
        help="score a whole corpus of videos and images into a folder, resumably (run it again after a stop)")
    sub.add_argument("inputs", nargs="+", metavar="INPUT",
                     help="a folder, a manifest (.csv or .parquet: path, and optionally id, start, end), "
                          "or video and image files")
    sub.add_argument("--output-dir", required=True, metavar="FOLDER",
                     help="where the parts, corpus.json and failures.csv go; the table of scores is then written "
                          "as for the other commands")
    sub.add_argument("--engine", default="local", choices=corpus.ENGINES,
                     help="score in this process, or on a Ray cluster")
    sub.add_argument("--nframes", type=int, default=None, metavar="N",
                     help="frames per video (default: up to 100, as many as each video has room for)")
    sub.add_argument("--ffreq", type=int, default=15, metavar="N", help="take every N-th frame")
    sub.add_argument("--uniform", action="store_true", help="spread the frames evenly instead of every --ffreq")
    sub.add_argument("--start", type=float, default=0, metavar="SECONDS", help="score each video from here")
    sub.add_argument("--end", type=float, default=-1, metavar="SECONDS", help="score up to here; -1: the end")
    sub.add_argument("--recursive", action="store_true", help="also look in sub-folders of a folder")
    sub.add_argument("--unit-size", type=int, default=corpus.DEFAULT_UNIT_SIZE, metavar="N",
                     help="sampled frames per video segment and images per batch: the unit of work saved at once")
    sub.add_argument("--overwrite", action="store_true",
                     help="delete this command's earlier results in --output-dir and start over")
    sub.add_argument("--keep-embeddings", action="store_true",
                     help="keep each row's image embedding in its part, for `transforemotion rescore` with new labels")
    sub.add_argument("--embedding-precision", default="float32", choices=("float32", "float16"),
                     help="number type of kept embeddings (float16: half the disk, scores move by about 1e-4)")
    sub.add_argument("--address", default=None, help="Ray: auto, or ray://HOST:10001 (default: a local Ray)")
    sub.add_argument("--workers", type=int, default=None, metavar="N",
                     help="Ray: workers, each with its own model (default: one per GPU, else one per CPU)")
    sub.add_argument("--gpus-per-worker", type=float, default=None, metavar="N",
                     help="Ray: GPUs per worker (default: 1 where the cluster has GPUs, else 0)")
    sub.add_argument("--cpus-per-worker", type=float, default=1, metavar="N",
                     help="Ray: CPUs reserved per worker and its thread count; 0.5 on machines with few cores")
    _add_scoring_options(sub)


def _add_embedding_commands(commands) -> None:
    """`embed image|video` (write the embeddings to a Parquet file) and `rescore` (new labels from them)."""
    embed = commands.add_parser("embed", formatter_class=_Formatter,
                                help="keep the image embeddings of faces in a Parquet file, to rescore with any labels")
    kinds = embed.add_subparsers(dest="kind", required=True, metavar="KIND")
    image = kinds.add_parser("image", help="image files, URLs, or folders", formatter_class=_Formatter)
    image.add_argument("paths", nargs="+", metavar="PATH", help="image files, http(s) URLs, or folders")
    image.add_argument("--pattern", default=api.DEFAULT_IMAGE_PATTERN,
                       help="regular expression for the file names taken from folders (ignoring case)")
    image.add_argument("--recursive", action="store_true", help="also look in sub-folders of folders")
    video = kinds.add_parser("video", help="sampled frames of a video file or URL", formatter_class=_Formatter)
    video.add_argument("path", metavar="PATH", help="video file, http(s) link to one, or a page such as YouTube's")
    video.add_argument("--nframes", type=int, default=None, metavar="N",
                       help="how many frames (default: up to 100, as many as the video has room for)")
    video.add_argument("--ffreq", type=int, default=15, metavar="N", help="take every N-th frame")
    video.add_argument("--uniform", action="store_true", help="spread the frames evenly instead of every --ffreq")
    video.add_argument("--start", type=float, default=0, metavar="SECONDS", help="from here")
    video.add_argument("--end", type=float, default=-1, metavar="SECONDS", help="up to here; -1: the end")
    for sub in (image, video):
        sub.add_argument("--face-selection", default="largest", choices=FACE_SELECTIONS,
                         help="which face: the largest, the leftmost or rightmost, every face, or none (whole picture)")
        sub.add_argument("--face-boxes", action="store_true", help="add the face's box and the detector's confidence")
        sub.add_argument("--model", default="oai-base", help="registered name, Hugging Face id, or model folder")
        sub.add_argument("--local-model-path", default=None, metavar="FOLDER", help="model folder; nothing downloaded")
        sub.add_argument("--batch-size", type=int, default=None, metavar="N", help="faces per forward pass")
        sub.add_argument("--device", default=None, help="cpu, cuda, cuda:1 or mps")
        sub.add_argument("--quiet", action="store_true", help="no progress bar")
        sub.add_argument("--precision", default="float32", choices=("float32", "float16"),
                         help="number type in the file (float16: half the size, scores move by about 1e-4)")
        sub.add_argument("--output", "-o", required=True, metavar="FILE", help="the Parquet file to write")

    rescore = commands.add_parser(
        "rescore", formatter_class=_Formatter,
        help="scores for new labels from kept embeddings: a file from `embed`, or a corpus folder scored with "
             "--keep-embeddings; no picture is read")
    rescore.add_argument("path", metavar="PATH", help="an embeddings file, or a corpus folder")
    rescore.add_argument("--classes", nargs="+", required=True, metavar="LABEL", help="two or more labels")
    rescore.add_argument("--templates", nargs="+", default=None, metavar="TEMPLATE",
                         help=f"phrase each label with these templates (one {{}}) or a set: {', '.join(TEMPLATE_SETS)}")
    rescore.add_argument("--model", default=None,
                         help="the model that made the embeddings, if it moved (default: the one recorded)")
    rescore.add_argument("--local-model-path", default=None, metavar="FOLDER", help="that model's folder")
    rescore.add_argument("--device", default=None, help="cpu, cuda, cuda:1 or mps")
    rescore.add_argument("--into", default=None, metavar="FOLDER",
                         help="corpus only: also write the scores there as a corpus folder (resumable)")
    rescore.add_argument("--overwrite", action="store_true", help="with --into: replace what is there")
    rescore.add_argument("--quiet", action="store_true", help="no progress bar")
    _add_output_options(rescore)


def run_embed(args) -> None:
    """Embed the pictures and write the Parquet file; image files keep their path in an `image` column."""
    kwargs = dict(face_selection=args.face_selection, model=args.model, local_model_path=args.local_model_path,
                  face_boxes=args.face_boxes, batch_size=args.batch_size, device=args.device,
                  progress=False if args.quiet else None)
    if args.kind == "video":
        sampling = {} if args.nframes is None else {"nframes": args.nframes}
        emb = embeddings_api.embed_video(args.path, ffreq=args.ffreq, uniform=args.uniform, start=args.start,
                                         end=args.end, timestamps=True, **sampling, **kwargs)
    else:
        files = _image_files(args)
        emb = embeddings_api.embed_images(files, **kwargs)
        if "image" not in emb.rows:
            emb = embeddings_api.Embeddings({"image": files, **emb.rows}, emb.vectors, emb.model)
    embeddings_api.save_embeddings(emb, args.output, args.precision)


def run_rescore(args) -> Dict[str, list]:
    kwargs = dict(model=args.model, local_model_path=args.local_model_path, device=args.device)
    if os.path.isdir(args.path):
        return corpus.rescore_corpus(args.path, args.classes, _templates(args), into=args.into,
                                     overwrite=args.overwrite, progress=False if args.quiet else None, **kwargs)
    if args.into is not None:
        raise ArgumentError(f"--into writes a corpus folder; it is for a corpus folder, and {args.path} is a file.")
    return embeddings_api.rescore(embeddings_api.load_embeddings(args.path), args.classes, _templates(args), **kwargs)


def _templates(args):
    if args.templates is None:
        return None
    return args.templates[0] if len(args.templates) == 1 else args.templates


def _scoring_kwargs(args) -> dict:
    kwargs = dict(face_selection=args.face_selection, model=args.model, local_model_path=args.local_model_path,
                  templates=_templates(args), batch_size=args.batch_size, device=args.device,
                  progress=False if args.quiet else None)
    if hasattr(args, "face_boxes"):  # not for evaluate, which scores one face per image
        kwargs["face_boxes"] = args.face_boxes
    return kwargs


def _image_files(args) -> List[str]:
    files: List[str] = []
    for path in args.paths:
        if os.path.isdir(path):
            files.extend(list_image_files(path, args.pattern, args.recursive))
        else:
            files.append(path)
    if not files:
        raise ArgumentError("No image files found in the given folders; check --pattern, or add --recursive.")
    return files


def run_image(args) -> Dict[str, list]:
    """Score every PATH; a folder contributes its matching files, by name. Unreadable files get NA rows."""
    files = _image_files(args)
    # A list, even of one file, so that an unreadable file is a row of NA and a warning, not the end of the run.
    scores = api.image_scores(files, args.classes, **_scoring_kwargs(args))
    return scores if "image" in scores else {"image": files, **scores}


def run_video(args) -> Dict[str, list]:
    kwargs = {} if args.nframes is None else {"nframes": args.nframes}
    return api.video_scores(
        args.path, args.classes, start=args.start, end=args.end, uniform=args.uniform, ffreq=args.ffreq,
        save_video=args.save_video, save_frames=args.save_frames, save_dir=args.save_dir,
        video_name=args.video_name, timestamps=True, **kwargs, **_scoring_kwargs(args),
    )


def run_corpus(args) -> Dict[str, list]:
    """Score the corpus into --output-dir (skipping what is finished), then return all its scores."""
    kwargs = {} if args.nframes is None else {"nframes": args.nframes}
    inputs = args.inputs[0] if len(args.inputs) == 1 else args.inputs
    corpus.score_corpus(
        inputs, args.classes, args.output_dir, engine=args.engine, ffreq=args.ffreq, uniform=args.uniform,
        start=args.start, end=args.end, recursive=args.recursive, unit_size=args.unit_size,
        overwrite=args.overwrite, keep_embeddings=args.keep_embeddings,
        embedding_precision=args.embedding_precision, address=args.address, workers=args.workers,
        gpus_per_worker=args.gpus_per_worker, cpus_per_worker=args.cpus_per_worker, **kwargs,
        **_scoring_kwargs(args))
    return corpus.read_corpus(args.output_dir)
def _label_map(pairs: Optional[List[str]]) -> Optional[Dict[str, str]]:
    if pairs is None:
        return None
    mapping = {}
    for pair in pairs:
        folder, sep, label = pair.partition("=")
        if not sep or not folder or not label:
            raise ArgumentError(f"--label-map takes FOLDER=LABEL pairs, e.g. --label-map happy=joy; got {pair!r}.")
        mapping[folder] = label
    return mapping


def run_evaluate(args) -> dict:
    from .evaluation import evaluate_dir

    result = evaluate_dir(args.path, classes=args.classes, label_map=_label_map(args.label_map),
                          pattern=args.pattern, **_scoring_kwargs(args))
    if args.scores_out is not None:
        write_output(result["scores"], "csv", args.scores_out)
    return result["evaluation"]


def _number(v) -> str:
    return "NA" if is_missing(v) else (f"{v:.3f}" if isinstance(v, float) else str(v))


def write_evaluation(evaluation: dict, fmt: str, stream) -> None:
    """The overall measures, the per-class table and the confusion matrix, as text or JSON."""
    if fmt == "json":
        def clean(v):
            if isinstance(v, dict):
                return {k: clean(x) for k, x in v.items()}
            if isinstance(v, list):
                return [clean(x) for x in v]
            return None if is_missing(v) else v

        json.dump(clean(evaluation), stream, ensure_ascii=False, indent=1)
        stream.write("\n")
        return
    overall = [("images scored and labelled", evaluation["n_used"]), ("left out", evaluation["n_excluded"])]
    overall += [(name.replace("_", " "), evaluation[name]) for name in (
        "accuracy", "balanced_accuracy", "macro_f1", "weighted_f1", "macro_auroc", "log_loss", "brier", "ece",
        "krippendorff_alpha")]
    width = max(len(name) for name, _ in overall)
    for name, v in overall:
        stream.write(f"{name:<{width}}  {_number(v)}\n")
    stream.write("\nper class\n")
    write_table(evaluation["per_class"], "csv", stream)
    stream.write("\nconfusion matrix (rows: truth, columns: predicted)\n")
    write_table(evaluation["confusion"], "csv", stream)
    for note in evaluation.get("notes", []):
        stream.write(f"note: {note}\n")


def write_table(table: Dict[str, list], fmt: str, stream) -> None:
    if fmt == "json":
        clean = {k: [None if is_missing(v) else v for v in col] for k, col in table.items()}
        json.dump(clean, stream, ensure_ascii=False, indent=1)
        stream.write("\n")
        return
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(list(table))
    for row in zip(*table.values()):
        writer.writerow(["NA" if is_missing(v) else v for v in row])


def write_output(table, fmt: str, path: Optional[str], writer=None) -> None:
    """To standard output, or atomically to a file: an interrupted run never leaves half a table."""
    writer = writer or write_table
    if path is None:
        writer(table, fmt, sys.stdout)
        return
    try:
        with atomic_write(path, "w", encoding="utf-8", newline="") as fh:
            writer(table, fmt, fh)
    except OSError as exc:
        raise ArgumentError(f"Could not write {path}: {exc.strerror or exc}.") from None


def _print_warning(message, category, filename, lineno, file=None, line=None):
    print(f"transforemotion: warning: {message}", file=sys.stderr)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        with caller("cli"), warnings.catch_warnings():
            # Skipped items are one line each on stderr, without Python's source-line decoration.
            warnings.simplefilter("always", TransforemotionWarning)
            warnings.showwarning = _print_warning
            for name in ("output", "scores_out"):
                if getattr(args, name, None) is not None:
                    check_output_path(getattr(args, name), name)
            if args.command == "evaluate":
                write_output(run_evaluate(args), args.format, args.output, write_evaluation)
                return EXIT_OK
            if args.command == "embed":
                run_embed(args)
                return EXIT_OK
            if args.command == "models":
                table = list_vision_models()
            elif args.command == "image":
                table = run_image(args)
            elif args.command == "corpus":
                table = run_corpus(args)
            elif args.command == "rescore":
                table = run_rescore(args)
            else:
                table = run_video(args)
            write_output(table, args.format, args.output)
    except InputError as exc:
        print(f"transforemotion: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except (TransforemotionError, ImportError, OSError) as exc:
        # Ours that are not input errors (a missing package, a model that cannot be had, a folder in use), and the
        # system's (a full disk, no permission): the call was right, the machine is not ready for it.
        print(f"transforemotion: error: {exc}", file=sys.stderr)
        return EXIT_ENVIRONMENT
    except Exception as exc:  # noqa: BLE001 - anything else is a fault of ours, never the user's mistake
        if os.environ.get("TRANSFOREMOTION_DEBUG"):
            traceback.print_exc()
        print(f"transforemotion: internal error: {type(exc).__name__}: {exc}\n"
              "This is a fault in transforemotion or a library it uses, not in your input. Please report it to the "
              "maintainers with the command you ran and this message (TRANSFOREMOTION_DEBUG=1 adds the traceback).",
              file=sys.stderr)
        return EXIT_INTERNAL
    except KeyboardInterrupt:
        print("transforemotion: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
