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
#' @param face_selection Which face to score when an image has several:
#'   `"largest"`, `"left"` (leftmost), `"right"` (rightmost), or `"none"` to
#'   score the whole picture without looking for a face.
#' @param model A model name from [list_vision_models()] (e.g. `"oai-base"`,
#'   `"oai-large"`) or a Hugging Face model id. Ignored when
#'   `local_model_path` is given.
#' @param local_model_path `NULL`, or a folder holding a model saved with
#'   Hugging Face's `save_pretrained()`; nothing is downloaded then.
#' @returns A `data.frame` with one row per element of `image` and one numeric
#'   column per label in `classes`. A row is `NA` where no face was found
#'   (with a warning saying which image).
#' @seealso [image_scores_dir()] for a whole folder, [video_scores()].
#' @examples
#' face <- system.file("extdata", "face.jpg", package = "transforEmotionBridge")
#' \donttest{
#' if (python_available()) {
#'   # A tiny model with random weights: no download, meaningless scores.
#'   # For real use, leave out local_model_path (downloads "oai-base" once).
#'   model_dir <- tiny_clip_model()
#'   image_scores(face, c("joy", "anger", "surprise"), local_model_path = model_dir)
#' }
#' }
#' @export
image_scores <- function(image, classes, face_selection = "largest",
                         model = "oai-base", local_model_path = NULL) {
  image <- check_input_paths(image, "image", "image")
  labels <- check_classes(classes)
  check_choice(face_selection, "face_selection", FACE_SELECTIONS)
  m <- check_model(model, local_model_path)
  result <- py_call(
    "image_scores",
    image = as.list(image), classes = labels, face_selection = face_selection,
    model = m$model, local_model_path = m$local_model_path
  )
  as_scores_frame(result, classes)
}

#' Emotion scores for every image in a folder
#'
#' Like [image_scores()] for all files in `dir` whose names match `pattern`.
#'
#' @param dir Folder holding the images.
#' @param pattern Regular expression the file names must match (Python's
#'   `re` syntax, which agrees with R's for patterns like the default),
#'   matched ignoring case.
#' @param recursive Look in subfolders too?
#' @inheritParams image_scores
#' @returns A `data.frame` with a character column `image_id` (the file name,
#'   relative to `dir`) followed by one numeric column per label; `NA` where
#'   no face was found.
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
                             pattern = "\\.(jpg|jpeg|png|bmp)$", recursive = FALSE,
                             model = "oai-base", local_model_path = NULL) {
  dir <- check_dir(dir, "dir")
  labels <- check_classes(classes)
  check_choice(face_selection, "face_selection", FACE_SELECTIONS)
  check_string(pattern, "pattern")
  check_bool(recursive, "recursive")
  m <- check_model(model, local_model_path)
  result <- py_call(
    "image_scores_dir",
    dir = dir, classes = labels, face_selection = face_selection, pattern = pattern,
    recursive = recursive, model = m$model, local_model_path = m$local_model_path
  )
  as_scores_frame(result, c("image_id", classes))
}

#' Emotion scores for the faces in a video
#'
#' Samples frames from a video (a file, or a URL such as YouTube's when the
#' Python side has its `youtube` extra), finds a face in each, and scores it
#' against `classes`.
#'
#' @param video Path or URL of one video.
#' @param nframes How many frames to score (at most).
#' @param start,end Part of the video to use, in seconds; `end = -1` means up
#'   to the end.
#' @param uniform `TRUE` to spread the `nframes` frames evenly over the part
#'   used; `FALSE` to take every `ffreq`-th frame from `start`.
#' @param ffreq Take every `ffreq`-th frame when `uniform = FALSE`.
#' @param save_video When `video` is a URL: keep the downloaded video in
#'   `save_dir`.
#' @param save_frames Write the sampled frames as
#'   `<video_name>-frame-<i>.jpg` in `save_dir`.
#' @param save_dir The only folder anything is written to (created if
#'   needed).
#' @param video_name Base name of saved files (no folders).
#' @inheritParams image_scores
#' @returns A `data.frame` of class `"video_scores"` with one row per sampled
#'   frame and one numeric column per label (`NA` where no face was found).
#'   As in transforEmotion, the columns are the labels only; the frame
#'   number (0-based, as in the video file) and time in seconds of each row
#'   are kept in the attributes `"frame"` and `"time"`. [plot()][plot.video_scores]
#'   draws each label's score over time.
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
                         video_name = "temp", model = "oai-base", local_model_path = NULL) {
  if (length(video) != 1) arg_error("`video` must be one path or URL; to score several videos, call video_scores() for each.")
  video <- check_input_paths(video, "video", "video")
  labels <- check_classes(classes)
  nframes <- as_count(nframes, "nframes")
  check_choice(face_selection, "face_selection", FACE_SELECTIONS)
  start <- check_number(start, "start")
  end <- check_number(end, "end")
  if (start < 0) arg_error("`start` must be 0 or more seconds, not ", start, ".")
  if (end != -1 && end <= start) {
    arg_error("`end` must be after `start` (", start, " s), or -1 for the end of the video; got ", end, ".")
  }
  check_bool(uniform, "uniform")
  ffreq <- as_count(ffreq, "ffreq")
  check_bool(save_video, "save_video")
  check_bool(save_frames, "save_frames")
  save_dir <- path.expand(check_string(save_dir, "save_dir"))
  check_string(video_name, "video_name")
  m <- check_model(model, local_model_path)

  result <- py_call(
    "video_scores",
    video = video, classes = labels, nframes = nframes, face_selection = face_selection,
    start = start, end = end, uniform = uniform, ffreq = ffreq,
    save_video = save_video, save_frames = save_frames, save_dir = save_dir,
    video_name = video_name, model = m$model, local_model_path = m$local_model_path,
    timestamps = TRUE
  )
  scores <- as_scores_frame(result, classes)
  attr(scores, "frame") <- as.integer(as_column(result[["frame"]]))
  attr(scores, "time") <- as.numeric(as_column(result[["time"]]))
  class(scores) <- c("video_scores", "data.frame")
  scores
}
