# Scoring images and video. Each function checks its arguments in R, hands
# them to transforemotion, and returns a data frame with one column per label.

#' Emotion scores for faces in images
#'
#' Finds a face in each image, crops it, and scores it against every label in
#' `classes` with a zero-shot CLIP model. The scores of one image sum to 1.
#'
#' The model is loaded on the first call and kept for the rest of the R
#' session, so later calls with the same model are fast.
#'
#' @param image Character vector of image paths (JPEG, PNG, BMP, ...) or
#'   `http(s)` URLs. Each element gives one row of the result.
#' @param classes Character vector of labels to score against, e.g.
#'   `c("joy", "anger", "sadness")`. Each becomes one column of the result,
#'   named exactly as given, so labels must be distinct.
#' @param face_selection Which face to score: `"largest"`, `"left"` (leftmost),
#'   `"right"` (rightmost), `"all"` (every face, one row each, with its box),
#'   or `"none"` to score the whole picture without looking for a face.
#' @param model A model name from [list_vision_models()] (e.g. `"oai-base"`,
#'   `"oai-large"`) or a Hugging Face model id. Ignored when
#'   `local_model_path` is given.
#' @param local_model_path `NULL`, or a folder holding a model saved with
#'   Hugging Face's `save_pretrained()`; nothing is downloaded then.
#' @param face_boxes `TRUE` to add the scored face's box (`x`, `y`, `width`,
#'   `height`, in pixels of the original picture) and the detector's
#'   `confidence` before the label columns (with `"largest"`, `"left"` or
#'   `"right"`; `"all"` always has them).
#' @param templates How each label is phrased for the model: `NULL` (the
#'   label as it is, as in transforEmotion), a template with `{}` where the
#'   label goes (`"a photo of a {} face."`), several templates (their
#'   embeddings are averaged), or a built-in set: `"fer"` (the six templates
#'   CLIP's authors used for facial expressions) or `"face"`. The columns
#'   keep the labels' own names.
#' @param batch_size Faces per forward pass; `NULL` means 32 (or the
#'   environment variable `TRANSFOREMOTION_BATCH_SIZE`).
#' @param device `NULL` (the first of CUDA, Apple MPS and CPU that exists, or
#'   `TRANSFOREMOTION_DEVICE`), or `"cpu"`, `"cuda"`, `"cuda:1"`, `"mps"`.
#' @param progress `NULL` (a progress bar on long runs unless
#'   `TRANSFOREMOTION_PROGRESS=0`), `TRUE` or `FALSE`.
#' @param face_workers Threads that find faces while the model embeds
#'   (`NULL`: automatic, or the environment variable
#'   `TRANSFOREMOTION_FACE_WORKERS`: one per four cores on a CPU, every core
#'   but one beside a GPU). The scores are the same whatever the number.
#' @returns A `data.frame` with one row per element of `image` and one numeric
#'   column per label in `classes`. A row is `NA` where no face was found or
#'   an image could not be read (with a warning saying which image). With
#'   `face_selection = "all"`: one row per face, with the columns `image`
#'   (the input as given), `face` (0, 1, ... from left to right), `x`, `y`,
#'   `width`, `height`, `confidence`, then the labels; an image without a face
#'   keeps one row, with `NA` in those columns.
#' @seealso [image_scores_dir()] for a whole folder, [video_scores()].
#' @examples
#' face <- system.file("extdata", "face.jpg", package = "transforEmotionBridge")
#' \donttest{
#' if (python_available()) {
#'   # A tiny model with random weights: no download, meaningless scores.
#'   # For real use, leave out local_model_path (downloads "oai-base" once).
#'   model_dir <- tiny_clip_model()
#'   image_scores(face, c("joy", "anger", "surprise"), local_model_path = model_dir)
#'   # Every face, with its box; labels phrased with the six facial-expression templates:
#'   image_scores(face, c("joy", "anger"), face_selection = "all", templates = "fer",
#'                local_model_path = model_dir)
#' }
#' }
#' @export
image_scores <- function(image, classes, face_selection = "largest", model = "oai-base",
                         local_model_path = NULL, face_boxes = FALSE, templates = NULL,
                         batch_size = NULL, device = NULL, progress = NULL, face_workers = NULL) {
  image <- check_input_paths(image, "image", "image")
  labels <- check_classes(classes)
  options <- scoring_options()
  # One path is one image, as in Python (an unreadable one is an error); several are a batch (an unreadable
  # one gets a row of NA and a warning, and the others are scored).
  image <- if (length(image) == 1) image else as.list(image)
  result <- do.call(py_call, c(list("image_scores", image = image, classes = labels), options))
  as_scores_frame(result, required = classes)
}

