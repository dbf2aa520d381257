"""Command line: ``transforemotion image|video|corpus|evaluate|models ...``.

A thin layer: parse the flags, call the public functions, write a table.
Messages are spelled for the shell (``--face-selection none``, not
``face_selection="none"``); items that cannot be scored are one-line
warnings and rows with ``NA``, and the rest of the run goes on.

Exit status, for scripts (see the README's "Command line" section):

===  ==========================================================================
0    everything was scored (a picture without a face counts: it was read)
2    bad input: a flag, a file or a folder is wrong (one line on stderr says
     which); or nothing could be scored: inputs failed and no row has a score
3    results written, but some inputs failed: files, frames or corpus units
     that could not be read (warnings on stderr; a corpus lists them in
     failures.csv)
4    the environment lacks something: a package, a model, a writable disk
70   an internal fault: a bug in transforemotion or a library; please report it
130  interrupted (Ctrl-C); a corpus run says how many units were finished
===  ==========================================================================
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
import warnings
from typing import Dict, List, Optional, Sequence

from . import __version__, api, corpus
from .core.checks import is_missing
from .core.errors import ArgumentError, InputError, TransforemotionError
from .core.files import check_output_path
from .core.output import write_evaluation, write_output
from .core.messages import InputsFailedWarning, TransforemotionWarning, caller
from .faces import FACE_SELECTIONS
from .media import list_image_files
from .models import TEMPLATE_SETS, list_vision_models

EXIT_OK = 0
EXIT_BAD_INPUT = 2  # also argparse's status for a flag it cannot parse; and "nothing could be scored"
EXIT_PARTIAL = 3  # results written, some inputs failed
EXIT_ENVIRONMENT = 4
EXIT_INTERNAL = 70  # EX_SOFTWARE in BSD's sysexits.h
EXIT_INTERRUPTED = 130


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Keep the epilog's line breaks; show an option's default once, and only where it says something.

    argparse's own ArgumentDefaultsHelpFormatter adds "(default: None)" to
    required flags and to options whose help already explains the default.
    """

    def _get_help_string(self, action):
        text = action.help or ""
        default = action.default
        # nargs == 0: a flag (--uniform, --no-timestamps), whose default is "not given".
        if (not action.option_strings or action.required or action.nargs == 0 or default is None
                or default is argparse.SUPPRESS or "default" in text.lower()):
            return text
        return text + " (default: %(default)s)"


def _add_scoring_options(parser: argparse.ArgumentParser, classes_required: bool = True,
                         face_selections: Sequence[str] = FACE_SELECTIONS, face_boxes: bool = True,
                         formats: Sequence[str] = ("csv", "json"), classes: bool = True) -> None:
    if classes:
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
               "  transforemotion models",
        formatter_class=_Formatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
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
    _add_person_options(video)
    video.add_argument("--timestamps", dest="timestamps", action="store_true", default=True,
                       help="add the frame and time columns first (on by default here, unlike in Python and R)")
    video.add_argument("--no-timestamps", dest="timestamps", action="store_false",
                       help="leave out the frame and time columns (kept with --face-selection all)")
    _add_scoring_options(video)

    _add_corpus_command(commands)
    _add_vad_command(commands)
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
    test_model = commands.add_parser(
        "test-model", formatter_class=_Formatter,
        help="write a tiny model with random weights (its scores mean nothing) to a folder, to try the commands "
             "without downloading a model: then give --local-model-path FOLDER")
    test_model.add_argument("folder", metavar="FOLDER", help="a new or empty folder (created if needed)")
    return parser


def _add_person_options(parser: argparse.ArgumentParser, names: bool = True) -> None:
    parser.add_argument("--persons", type=int, default=None, metavar="N",
                        help="with --face-selection all: keep only the N people seen most often"
                             + (" in each video" if not names else ""))
    if names:
        parser.add_argument("--person-names", nargs="+", default=None, metavar="NAME",
                            help="with --face-selection all: names for person 0, 1, ... (or ID=NAME pairs, e.g. "
                                 "--person-names 0=host 2=guest) in the person column")


