# Score once, ask again: image embeddings kept, and rescored with any labels.
#
# The R object is a list of plain R things (why: R users index a data frame
# and a matrix, bind them, saveRDS() them and feed the matrix to prcomp() or
# dist(); a pointer to a Python object would die with the session):
#   rows    a data.frame: the rows the scoring function gives, without the labels
#   vectors a numeric matrix: one embedding per row (NA where no face was found)
#   model   a list: the record of the model that made them
#   frame, time  (videos) the frame and time of every row, as video_scores() keeps them
# with class "transforemotion_embeddings".

# Python's Embeddings to the R object.
as_embeddings <- function(py_embeddings, frame = NULL, time = NULL) {
  parts <- to_r(bridge_module()$embeddings_for_r(py_embeddings))
  columns <- lapply(parts$rows, as_column)
  rows <- list2DF(columns, nrow = as.integer(parts$n))
  if (length(columns) > 0) names(rows) <- names(parts$rows)
  for (column in intersect(c("frame", "face", "x", "y", "width", "height"), names(rows))) {
    rows[[column]] <- as.integer(rows[[column]])
  }
  vectors <- matrix(as.numeric(unlist(parts$vectors)), nrow = as.integer(parts$n), ncol = as.integer(parts$dim))
  vectors[is.nan(vectors)] <- NA_real_
  structure(list(rows = rows, vectors = vectors, model = parts$model, frame = frame, time = time),
            class = "transforemotion_embeddings")
}

check_embeddings <- function(x) {
  if (!inherits(x, "transforemotion_embeddings")) {
    arg_error("`embeddings` must be the result of embed_images(), embed_dir(), embed_video() or ",
              "load_embeddings(); got ", describe(x), ".")
  }
  x
}

# The R object back to Python's Embeddings (R's integer columns are named, so they come back whole).
py_embeddings <- function(x) {
  check_embeddings(x)
  rows <- as.list(x$rows)
  integers <- names(rows)[vapply(rows, is.integer, logical(1))]
  rows[integers] <- lapply(rows[integers], as.numeric)
  if (!is.matrix(x$vectors) || !is.numeric(x$vectors)) arg_error("`embeddings$vectors` must be a numeric matrix.")
  # A flat column-major vector: reticulate 1.28 cannot hand a matrix to NumPy 2.
  py_call(bridge_module()$embeddings_from_r, rows = rows, vectors = as.numeric(x$vectors),
          n = nrow(x$vectors), model = x$model, integer_columns = as.list(integers))
}

#' Image embeddings of faces, to score with any labels later
#'
#' The expensive part of scoring, the image embedding of each face, does not
#' depend on the labels. `embed_images()`, `embed_dir()` and `embed_video()`
#' take the arguments of [image_scores()], [image_scores_dir()] and
#' [video_scores()] (without `classes` and `templates`), find and embed the
#' same faces, and keep the embeddings. [rescore()] then gives the scoring
#' result for any labels in a moment, without reading a picture again;
#' [save_embeddings()] keeps them in a file.
#'
#' @inheritParams image_scores
#' @inheritParams image_scores_dir
#' @inheritParams video_scores
#' @returns An object of class `transforemotion_embeddings`, a list of:
#'   `rows`, a `data.frame` with the columns the scoring function gives
#'   before the labels (none for one face per image; `image`, `face` and the
#'   box with `face_selection = "all"`; `image_id` for a folder; `frame` and
#'   `time` for a video with `timestamps = TRUE`); `vectors`, a numeric
#'   matrix with one row per row of `rows` (`NA` where no face was found);
#'   and `model`, the record of the model that made them (source,
#'   architecture, dimensions, number type, preprocessing), so that they are
#'   never scored by another model. `x[i]` keeps rows `i`.
#' @seealso [rescore()], [save_embeddings()], [corpus_scores()] with
#'   `keep_embeddings = TRUE` for a whole corpus.
#' @examples
#' \donttest{
#' if (python_available()) {
#'   face <- system.file("extdata", "face.jpg", package = "transforEmotionBridge")
#'   emb <- embed_images(face, local_model_path = tiny_clip_model())
#'   rescore(emb, c("joy", "anger", "surprise"))
#'   rescore(emb, c("calm", "tense"), templates = "face")
#' }
#' }
#' @export
embed_images <- function(image, face_selection = "largest", model = "oai-base", local_model_path = NULL,
                         face_boxes = FALSE, batch_size = NULL, device = NULL, progress = NULL, face_workers = NULL) {
  image <- check_input_paths(image, "image", "image")
  options <- scoring_options()
  image <- if (length(image) == 1) image else as.list(image)
  as_embeddings(do.call(py_call, c(list("embed_images", image = image), options)))
}

