# Scoring a whole corpus, resumably. R checks only the type, length and NA of
# each argument; the rules (which engine, which files, what may change on a
# rerun) are Python's, so that R, Python and the command line agree.

# A character vector of files, or one folder or manifest; Python decides which.
check_inputs <- function(x) {
  if (!is.character(x) || length(x) == 0 || anyNA(x) || !all(nzchar(x))) {
    arg_error("`inputs` must be a folder, a manifest file or a character vector of files, without NA or empty ",
              "strings; got ", describe(x), ".")
  }
  x <- path.expand(x)
  if (length(x) == 1) x else as.list(x)
}

check_optional_number <- function(x, name) {
  if (is.null(x)) return(NULL)
  check_number(x, name)
}

#' Emotion scores for a whole corpus of videos and images, resumably
#'
#' Scores every video and image in `inputs` and saves the scores in
#' `output_dir` as they are made, one small Parquet file per unit of work (a
#' batch of `unit_size` images, or a run of `unit_size` consecutive sampled
#' frames of one video). If the job stops (a crash, a time limit, the
#' computer switched off), run the same call again: finished units are
#' skipped and nothing already scored is lost. Read the scores with
#' [read_corpus()].
#'
#' Frames are sampled from each video exactly as [video_scores()] samples
#' them, so a row of the corpus equals the `video_scores()` row for the same
#' frame. A file that cannot be read (missing, damaged, truncated) is listed
#' with the reason in `output_dir/failures.csv` and does not stop the
#' others; one warning counts the failures, and a rerun tries them again.
#' Interrupted (Ctrl-C or RStudio's Stop), it stops with the message "stopped;
#' N of M units finished; run the same command again to continue", as R's
#' interrupt condition (classes `transforemotion_interrupt`, `interrupt`), not
#' an error: `tryCatch(error = )` or `try()` around it in a loop does not
#' swallow it; `tryCatch(interrupt = )` catches it.
#' Changing the classes, model or sampling of a folder already scored is
#' refused; `overwrite = TRUE` deletes the earlier results (only the files
#' this function wrote) and starts over.
#'
#' With `engine = "ray"`, the units are scored by a pool of Ray workers, each
#' with its own copy of the model (one per GPU where there are GPUs). Start
#' Ray on the machines first and install the Python package with its `ray`
#' extra on each; the files must be readable at the same path from every
#' machine.
#'
#' @param inputs A folder (its video and image files; see `recursive`), a
#'   character vector of video and image files, or the path of a manifest
#'   (`.csv` or `.parquet`) with a `path` column and optional `id`, `start`
#'   and `end` columns (seconds, one range per video). Relative paths in a
#'   manifest are read from the manifest's folder.
#' @param output_dir Folder for the results (created if needed). It holds
#'   `corpus.json` (the arguments), `parts/` and, when something failed,
#'   `failures.csv`; nothing else in it is touched.
#' @param engine `"local"` (this R session's Python) or `"ray"` (Ray workers).
#' @param nframes,start,end,uniform,ffreq Which frames of each video, as in
#'   [video_scores()]. A manifest's `start` and `end` override `start` and
#'   `end` for its row. Left at its default, `nframes` scores a short video
#'   on the frames it has room for (up to 100).
#' @param recursive Look in sub-folders of `inputs` too?
#' @param unit_size Sampled frames per video segment and images per image
#'   batch. One long video is shared between Ray workers segment by segment.
#' @param overwrite `TRUE` to delete this function's earlier results in
#'   `output_dir` and start over.
#' @param keep_embeddings `TRUE` to keep each row's image embedding in its
#'   part, so that [rescore_corpus()] can score new labels later without
#'   reading a video again (about 2 KB a row for 512 dimensions).
#' @param embedding_precision `"float32"` (rescores equal fresh scores) or
#'   `"float16"` (half the size; scores move by about 1e-4).
#' @param address Ray only: `"auto"` (the cluster this machine belongs to),
#'   `"ray://host:10001"`, or `NULL` for a Ray instance started for this
#'   call.
#' @param workers Ray only: how many workers, each with its own model
#'   (`NULL`: one per GPU, or one per CPU without GPUs).
#' @param gpus_per_worker Ray only: GPUs per worker (`NULL`: 1 where the
#'   cluster has GPUs, else 0).
#' @param cpus_per_worker Ray only: CPUs reserved per worker, also its number
#'   of threads (at least 1). Use 0.5 on a machine with few cores.
#' @param progress `NULL` or `TRUE` for a progress bar over units and a line
#'   saying how many were finished earlier; `FALSE` for none.
#' @param persons With `face_selection = "all"`: [read_corpus()] keeps only
#'   the `persons` people seen most often in each video. It is recorded with
#'   the corpus and applied when the corpus is read (people are followed
#'   through each video then), so changing it needs no new scoring.
#' @inheritParams image_scores
#' @returns Invisibly, a `data.frame` with one row per unit: `unit`, `kind`
#'   (`"video"` or `"images"`), `source` (the first file of the unit),
#'   `pictures`, `status` (`"scored"`, `"skipped"` because it was finished
#'   earlier, or `"failed"`), `rows`, `no_face` (pictures without a face) and
#'   `reason`.
#' @seealso [read_corpus()] for the scores, [video_scores()] for one video.
#' @examples
#' \donttest{
#' if (python_available()) {
#'   folder <- system.file("extdata", package = "transforEmotionBridge")
#'   out <- tempfile("corpus-scores-")
#'   corpus_scores(folder, c("joy", "anger"), out, local_model_path = tiny_clip_model())
#'   head(read_corpus(out))
#' }
#' }
#' @export
corpus_scores <- function(inputs, classes, output_dir, engine = "local", nframes = 100,
                          face_selection = "largest", start = 0, end = -1, uniform = FALSE, ffreq = 15,
                          recursive = FALSE, model = "oai-base", local_model_path = NULL,
                          face_boxes = FALSE, templates = NULL, unit_size = 256, overwrite = FALSE,
                          keep_embeddings = FALSE, embedding_precision = "float32",
                          batch_size = NULL, device = NULL, progress = NULL, address = NULL,
                          workers = NULL, gpus_per_worker = NULL, cpus_per_worker = 1, persons = NULL, face_workers = NULL) {
  options <- c(sampling_options(), scoring_options())
  result <- do.call(py_call, c(list(
    "score_corpus",
    inputs = check_inputs(inputs), classes = check_classes(classes),
    output_dir = path.expand(check_string(output_dir, "output_dir")),
    engine = check_string(engine, "engine"),
    recursive = check_bool(recursive, "recursive"), unit_size = as_whole(unit_size, "unit_size"),
    overwrite = check_bool(overwrite, "overwrite"), keep_embeddings = check_bool(keep_embeddings, "keep_embeddings"),
    embedding_precision = check_string(embedding_precision, "embedding_precision"),
    address = check_optional_string(address, "address"),
    workers = as_optional_whole(workers, "workers"),
    gpus_per_worker = check_optional_number(gpus_per_worker, "gpus_per_worker"),
    cpus_per_worker = check_number(cpus_per_worker, "cpus_per_worker"),
    persons = as_optional_whole(persons, "persons")
  ), options))
  invisible(as_scores_frame(result, required = c("unit", "status")))
}