def _person_names(pairs: Optional[List[str]]):
    """NAME ... (for persons 0, 1, ...) or ID=NAME ... pairs."""
    if pairs is None:
        return None
    numbered = [p.partition("=") for p in pairs]
    if not any(sep and key.strip().isdigit() for key, sep, _ in numbered):
        return list(pairs)
    wrong = [p for p, (key, sep, _) in zip(pairs, numbered) if not (sep and key.strip().isdigit())]
    if wrong:
        raise ArgumentError(f"--person-names takes either names (for persons 0, 1, ...) or ID=NAME pairs, not both; "
                            f"got {' '.join(wrong)} among ID=NAME pairs.")
    return {int(key): name for key, _, name in numbered}


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
    sub.add_argument("--address", default=None, help="Ray: auto, or ray://HOST:10001 (default: a local Ray)")
    sub.add_argument("--workers", type=int, default=None, metavar="N",
                     help="Ray: workers, each with its own model (default: one per GPU, else one per CPU)")
    sub.add_argument("--gpus-per-worker", type=float, default=None, metavar="N",
                     help="Ray: GPUs per worker (default: 1 where the cluster has GPUs, else 0)")
    sub.add_argument("--cpus-per-worker", type=float, default=1, metavar="N",
                     help="Ray: CPUs reserved per worker and its thread count; 0.5 on machines with few cores")
    sub.add_argument("--vad", action="store_true",
                     help="valence, arousal and dominance instead of --classes (as `transforemotion vad`)")
    _add_vad_label_options(sub)
    _add_person_options(sub, names=False)
    _add_scoring_options(sub, classes_required=False)


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


def run_image(args) -> Dict[str, list]:
    """Score every PATH; a folder contributes its matching files, by name. Unreadable files get NA rows."""
    files: List[str] = []
    for path in args.paths:
        if os.path.isdir(path):
            files.extend(list_image_files(path, args.pattern, args.recursive))
        else:
            files.append(path)
    if not files:
        raise ArgumentError("No image files found in the given folders; check --pattern, or add --recursive.")
    # A list, even of one file, so that an unreadable file is a row of NA and a warning, not the end of the run.
    scores = api.image_scores(files, args.classes, **_scoring_kwargs(args))
    return scores if "image" in scores else {"image": files, **scores}


def run_video(args) -> Dict[str, list]:
    kwargs = {} if args.nframes is None else {"nframes": args.nframes}
    return api.video_scores(
        args.path, args.classes, start=args.start, end=args.end, uniform=args.uniform, ffreq=args.ffreq,
        save_video=args.save_video, save_frames=args.save_frames, save_dir=args.save_dir,
        video_name=args.video_name, timestamps=args.timestamps, persons=args.persons,
        person_names=_person_names(args.person_names), **kwargs, **_scoring_kwargs(args),
    )


def run_corpus(args) -> Dict[str, list]:
    """Score the corpus into --output-dir (skipping what is finished), then return all its scores."""
    kwargs = {} if args.nframes is None else {"nframes": args.nframes}
    inputs = args.inputs[0] if len(args.inputs) == 1 else args.inputs
    kwargs.update(engine=args.engine, ffreq=args.ffreq, uniform=args.uniform, start=args.start, end=args.end,
                  recursive=args.recursive, unit_size=args.unit_size, overwrite=args.overwrite, address=args.address,
                  workers=args.workers, gpus_per_worker=args.gpus_per_worker, cpus_per_worker=args.cpus_per_worker,
                  persons=args.persons, **_scoring_kwargs(args))
    if args.vad:
        from .vad import vad_corpus

        if args.classes:
            raise ArgumentError("--vad scores the pole descriptions of --dimensions; leave out --classes.")
        return vad_corpus(inputs, args.output_dir, dimensions=args.dimensions, label_type=args.label_type,
                          custom_labels=_custom_labels(args.custom_labels), **kwargs)
    if not args.classes:
        raise ArgumentError("--classes is required: two or more labels, e.g. --classes joy anger (or --vad for "
                            "valence, arousal and dominance).")
    corpus.score_corpus(inputs, args.classes, args.output_dir, **kwargs)
    return corpus.read_corpus(args.output_dir)


