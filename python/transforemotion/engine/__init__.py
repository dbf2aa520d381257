"""The engine: one scoring path from pictures to result columns.

- :mod:`.request`: every option of a scoring call, checked once (:func:`scoring_request`).
- :mod:`.stream`: pictures in, score rows out (:func:`score_stream`); faces found in a reader thread,
  embedded in batches.
- :mod:`.run`: reading images, the progress bar, and the warnings for skipped pictures.
- :mod:`.columns`: the result's column names, defined once, and :func:`rows_to_columns`.
- :mod:`.persons`: people in a result: ``persons=`` and ``person_names=`` checked, the tracker run over a
  video's rows, the people kept, gaps filled, ids named.
"""

from .columns import (BOX_COLUMNS, FACE_COLUMN, IMAGE_ID_COLUMN, INTEGER_COLUMNS, METADATA_COLUMNS, PERSON_COLUMN,
                      TIME_COLUMNS, no_time_columns, rows_to_columns, time_columns)
from .persons import (PersonFollower, PersonNames, check_person_options, name_person_column, persons_by_video,
                      with_persons)
from .request import ScoringOptions, ScoringPlan, ScoringRequest, embedding_request, scoring_request
from .run import image_file_rows, no_face_advice, read_images, score_image_files, score_pictures, warn_unread
from .stream import NO_FACE, SCORED, UNREADABLE, ModelOrLoader, Picture, Rows, score_all, score_stream, warn_skipped

__all__ = [
    "BOX_COLUMNS", "FACE_COLUMN", "IMAGE_ID_COLUMN", "PERSON_COLUMN", "PersonFollower", "PersonNames",
    "check_person_options", "name_person_column", "persons_by_video", "with_persons", "INTEGER_COLUMNS",
    "METADATA_COLUMNS", "TIME_COLUMNS",
    "no_time_columns", "rows_to_columns", "time_columns",
    "ScoringOptions", "ScoringPlan", "ScoringRequest", "scoring_request", "embedding_request", "image_file_rows",
    "no_face_advice",
    "read_images", "score_pictures", "score_image_files",
    "warn_unread", "NO_FACE", "SCORED", "UNREADABLE", "ModelOrLoader", "Picture", "Rows", "score_all",
    "score_stream", "warn_skipped",
]