#' @rdname embed_images
#' @export
embed_dir <- function(dir, face_selection = "largest", pattern = image_pattern(), recursive = FALSE,
                      model = "oai-base", local_model_path = NULL, face_boxes = FALSE, batch_size = NULL,
                      device = NULL, progress = NULL, face_workers = NULL) {
  dir <- check_dir(dir, "dir")
  check_string(pattern, "pattern")
  check_bool(recursive, "recursive")
  options <- scoring_options()
  as_embeddings(do.call(py_call, c(list("embed_dir", dir = dir, pattern = pattern, recursive = recursive),
                                   options)))
}

#' @rdname embed_images
#' @export
embed_video <- function(video, nframes = 100, face_selection = "largest", start = 0, end = -1, uniform = FALSE,
                        ffreq = 15, save_video = FALSE, save_frames = FALSE, save_dir = "temp/",
                        video_name = "temp", model = "oai-base", local_model_path = NULL, timestamps = FALSE,
                        face_boxes = FALSE, batch_size = NULL, device = NULL, progress = NULL, face_workers = NULL) {
  if (length(video) != 1) arg_error("`video` must be one path or URL; to embed several videos, call embed_video() for each.")
  video <- check_input_paths(video, "video", "video")
  options <- c(sampling_options(), saving_options(), scoring_options())
  check_bool(timestamps, "timestamps")
  result <- as_embeddings(do.call(py_call, c(list("embed_video", video = video, timestamps = TRUE), options)))
  # As video_scores(): frame and time always kept for plot(), columns only when asked for.
  result$frame <- result$rows$frame
  result$time <- as.numeric(result$rows$time)
  if (!timestamps && face_selection != "all") result$rows <- result$rows[setdiff(names(result$rows), c("frame", "time"))]
  result
}

#' Scores for new labels from kept embeddings
#'
#' The result [image_scores()], [image_scores_dir()] or [video_scores()]
#' would give for these labels and the same pictures, computed from the
#' embeddings alone: only the model's text tower runs, so a new set of labels
#' takes a moment. Valence and arousal, definitions or prompt templates are
#' just other labels.
#'
#' @param embeddings The result of [embed_images()], [embed_dir()],
#'   [embed_video()] or [load_embeddings()].
#' @param model,local_model_path `NULL` (the default): the model that made
#'   the embeddings, as recorded. A model named here must be that same model
#'   (a moved folder is fine: its weights are checked); another model is
#'   refused with an error.
#' @inheritParams image_scores
#' @returns A `data.frame`: the embeddings' `rows`, then one column per
#'   label (each row sums to 1; `NA` where no face was found). For a video, a
#'   `video_scores` data frame that [plot()] draws.
#' @seealso [embed_images()], [rescore_corpus()]
#' @examples
#' \donttest{
#' if (python_available()) {
#'   face <- system.file("extdata", "face.jpg", package = "transforEmotionBridge")
#'   emb <- embed_images(face, face_selection = "all", local_model_path = tiny_clip_model())
#'   rescore(emb, c("pleasant", "unpleasant"))
#' }
#' }
#' @export
rescore <- function(embeddings, classes, templates = NULL, model = NULL, local_model_path = NULL, device = NULL) {
  check_embeddings(embeddings)
  labels <- check_classes(classes)
  model <- check_optional_string(model, "model")
  if (!is.null(local_model_path)) local_model_path <- check_dir(local_model_path, "local_model_path")
  result <- py_call("rescore", embeddings = py_embeddings(embeddings), classes = labels,
                    templates = check_templates(templates), model = model, local_model_path = local_model_path,
                    device = check_optional_string(device, "device"))
  scores <- as_scores_frame(result[classes], required = classes)
  rows <- embeddings$rows
  scores <- if (ncol(rows) > 0) cbind(rows, scores) else scores
  frame <- if (!is.null(embeddings$frame)) embeddings$frame else rows$frame
  if (!is.null(frame) && length(frame) == nrow(scores)) {
    attr(scores, "frame") <- as.integer(frame)
    attr(scores, "time") <- as.numeric(if (!is.null(embeddings$time)) embeddings$time else rows$time)
    class(scores) <- c("video_scores", "data.frame")
  }
  scores
}

