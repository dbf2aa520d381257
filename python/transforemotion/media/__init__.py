"""Media: everything between a path or URL and RGB pixels.

- :mod:`.images`: reading an image file, bytes or URL into an RGB array, with the checks that keep bad files out.
- :mod:`.folders`: the image and video extensions (defined once) and listing a folder safely.
- :mod:`.sampling`: which frames of a video to take (pure arithmetic).
- :mod:`.decoding`: opening a video and decoding the chosen frames in order.
- :mod:`.fetching`: downloading a video (a file link or a web page) into the caller's folder.
- :mod:`.http`: bounded, checked HTTP downloads.
- :mod:`.frames`: saving sampled frames as JPEG files.
"""

from .decoding import choose_frames, open_video, read_frames
from .fetching import check_video_name, downloaded_video
from .folders import (DEFAULT_IMAGE_PATTERN, IMAGE_EXTENSIONS, IMAGE_FILE_EXTENSIONS, VIDEO_EXTENSIONS, check_folder,
                      extension_pattern, list_files, list_image_files, list_subfolders)
from .frames import FrameSaver, SavedFiles, check_frame_folder, frame_file_name
from .http import MAX_DOWNLOAD_BYTES, URL_TIMEOUT_SECONDS, download, fetch_url, is_url, quote_url
from .images import IMAGE_FORMATS, MAX_IMAGE_PIXELS, check_local_file, load_image
from .sampling import (DEFAULT_NFRAMES, MAX_FRAMES, FrameIndices, FrameSampling, TooFewFramesError, frames_to_score,
                       sample_frame_indices)

__all__ = [
    "choose_frames", "open_video", "read_frames", "check_video_name", "downloaded_video", "DEFAULT_IMAGE_PATTERN",
    "IMAGE_EXTENSIONS", "IMAGE_FILE_EXTENSIONS", "VIDEO_EXTENSIONS", "check_folder", "extension_pattern",
    "list_image_files", "list_files", "list_subfolders", "FrameSaver", "SavedFiles", "frame_file_name",
    "check_frame_folder",
    "MAX_DOWNLOAD_BYTES", "URL_TIMEOUT_SECONDS", "download", "fetch_url", "is_url", "quote_url",
    "IMAGE_FORMATS", "MAX_IMAGE_PIXELS", "check_local_file", "load_image", "DEFAULT_NFRAMES", "MAX_FRAMES",
    "FrameIndices", "FrameSampling", "TooFewFramesError", "frames_to_score", "sample_frame_indices",
]