#' Emotion scores for every image in a folder
#'
#' Like [image_scores()] for all files in `dir` whose names match `pattern`.
#'
#' @param dir Folder holding the images.
#' @param pattern Regular expression the file names must match (Python's
#'   `re` syntax, which agrees with R's for patterns like the default). The
#'   default, [image_pattern()], is `"\\.(jpg|jpeg|png|bmp)$"`, read from the
#'   Python package, which holds the one list of image extensions;
#'   matched ignoring case.
#' @param recursive Look in subfolders too?
#' @inheritParams image_scores
#' @returns A `data.frame` with a character column `image_id` (the file name,
#'   relative to `dir`) followed by one numeric column per label; `NA` where
#'   no face was found or a file could not be read (the run goes on, with a
#'   warning). With `face_selection = "all"`, one row per face as in
#'   [image_scores()].
#' @seealso [image_scores()]
#' @examples
#' folder <- system.file("extdata", package = "transforEmotionBridge")
#' \donttest{
#' if (python_available()) {
#'   image_scores_dir(folder, c("joy", "anger"), local_model_path = tiny_clip_model())
#' }
#' }
#' @export
image_scores_dir <- function(dir, classes, face_selection = "largest",
                             pattern = image_pattern(), recursive = FALSE,
                             model = "oai-base", local_model_path = NULL, face_boxes = FALSE,
                             templates = NULL, batch_size = NULL, device = NULL, progress = NULL, face_workers = NULL) {
  dir <- check_dir(dir, "dir")
  labels <- check_classes(classes)
  check_string(pattern, "pattern")
  check_bool(recursive, "recursive")
  options <- scoring_options()
  result <- do.call(py_call, c(list("image_scores_dir", dir = dir, classes = labels, pattern = pattern,
                                    recursive = recursive), options))
  as_scores_frame(result, required = c("image_id", classes))
}