#' Save embeddings to a file, and read them back
#'
#' A Parquet file: the row columns, an `embedding` column (one list of
#' numbers per row, null where no face was found) and the model record in the
#' file's metadata. The file is written completely or not at all. Besides
#' `load_embeddings()`, `arrow::read_parquet()` and Python's pandas read it.
#'
#' @param embeddings The result of [embed_images()], [embed_dir()] or [embed_video()].
#' @param path The file (its folder must exist; an existing file is replaced).
#' @param precision `"float32"` (exact) or `"float16"` (half the size, about
#'   1 KB a row for 512 dimensions; scores move by about 1e-4).
#' @returns `save_embeddings()`: `path`, invisibly. `load_embeddings()`: the
#'   embeddings, as [embed_images()] returns them.
#' @examples
#' \donttest{
#' if (python_available()) {
#'   face <- system.file("extdata", "face.jpg", package = "transforEmotionBridge")
#'   emb <- embed_images(face, local_model_path = tiny_clip_model())
#'   file <- save_embeddings(emb, tempfile(fileext = ".parquet"))
#'   rescore(load_embeddings(file), c("joy", "anger"))
#' }
#' }
#' @export
save_embeddings <- function(embeddings, path, precision = "float32") {
  path <- path.expand(check_string(path, "path"))
  invisible(py_call("save_embeddings", embeddings = py_embeddings(embeddings), path = path,
                    precision = check_string(precision, "precision")))
}

#' @rdname save_embeddings
#' @export
load_embeddings <- function(path) {
  as_embeddings(py_call("load_embeddings", path = path.expand(check_string(path, "path"))))
}

#' @export
print.transforemotion_embeddings <- function(x, ...) {
  embedded <- if (nrow(x$vectors) > 0) sum(!is.na(x$vectors[, 1])) else 0L
  cat(sprintf("<embeddings: %d rows (%d embedded) x %d dimensions, model %s (%s)>\n", nrow(x$vectors), embedded,
              ncol(x$vectors), x$model$model, x$model$architecture))
  if (ncol(x$rows) > 0) print(utils::head(x$rows), ...)
  invisible(x)
}

#' @export
`[.transforemotion_embeddings` <- function(x, i) {
  keep <- seq_len(nrow(x$vectors))[i]
  structure(list(rows = x$rows[keep, , drop = FALSE], vectors = x$vectors[keep, , drop = FALSE], model = x$model,
                 frame = x$frame[keep], time = x$time[keep]),
            class = "transforemotion_embeddings")
}

#' Scores for new labels for a whole corpus, from its kept embeddings
#'
#' For a folder scored with `corpus_scores(..., keep_embeddings = TRUE)`:
#' the scores for new labels, computed from the embeddings in its parts
#' without reading a video. The rows are those of [read_corpus()], in the
#' same order, and equal what `corpus_scores()` with these labels would give.
#'
#' @param output_dir The folder [corpus_scores()] wrote with `keep_embeddings = TRUE`.
#' @param into `NULL` (return the scores only) or a folder to write them to
#'   as a corpus of its own, which [read_corpus()] reads; a stopped run is
#'   resumed by the same call.
#' @param model,local_model_path `NULL`: the model the corpus was scored
#'   with. A model named here must be that same model.
#' @param overwrite With `into`: `TRUE` replaces what is there.
#' @param progress `NULL` or `TRUE` for a progress bar over parts; `FALSE` for none.
#' @inheritParams image_scores
#' @returns A `data.frame`, as [read_corpus()] gives it.
#' @seealso [corpus_scores()], [rescore()]
#' @examples
#' \donttest{
#' if (python_available()) {
#'   folder <- system.file("extdata", package = "transforEmotionBridge")
#'   out <- tempfile("corpus-kept-")
#'   corpus_scores(folder, c("joy", "anger"), out, keep_embeddings = TRUE, local_model_path = tiny_clip_model())
#'   rescore_corpus(out, c("calm", "tense", "bored"))
#' }
#' }
#' @export
rescore_corpus <- function(output_dir, classes, templates = NULL, into = NULL, model = NULL,
                           local_model_path = NULL, overwrite = FALSE, device = NULL, progress = NULL) {
  output_dir <- path.expand(check_string(output_dir, "output_dir"))
  into <- check_optional_string(into, "into")
  if (!is.null(local_model_path)) local_model_path <- check_dir(local_model_path, "local_model_path")
  result <- py_call("rescore_corpus", output_dir = output_dir, classes = check_classes(classes),
                    templates = check_templates(templates), into = if (!is.null(into)) path.expand(into),
                    model = check_optional_string(model, "model"), local_model_path = local_model_path,
                    overwrite = check_bool(overwrite, "overwrite"), device = check_optional_string(device, "device"),
                    progress = check_optional_bool(progress, "progress"))
  scores <- as_scores_frame(result, required = c("frame", "time", classes))
  for (column in intersect(c("frame", "face", "x", "y", "width", "height"), names(scores))) {
    scores[[column]] <- as.integer(scores[[column]])
  }
  # As read_corpus() gives a corpus: plot() draws it over time.
  class(scores) <- c("corpus_scores", "data.frame")
  scores
}
