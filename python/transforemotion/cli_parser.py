"""The command line's flags: one parser, a subcommand per public function, defaults shown once in the help.

:mod:`transforemotion.cli` runs what is parsed here.
"""

from __future__ import annotations

import argparse
import os
from typing import Sequence

from . import __version__, api, corpus
from .core.options import add_flags
from .engine import ScoringOptions
from .faces import FACE_SELECTIONS
from .media import FrameSampling, SavedFiles


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


class _Parser(argparse.ArgumentParser):
    """argparse, with one short line where a list flag took the path that should have followed it.

    ``transforemotion video --classes joy anger clip.mp4`` gives ``clip.mp4``
    to ``--classes`` (it takes one or more values), and argparse then reports
    PATH as missing under a page of usage; this says what happened instead.
    """

    def parse_known_args(self, args=None, namespace=None):
        self._given = list(args) if args is not None else None
        return super().parse_known_args(args, namespace)

    def error(self, message):
        missing = message.partition("the following arguments are required: ")[2]
        taken = self._list_flag_at_end(getattr(self, "_given", None)) if missing else None
        if taken is None:
            super().error(message)
        flag, values = taken
        wanted = missing.split(",")[0].strip()
        self.exit(2, f"{self.prog}: error: {flag} took {values[-1]!r} as one of its values, so {wanted} is missing: "
                     f"put {wanted} before {flag}, or end its values with -- ({flag} {' '.join(values[:-1])} -- "
                     f"{values[-1]}).\n")

    def _list_flag_at_end(self, given):
        """(flag, its values) for the last flag that takes a list, where its last value names a file, a
        folder or a link (a path the user meant as PATH); else None."""
        if not given or "--" in given:
            return None
        starts = [k for k, token in enumerate(given) if token.startswith("-") and token != "-"] + [len(given)]
        for start, end in reversed(list(zip(starts, starts[1:]))):
            action = self._option_string_actions.get(given[start].partition("=")[0])
            if action is None or action.nargs not in ("+", "*"):
                continue
            values = given[start + 1:end]
            if len(values) > 1 and _looks_like_a_path(values[-1]):
                return given[start], values
            return None
        return None


def _looks_like_a_path(text: str) -> bool:
    return os.path.exists(text) or "/" in text or os.sep in text or "://" in text or bool(os.path.splitext(text)[1])


def _add_scoring_options(parser: argparse.ArgumentParser, classes_required: bool = True,
                         face_selections: Sequence[str] = FACE_SELECTIONS, face_boxes: bool = True,
                         formats: Sequence[str] = ("csv", "json"), classes: bool = True,
                         templates: bool = True) -> None:
    """The scoring options' flags, built from :class:`ScoringOptions`' fields, then --format and --output."""
    if classes:
        _add_classes(parser, classes_required)
    skip = [name for name, keep in (("face_boxes", face_boxes), ("templates", templates)) if not keep]
    add_flags(parser, ScoringOptions, skip=skip, changes={"face_selection": {"choices": face_selections}})
    _add_output_options(parser, formats)


def _add_classes(parser: argparse.ArgumentParser, required: bool = True) -> None:
    parser.add_argument("--classes", nargs="+", required=required, metavar="LABEL",
                        help="two or more labels, e.g. --classes joy anger 'deep sadness'")


def _add_folder_options(parser: argparse.ArgumentParser, pattern: bool = True, recursive: bool = True) -> None:
    """Which files of a folder are read: --pattern and --recursive."""
    if pattern:
        parser.add_argument("--pattern", default=api.DEFAULT_IMAGE_PATTERN,
                            help="regular expression for the image file names taken from folders (ignoring case)")
    if recursive:
        parser.add_argument("--recursive", action="store_true", help="also look in sub-folders of folders")


def _add_video_options(parser: argparse.ArgumentParser, saving: bool = True, prefix: str = "") -> None:
    """Which frames (:class:`FrameSampling`) and, where a command saves files, what (:class:`SavedFiles`)."""
    add_flags(parser, FrameSampling, prefix=prefix)
    if saving:
        add_flags(parser, SavedFiles)


