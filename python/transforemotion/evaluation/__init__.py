"""Evaluation: how well scores agree with known labels.

- :mod:`.tables`: reading and checking score tables (which columns are labels, the truth).
- :mod:`.metrics`: :func:`evaluate_scores` and its measures.
- :mod:`.labelled_folders`: :func:`evaluate_dir`, a labelled folder scored and evaluated in one call.
"""

from .labelled_folders import evaluate_dir
from .metrics import ECE_BINS, evaluate_scores, expected_calibration_error
from .tables import METADATA_COLUMNS, columns_of, label_columns

__all__ = ["evaluate_dir", "evaluate_scores", "ECE_BINS", "expected_calibration_error", "METADATA_COLUMNS",
           "columns_of", "label_columns"]
