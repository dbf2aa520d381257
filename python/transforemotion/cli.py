"""Command line: ``transforemotion image|video|corpus|embed|rescore|evaluate|models ...``.

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

import json
import os
import sys
import traceback
import warnings
from typing import Dict, List, Optional, Sequence

import numpy as np

from . import api, corpus, embeddings_api
from .core import settings
from .core.checks import is_missing
from .core.options import flag_values
from .core.errors import ArgumentError, InputError, TransforemotionError
from .core.files import check_output_path
from .core.output import write_evaluation, write_output
from .core.messages import InputsFailedWarning, TransforemotionWarning, caller
from .engine import ScoringOptions
from .media import FrameSampling, SavedFiles, list_image_files
from .models import list_vision_models

from .cli_parser import build_parser  # noqa: E402 (the parser is built there)

EXIT_OK = 0
EXIT_BAD_INPUT = 2  # also argparse's status for a flag it cannot parse; and "nothing could be scored"
EXIT_PARTIAL = 3  # results written, some inputs failed
EXIT_ENVIRONMENT = 4
EXIT_INTERNAL = 70  # EX_SOFTWARE in BSD's sysexits.h
EXIT_INTERRUPTED = 130


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


def run_embed(args) -> bool:
    """Embed the pictures and write the Parquet file; image files keep their path in an `image` column.
    Returns whether any row has an embedding."""
    if args.kind == "video":
        emb = embeddings_api.embed_video(args.path, timestamps=True,
                                         **flag_values(args, FrameSampling, ScoringOptions))
    else:
        files = _image_files(args)
        emb = embeddings_api.embed_images(files, **flag_values(args, ScoringOptions))
        if "image" not in emb.rows:
            emb = embeddings_api.Embeddings({"image": files, **emb.rows}, emb.vectors, emb.model)
    embeddings_api.save_embeddings(emb, args.output, args.precision)
    return bool(np.isfinite(emb.vectors).all(axis=1).any())


def run_rescore(args) -> Dict[str, list]:
    options = flag_values(args, ScoringOptions)
    if os.path.isdir(args.path):
        return corpus.rescore_corpus(args.path, args.classes, into=args.into, overwrite=args.overwrite, **options)
    if args.into is not None:
        raise ArgumentError(f"--into writes a corpus folder; it is for a corpus folder, and {args.path} is a file.")
    options.pop("progress")
    return embeddings_api.rescore(embeddings_api.load_embeddings(args.path), args.classes, **options)


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
    scores = api.image_scores(files, args.classes, **flag_values(args, ScoringOptions))
    return scores if "image" in scores else {"image": files, **scores}


def run_video(args) -> Dict[str, list]:
    return api.video_scores(args.path, args.classes, timestamps=args.timestamps, persons=args.persons,
                            person_names=_person_names(args.person_names),
                            **flag_values(args, FrameSampling, SavedFiles, ScoringOptions))


def run_corpus(args) -> Dict[str, list]:
    """Score the corpus into --output-dir (skipping what is finished), then return all its scores."""
    inputs = args.inputs[0] if len(args.inputs) == 1 else args.inputs
    kwargs = dict(engine=args.engine, recursive=args.recursive, unit_size=args.unit_size, overwrite=args.overwrite,
                  address=args.address, workers=args.workers, gpus_per_worker=args.gpus_per_worker,
                  cpus_per_worker=args.cpus_per_worker, persons=args.persons, keep_embeddings=args.keep_embeddings,
                  embedding_precision=args.embedding_precision, **flag_values(args, FrameSampling, ScoringOptions))
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
                  custom_labels=_custom_labels(args.custom_labels), **flag_values(args, FrameSampling, ScoringOptions))
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
                          pattern=args.pattern, **flag_values(args, ScoringOptions))
    if args.scores_out is not None:
        write_output(result["scores"], "csv", args.scores_out)
    return result["evaluation"]


def _has_scores(table, args) -> bool:
    """Whether any row has a score: in the label columns (--classes; the dimensions for `vad` and
    `corpus --vad`); a table without them (an evaluation report) counts as scored."""
    if not isinstance(table, dict):
        return True
    columns = args.dimensions if getattr(args, "vad", args.command == "vad") else (getattr(args, "classes", None) or [])
    columns = [c for c in columns if c in table]
    return not columns or any(not is_missing(v) for c in columns for v in table[c])


def _outcome(failed: List[str], scored: bool) -> int:
    """0 when every input was read; 3 when some failed (their warnings are printed now); 2 when some failed and
    nothing was scored: then one line says so, with the warnings' reasons."""
    if not failed:
        return EXIT_OK
    if not scored:
        print(f"transforemotion: error: nothing could be scored. {' '.join(failed)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    _show_failures(failed)
    return EXIT_PARTIAL


def _show_failures(failed: List[str]) -> None:
    """The warnings about inputs that failed, held back until the outcome is known (see :func:`main`)."""
    for message in failed:
        print(f"transforemotion: warning: {message}", file=sys.stderr)
    failed.clear()


def _interrupted(exc: KeyboardInterrupt) -> str:
    """One line: "interrupted", and what a corpus run says of how far it got ("stopped; N of M units ...")."""
    said = " ".join(str(exc).split())
    return f"transforemotion: interrupted: {said}" if said else "transforemotion: interrupted."


def _run(args) -> int:
    """Run the command; the exit status of a run that ends without an exception. Warnings are one line each."""
    failed: List[str] = []

    def show_warning(message, category, filename, lineno, file=None, line=None):
        if issubclass(category, InputsFailedWarning):
            # Held back: when nothing could be scored they become part of the one-line error (_outcome).
            failed.append(" ".join(str(message).split()))
            return
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
            if args.command == "embed":
                return _outcome(failed, run_embed(args))
            if args.command == "evaluate":
                table = run_evaluate(args)
                code = _outcome(failed, scored=True)
                write_output(table, args.format, args.output, write_evaluation)
                return code
            if args.command == "models":
                table = list_vision_models()
            elif args.command == "image":
                table = run_image(args)
            elif args.command == "corpus":
                table = run_corpus(args)
            elif args.command == "vad":
                table = run_vad(args)
            elif args.command == "rescore":
                table = run_rescore(args)
            else:
                table = run_video(args)
            code = _outcome(failed, _has_scores(table, args))
            write_output(table, args.format, args.output)
            return code
    except BaseException:
        _show_failures(failed)  # what was read before the error or the Ctrl-C
        raise


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return _run(args)
    except InputError as exc:
        print(f"transforemotion: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except (TransforemotionError, ImportError, OSError) as exc:
        # Ours that are not input errors (a missing package, a model that cannot be had, a folder in use), and the
        # system's (a full disk, no permission): the call was right, the machine is not ready for it.
        print(f"transforemotion: error: {exc}", file=sys.stderr)
        return EXIT_ENVIRONMENT
    except Exception as exc:  # noqa: BLE001 - anything else is a fault of ours, never the user's mistake
        if settings.debug():
            traceback.print_exc()
        print(f"transforemotion: internal error: {type(exc).__name__}: {exc}\n"
              "This is a fault in transforemotion or a library it uses, not in your input. Please report it to the "
              "maintainers with the command you ran and this message (TRANSFOREMOTION_DEBUG=1 adds the traceback).",
              file=sys.stderr)
        return EXIT_INTERNAL
    except KeyboardInterrupt as exc:
        # A corpus run says how far it got ("stopped; N of M units finished; ..."); anything else just stops.
        print(_interrupted(exc), file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