def _add_output_options(parser: argparse.ArgumentParser, formats: Sequence[str] = ("csv", "json")) -> None:
    if not formats:  # the command writes a file of its own kind
        return
    parser.add_argument("--format", default=formats[0], choices=formats,
                        help="output format" + (" (text: a readable report; json: every measure)"
                                                if "text" in formats else ""))
    parser.add_argument("--output", "-o", default=None, metavar="FILE",
                        help="write to this file (in an existing folder) instead of standard output")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
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
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    image = commands.add_parser("image", help="score image files, URLs, or folders of images",
                                formatter_class=_Formatter)
    image.add_argument("paths", nargs="+", metavar="PATH", help="image files, http(s) URLs, or folders")
    _add_folder_options(image)
    _add_scoring_options(image)

    video = commands.add_parser("video", help="score sampled frames of a video file or URL",
                                formatter_class=_Formatter)
    video.add_argument("path", metavar="PATH", help="video file, http(s) link to one, or a page such as YouTube's")
    _add_video_options(video)
    _add_person_options(video)
    video.add_argument("--timestamps", dest="timestamps", action="store_true", default=True,
                       help="add the frame and time columns first (on by default here, unlike in Python and R)")
    video.add_argument("--no-timestamps", dest="timestamps", action="store_false",
                       help="leave out the frame and time columns (kept with --face-selection all)")
    _add_scoring_options(video)

    _add_corpus_command(commands)
    _add_vad_command(commands)
    _add_embedding_commands(commands)
    evaluate = commands.add_parser(
        "evaluate", formatter_class=_Formatter,
        help="score a labelled folder (one sub-folder per class) and report how well the scores agree with the labels")
    evaluate.add_argument("path", metavar="DIR", help="folder with one sub-folder of images per class")
    evaluate.add_argument("--label-map", nargs="+", default=None, metavar="FOLDER=LABEL",
                          help="label text for a folder, e.g. --label-map happy=joy sad=sadness (default: folder names)")
    _add_folder_options(evaluate, recursive=False)
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
    _add_video_options(sub, saving=False, prefix="each video: ")
    _add_folder_options(sub, pattern=False)
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
    sub.add_argument("--vad", action="store_true",
                     help="valence, arousal and dominance instead of --classes (as `transforemotion vad`)")
    _add_vad_label_options(sub)
    _add_person_options(sub, names=False)
    _add_scoring_options(sub, classes_required=False)


def _add_embedding_commands(commands) -> None:
    """`embed image|video` (write the embeddings to a Parquet file) and `rescore` (new labels from them)."""
    embed = commands.add_parser("embed", formatter_class=_Formatter,
                                help="keep the image embeddings of faces in a Parquet file, to rescore with any labels")
    kinds = embed.add_subparsers(dest="kind", required=True, metavar="KIND")
    image = kinds.add_parser("image", help="image files, URLs, or folders", formatter_class=_Formatter)
    image.add_argument("paths", nargs="+", metavar="PATH", help="image files, http(s) URLs, or folders")
    _add_folder_options(image)
    video = kinds.add_parser("video", help="sampled frames of a video file or URL", formatter_class=_Formatter)
    video.add_argument("path", metavar="PATH", help="video file, http(s) link to one, or a page such as YouTube's")
    _add_video_options(video, saving=False)
    for sub in (image, video):
        _add_scoring_options(sub, classes=False, templates=False, formats=())
        sub.add_argument("--precision", default="float32", choices=("float32", "float16"),
                         help="number type in the file (float16: half the size, scores move by about 1e-4)")
        sub.add_argument("--output", "-o", required=True, metavar="FILE", help="the Parquet file to write")

    rescore = commands.add_parser(
        "rescore", formatter_class=_Formatter,
        help="scores for new labels from kept embeddings: a file from `embed`, or a corpus folder scored with "
             "--keep-embeddings; no picture is read")
    rescore.add_argument("path", metavar="PATH", help="an embeddings file, or a corpus folder")
    _add_classes(rescore)
    add_flags(rescore, ScoringOptions, only=("templates", "model", "local_model_path", "device"),
              changes={"model": {"default": None, "help": "the model that made the embeddings, if it moved "
                                                          "(default: the one recorded)"}})
    rescore.add_argument("--into", default=None, metavar="FOLDER",
                         help="corpus only: also write the scores there as a corpus folder (resumable)")
    rescore.add_argument("--overwrite", action="store_true", help="with --into: replace what is there")
    add_flags(rescore, ScoringOptions, only=("progress",))
    _add_output_options(rescore)


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
    _add_folder_options(sub)
    _add_video_options(sub, saving=False, prefix="video: ")
    _add_person_options(sub)
    _add_scoring_options(sub, classes=False)