#' Emotion scores for the faces in a video
#'
#' Samples frames from a video (a file, or a URL such as YouTube's when the
#' Python side has its `youtube` extra), finds a face in each, and scores it
#' against `classes`.
#'
#' @param video Path or URL of one video.
#' @param nframes How many frames to score. Left at its default, a video too
#'   short for 100 frames is scored on the frames it has room for (with a
#'   warning saying how many); a number you give that the video cannot supply
#'   is an error that says how many frames there are.
#' @param start,end Part of the video to use, in seconds; `end = -1` means up
#'   to the end.
#' @param uniform `TRUE` to spread the `nframes` frames evenly over the part
#'   used; `FALSE` to take every `ffreq`-th frame from `start`.
#' @param ffreq Take every `ffreq`-th frame when `uniform = FALSE`.
#' @param save_video When `video` is a URL: keep the downloaded video in
#'   `save_dir`.
#' @param save_frames Write the sampled frames as
#'   `<video_name>-frame-<i>.jpg` in `save_dir`. A `save_dir` that cannot take
#'   them (a file in the way, a folder that cannot be made) or a `video_name`
#'   too long for the file system is an error before anything is scored.
#' @param save_dir The only folder anything is written to (created only when
#'   something is written).
#' @param video_name Base name of saved files (no folders).
#' @param timestamps `TRUE` to add the columns `frame` (0-based, as in the
#'   video file) and `time` (seconds) before the labels. They are always kept
#'   as the attributes `"frame"` and `"time"` too, and always present as
#'   columns with `face_selection = "all"`.
#' @param persons With `face_selection = "all"`: keep only the `persons`
#'   people seen in the most frames (`persons = 2` for a dyad drops
#'   passers-by), numbered 0 to `persons - 1` in the order first seen;
#'   `NULL` keeps everyone, with their ids.
#' @param person_names With `face_selection = "all"`: names for the person
#'   ids, either a character vector (the first name for person 0, the next
#'   for person 1, ...) or a named vector for chosen ids,
#'   `` c(`0` = "therapist", `2` = "client") ``. The `person` column then
#'   holds the names. You can also rename later:
#'   `scores$person <- c("therapist", "client")[scores$person + 1]`.
#' @inheritParams image_scores
#' @returns A `data.frame` of class `"video_scores"` with one row per sampled
#'   frame and one numeric column per label (`NA` where no face was found or
#'   the frame could not be decoded). A truncated file keeps the rows of the
#'   frames that decode, with `NA` rows for the frames past the damage and one
#'   warning with the count, even for an explicit `nframes` (see the README's
#'   "Truncated files"). As in transforEmotion, the columns are
#'   the labels only unless `timestamps = TRUE`; the frame number and time of
#'   each row are kept in the attributes `"frame"` and `"time"` either way.
#'   With `face_selection = "all"`: one row per face per frame, with `frame`,
#'   `time`, `person`, `face`, the box and `confidence` before the labels.
#'   `person` is the same number for the same person throughout the video (0
#'   for the first person seen, then 1, ...), while `face` is only the face's
#'   rank from left to right within its frame. A person not found in a
#'   sampled frame between their first and last appearance gets a row there
#'   with `NA` in the face columns and scores, so each person's series has a
#'   row for every sampled frame of that span. Ids are per video: person 0 of
#'   one video has nothing to do with person 0 of another.
#'   [plot()][plot.video_scores] draws each label's score over time (one
#'   panel per person with `"all"`, on one time axis).
#' @seealso [plot.video_scores()], [image_scores()]
#' @examples
#' \donttest{
#' if (python_available()) {
#'   # Write a short test video with OpenCV (Python) so nothing is downloaded.
#'   cv2 <- reticulate::import("cv2")
#'   np <- reticulate::import("numpy", convert = FALSE)
#'   video <- tempfile(fileext = ".avi")
#'   writer <- cv2$VideoWriter(video, cv2$VideoWriter_fourcc("M", "J", "P", "G"), 10, list(64L, 64L))
#'   for (i in 1:30) writer$write(np$full(list(64L, 64L, 3L), as.integer(i * 8), dtype = "uint8"))
#'   writer$release()
#'   scores <- video_scores(video, c("joy", "anger"), nframes = 10, face_selection = "none",
#'                          uniform = TRUE, local_model_path = tiny_clip_model())
#'   head(scores)
#'   attr(scores, "time")
#'   plot(scores)
#' }
#' }
#' @export
video_scores <- function(video, classes, nframes = 100, face_selection = "largest",
                         start = 0, end = -1, uniform = FALSE, ffreq = 15,
                         save_video = FALSE, save_frames = FALSE, save_dir = "temp/",
                         video_name = "temp", model = "oai-base", local_model_path = NULL,
                         timestamps = FALSE, face_boxes = FALSE, templates = NULL,
                         batch_size = NULL, device = NULL, progress = NULL, persons = NULL,
                         person_names = NULL, face_workers = NULL) {
  if (length(video) != 1) arg_error("`video` must be one path or URL; to score several videos, call video_scores() for each.")
  video <- check_input_paths(video, "video", "video")
  labels <- check_classes(classes)
  options <- c(sampling_options(), saving_options(), scoring_options())
  check_bool(timestamps, "timestamps")
  result <- do.call(py_call, c(list(
    "video_scores",
    video = video, classes = labels, timestamps = TRUE, persons = as_optional_whole(persons, "persons"),
    person_names = check_person_names(person_names)
  ), options))
  scores <- as_scores_frame(result, required = c("frame", "time", classes))
  frame <- scores$frame
  time <- scores$time
  if (!timestamps && face_selection != "all") scores <- scores[setdiff(names(scores), c("frame", "time"))]
  attr(scores, "frame") <- as.integer(frame)
  attr(scores, "time") <- as.numeric(time)
  class(scores) <- c("video_scores", "data.frame")
  scores
}