def _add_vad_label_options(sub) -> None:
    from .vad.labels import DIMENSIONS, LABEL_TYPES

    sub.add_argument("--dimensions", nargs="+", default=list(DIMENSIONS), choices=DIMENSIONS, metavar="DIMENSION",
                     help=f"one or more of {', '.join(DIMENSIONS)}")
    sub.add_argument("--label-type", default="definitional", choices=LABEL_TYPES,
                     help="transforEmotion's descriptions of each pole, its one-word poles, or --custom-labels")
    sub.add_argument("--custom-labels", default=None, metavar="JSON",
                     help='with --label-type custom: a JSON file or text, e.g. \'{"valence": {"positive": "a happy '
                          'face", "negative": "a sad face"}}\'; arousal and dominance poles are "high" and "low"')


def _add_vad_command(commands) -> None:
    sub = commands.add_parser(
        "vad", formatter_class=_Formatter,
        help="valence, arousal and dominance of faces in images, folders of images, or a video (zero-shot, as "
             "transforEmotion's vad_scores)")
    sub.add_argument("inputs", nargs="+", metavar="INPUT", help="image files, URLs or folders; or one video")
    sub.add_argument("--input-type", default="auto", choices=("auto", "image", "video"),
                     help="auto: judged by the extension (an http(s) link not naming an image file is a video)")
    _add_vad_label_options(sub)
    sub.add_argument("--pattern", default=api.DEFAULT_IMAGE_PATTERN,
                     help="regular expression for the file names taken from folders (ignoring case)")
    sub.add_argument("--recursive", action="store_true", help="also look in sub-folders of folders")
    sub.add_argument("--nframes", type=int, default=None, metavar="N",
                     help="video: how many frames (default: up to 100, as many as the video has room for)")
    sub.add_argument("--ffreq", type=int, default=15, metavar="N", help="video: take every N-th frame")
    sub.add_argument("--uniform", action="store_true", help="video: spread the frames evenly instead")
    sub.add_argument("--start", type=float, default=0, metavar="SECONDS", help="video: score from here")
    sub.add_argument("--end", type=float, default=-1, metavar="SECONDS", help="video: up to here; -1: the end")
    _add_person_options(sub)
    _add_scoring_options(sub, classes=False)


def _custom_labels(text: Optional[str]):
    if text is None:
        return None
    try:
        if os.path.isfile(text):
            with open(text, encoding="utf-8") as fh:
                return json.load(fh)
        if text.lstrip().startswith("{"):
            return json.loads(text)
    except (OSError, ValueError) as exc:
        raise ArgumentError(f"--custom-labels could not be read as JSON: {exc}.") from None
    raise ArgumentError(f"--custom-labels takes a JSON file or JSON text such as "
                     f"'{{\"valence\": {{\"positive\": \"a happy face\", \"negative\": \"a sad face\"}}}}'; "
                     f"got {text!r}, which is neither.")


