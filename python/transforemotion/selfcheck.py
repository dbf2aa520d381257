"""Check that this environment can score a picture, without downloading anything.

Run it as ``python -m transforemotion.selfcheck``. It builds a tiny CLIP model with random
weights in a temporary folder (:func:`transforemotion.testing.build_tiny_clip`), scores one
synthetic picture through the public :func:`transforemotion.image_scores` with
``face_selection="none"``, and prints a one-line JSON report::

    {"ok": true, "python": "...", "transforemotion": "0.1.0", "torch": "2.13.0+cpu",
     "transformers": "4.57.6", "opencv": "5.0.0", "cuda": false, "scores": {"happy": 0.5, "sad": 0.5}}

Exit status 0 when the scores are probabilities (each finite, summing to 1), 1 otherwise, with
``"ok": false`` and ``"error"`` in the report. The installer runs it as its last step.
"""

from __future__ import annotations

import json
import math
import os
import sys
import tempfile
from typing import Dict, Optional, Sequence

__all__ = ["run_selfcheck", "main"]

CLASSES = ("happy", "sad")


def run_selfcheck(folder: str) -> Dict[str, object]:
    """Build the tiny model and score one picture in ``folder``; return the report.

    Raises:
        RuntimeError: the scores are not probabilities.
    """
    import cv2
    import numpy as np
    import torch
    import transformers
    from PIL import Image

    import transforemotion
    from transforemotion.testing import build_tiny_clip

    model = build_tiny_clip(os.path.join(folder, "tiny-clip"))
    picture = os.path.join(folder, "noise.png")
    pixels = np.random.default_rng(0).integers(0, 256, (48, 48, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(picture)
    scores = transforemotion.image_scores(picture, list(CLASSES), face_selection="none",
                                          local_model_path=model)
    row = {label: float(scores[label][0]) for label in CLASSES}
    if not all(math.isfinite(v) for v in row.values()) or abs(sum(row.values()) - 1.0) > 1e-4:
        raise RuntimeError(f"image_scores gave {row}, not probabilities that sum to 1")
    return {
        "ok": True,
        "python": sys.executable,
        "transforemotion": transforemotion.__version__,
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "opencv": cv2.__version__,
        "cuda": bool(torch.cuda.is_available()),
        "scores": row,
    }


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Print the one-line JSON report; return 0 when the check passed, else 1."""
    if argv:
        print("usage: python -m transforemotion.selfcheck   (no arguments)", file=sys.stderr)
        return 2
    # Set before transformers and huggingface_hub are imported, which read them once.
    os.environ["HF_HUB_OFFLINE"] = "1"  # nothing may be downloaded, even by mistake
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # keep the report easy to find
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    with tempfile.TemporaryDirectory(prefix="transforemotion-selfcheck-") as folder:
        try:
            report = run_selfcheck(folder)
        except Exception as exc:  # noqa: BLE001 - any failure is the answer, reported as such
            report = {"ok": False, "python": sys.executable, "error": f"{type(exc).__name__}: {exc}"}
    print(json.dumps(report), flush=True)
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