#' Read the scores of a corpus
#'
#' All the scores that [corpus_scores()] saved in `output_dir`, as one data
#' frame. A warning says when some units failed or are not scored yet (run
#' `corpus_scores()` again with the same arguments to finish them).
#'
#' @param output_dir The folder given to [corpus_scores()].
#' @param persons Keep only the `persons` people seen most often in each
#'   video (with `face_selection = "all"`); `NULL` uses the `persons` given
#'   to [corpus_scores()], if any.
#' @returns A `data.frame` with `source` (or `id`, when the manifest had an
#'   `id` column), `frame` (the frame's index in the video file, from 0) and
#'   `time` (seconds), both `NA` for images; with `face_selection = "all"`,
#'   `person` (the same number for the same person throughout a video; ids
#'   are per video, `NA` for images) and `face` (0, 1, ... from left to right
#'   within the frame), with a row of `NA` scores for a person missing from a
#'   sampled frame between their first and last appearance, as in
#'   [video_scores()]; with `face_selection = "all"` or
#'   `face_boxes = TRUE`, `x`, `y`, `width`, `height` and `confidence`; then
#'   one numeric column per class (`NA` where no face was found). Rows are in
#'   the order of the inputs, then of the frames. Its class,
#'   `"corpus_scores"`, makes [plot()][plot.corpus_scores] draw the scores
#'   over time, per video and per person or face.
#' @seealso [corpus_scores()], [plot.corpus_scores()]
#' @examples
#' \donttest{
#' if (python_available()) {
#'   folder <- system.file("extdata", package = "transforEmotionBridge")
#'   out <- tempfile("corpus-scores-")
#'   corpus_scores(folder, c("joy", "anger"), out, local_model_path = tiny_clip_model())
#'   read_corpus(out)
#' }
#' }
#' @export
read_corpus <- function(output_dir, persons = NULL) {
  output_dir <- path.expand(check_string(output_dir, "output_dir"))
  scores <- as_scores_frame(py_call("read_corpus", output_dir = output_dir,
                                    persons = as_optional_whole(persons, "persons")),
                            required = c("frame", "time"))
  for (column in intersect(c("frame", "person", "face", "x", "y", "width", "height"), names(scores))) {
    scores[[column]] <- as.integer(scores[[column]])
  }
  class(scores) <- c("corpus_scores", "data.frame")
  scores
}