def run_vad(args) -> Dict[str, list]:
    """One video (with frame and time), or images: folders contribute their matching files, as for `image`."""
    from .vad import detect_input_type, vad_scores

    kwargs = dict(dimensions=args.dimensions, label_type=args.label_type,
                  custom_labels=_custom_labels(args.custom_labels), start=args.start, end=args.end,
                  uniform=args.uniform, ffreq=args.ffreq, **_scoring_kwargs(args))
    if args.nframes is not None:
        kwargs["nframes"] = args.nframes
    for name, given in (("persons", args.persons), ("person_names", _person_names(args.person_names))):
        if given is not None:  # video options: given for images, vad_scores says they do not apply
            kwargs[name] = given
    folders = [p for p in args.inputs if os.path.isdir(p)]
    video = args.input_type == "video" or (args.input_type == "auto" and not folders
                                           and detect_input_type(args.inputs) == "video")
    if video:
        if len(args.inputs) > 1:
            raise ArgumentError("Give one video per run of `transforemotion vad` (or use `transforemotion corpus`).")
        return vad_scores(args.inputs[0], input_type="video", timestamps=True, **kwargs)
    files: List[str] = []
    for path in args.inputs:
        files.extend(list_image_files(path, args.pattern, args.recursive) if os.path.isdir(path) else [path])
    if not files:
        raise ArgumentError("No image files found in the given folders; check --pattern, or add --recursive.")
    # Files from folders matched --pattern, so they are images whatever their extension.
    input_type = "image" if folders else args.input_type
    scores = vad_scores(files, input_type=input_type, **kwargs)
    return scores if "image" in scores else {"image": files, **scores}


def run_test_model(args) -> str:
    """Write the tiny test model to FOLDER; print its path (for --local-model-path) on standard output."""
    from .testing import build_tiny_clip

    folder = args.folder
    if os.path.exists(folder) and (not os.path.isdir(folder) or os.listdir(folder)):
        what = "is a file" if not os.path.isdir(folder) else "is not empty"
        raise ArgumentError(f"{folder} {what}; give a new or empty folder for the test model.")
    path = os.path.abspath(build_tiny_clip(folder))
    print(path)
    print(f"transforemotion: wrote a tiny model with random weights (its scores mean nothing). Try it: "
          f"transforemotion image PICTURE --classes joy anger --local-model-path {path}", file=sys.stderr)
    return path


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


def _has_scores(table: Dict[str, list], classes: Optional[Sequence[str]]) -> bool:
    columns = classes or []
    return any(not is_missing(v) for c in columns if c in table for v in table[c])


def _outcome(failed: bool, table, args) -> int:
    """0 when every input was read; 3 when some failed; 2 when some failed and no row has a score."""
    if not failed:
        return EXIT_OK
    if isinstance(table, dict) and args.command in ("image", "video", "corpus") and not _has_scores(
            table, args.classes):
        print("transforemotion: error: nothing could be scored (see the warnings above).", file=sys.stderr)
        return EXIT_BAD_INPUT
    return EXIT_PARTIAL


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    failed = []

    def show_warning(message, category, filename, lineno, file=None, line=None):
        if issubclass(category, InputsFailedWarning):
            failed.append(message)
        print(f"transforemotion: warning: {message}", file=sys.stderr)

    try:
        with caller("cli"), warnings.catch_warnings():
            # Skipped items are one line each on stderr, without Python's source-line decoration.
            warnings.simplefilter("always", TransforemotionWarning)
            warnings.showwarning = show_warning
            for name in ("output", "scores_out"):
                if getattr(args, name, None) is not None:
                    check_output_path(getattr(args, name), name)
            if args.command == "test-model":
                run_test_model(args)
                return EXIT_OK
            if args.command == "evaluate":
                table = run_evaluate(args)
                write_output(table, args.format, args.output, write_evaluation)
                return _outcome(bool(failed), table, args)
            if args.command == "models":
                table = list_vision_models()
            elif args.command == "image":
                table = run_image(args)
            elif args.command == "corpus":
                table = run_corpus(args)
            elif args.command == "vad":
                table = run_vad(args)
            else:
                table = run_video(args)
            write_output(table, args.format, args.output)
            return _outcome(bool(failed), table, args)
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
    except KeyboardInterrupt as exc:
        # A corpus run says how far it got ("stopped; N of M units finished; ..."); anything else just stops.
        print(f"transforemotion: {exc or 'interrupted'}", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
