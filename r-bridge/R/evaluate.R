# Evaluating scores against known labels. The measures are computed in
# Python (transforemotion.evaluate_scores, with scikit-learn and
# krippendorff); R checks the types of the arguments, sends the table across,
# and shapes the answer into an object with print, summary and plot methods.

# One column as a Python list: one element per row even for a single row,
# NA as None (reticulate 1.28 sends a character NA as the text "NA" and a
# logical NA as True), numbers as doubles (an integer NA would arrive as
# -2147483648), factors as their labels.
py_list <- function(v) {
  if (is.factor(v)) v <- as.character(v)
  if (is.numeric(v)) return(as.list(as.double(v)))
  if (!is.character(v) && !is.logical(v)) v <- as.character(v)
  out <- as.list(v)
  out[is.na(v)] <- list(NULL)
  out
}

check_scores_table <- function(scores) {
  if (is.list(scores) && !is.data.frame(scores) && !is.null(names(scores))) {
    lengths <- lengths(scores)
    if (length(unique(lengths)) > 1) {
      arg_error("`scores` must be a data frame, or a named list of columns of equal length; got lengths ",
                paste(lengths, collapse = ", "), ".")
    }
    scores <- list2DF(scores)
  }
  if (!is.data.frame(scores)) {
    arg_error("`scores` must be a data frame such as image_scores_dir() or video_scores() return, not ",
              describe(scores), ".")
  }
  if (ncol(scores) == 0 || any(!nzchar(names(scores)))) {
    arg_error("`scores` must have named columns, one per class.")
  }
  scores
}

# The true labels as Python wants them: a column name (a single string that
# names a column of `scores`) or a list with one label (or NA) per row.
check_truth <- function(truth, scores) {
  if (is.factor(truth)) truth <- as.character(truth)
  if (is.logical(truth) && all(is.na(truth))) truth <- as.character(truth)
  if (!is.character(truth)) {
    arg_error("`truth` must be a character vector of true labels (NA where unknown) or the name of a column ",
              "of `scores`, not ", describe(truth), ".")
  }
  if (length(truth) == 1 && !is.na(truth) && truth %in% names(scores)) return(truth)
  if (length(truth) != nrow(scores)) {
    arg_error("`truth` has ", length(truth), " labels but `scores` has ", nrow(scores),
              " rows; give one label per row, or the name of the column that holds them.")
  }
  py_list(truth)
}

check_label_map <- function(label_map) {
  if (is.null(label_map)) return(NULL)
  values <- unlist(label_map, use.names = FALSE)
  if (is.null(names(label_map)) || any(!nzchar(names(label_map))) || !is.character(values) ||
      length(values) != length(label_map) || anyNA(values)) {
    arg_error("`label_map` must be a named character vector or list from folder names to labels, ",
              "e.g. c(happy = \"joy\"); got ", describe(label_map), ".")
  }
  as.list(stats::setNames(values, names(label_map)))
}

na_number <- function(x) {
  x <- as.numeric(if (is.null(x)) NA else x)
  x[is.nan(x)] <- NA_real_
  x
}

# The Python result (a nested named list) as an object of class
# "transforemotion_evaluation". NaN (undefined measures) becomes NA.
as_evaluation <- function(result) {
  classes <- as.character(unlist(result$classes))
  measures <- c("accuracy", "balanced_accuracy", "macro_precision", "macro_recall", "macro_f1", "weighted_f1",
                "micro_f1", "macro_auroc", "log_loss", "brier", "ece", "krippendorff_alpha")
  out <- list(
    classes = classes,
    n_rows = as.integer(result$n_rows),
    n_used = as.integer(result$n_used),
    n_excluded = as.integer(result$n_excluded),
    excluded = c(missing_scores = as.integer(result$excluded$missing_scores),
                 missing_truth = as.integer(result$excluded$missing_truth))
  )
  for (m in measures) out[[m]] <- na_number(result[[m]])
  out$per_class <- as_scores_frame(result$per_class, c("class", "precision", "recall", "f1", "support", "auroc"))
  out$confusion <- as_scores_frame(result$confusion, c("truth", classes))
  out$notes <- as.character(unlist(result$notes))
  class(out) <- "transforemotion_evaluation"
  out
}

#' How well do scores agree with known labels?
#'
#' Compares each row's scores with its true label. The predicted class of a
#' row is the one with the highest score (the first in column order on a
#' tie). All measures are computed by the Python package (scikit-learn and
#' krippendorff, its `eval` extra).
#'
#' Rows without scores (`NA`, e.g. no face found) or without a true label are
#' left out and counted (`n_excluded`, `excluded`). Averages over classes
#' (macro, weighted, micro) use the classes that occur in the truth or the
#' predictions; a class that occurs in neither has `NA` precision, recall and
#' F1. A class absent from the truth has no AUROC (`NA`); `notes` says why
#' any measure is `NA`.
#'
#' @param scores A data frame of scores, as [image_scores()],
#'   [image_scores_dir()] or [video_scores()] return, with one column per
#'   class (more columns are fine).
#' @param truth The true label of each row (character, `NA` where unknown),
#'   or the name of the column of `scores` that holds them. Labels must be
#'   among the classes; rename them first if they differ (e.g. `"happy"` for
#'   `"joy"`).
#' @param classes The columns of `scores` to evaluate. `NULL`: every numeric
#'   column except metadata (`image_id`, `frame`, `time`, `face`, `x`, `y`,
#'   `width`, `height`, `confidence`, `source`, `id`) and the truth column.
#' @returns An object of class `"transforemotion_evaluation"`, a list with
#'   `classes`, `n_rows`, `n_used`, `n_excluded`, `excluded` (counts of rows
#'   `missing_scores` and `missing_truth`), `accuracy`, `balanced_accuracy`,
#'   `macro_precision`, `macro_recall`, `macro_f1`, `weighted_f1`,
#'   `micro_f1`, `macro_auroc` (one-vs-rest), `log_loss`, `brier` (multi-class
#'   Brier score, 0 to 2), `ece` (expected calibration error of the top
#'   probability, 10 equal-width bins), `krippendorff_alpha` (nominal, model
#'   and truth as two coders), `per_class` (data frame: `class`,
#'   `precision`, `recall`, `f1`, `support`, `auroc`), `confusion` (data
#'   frame: column `truth`, then one column of counts per predicted class)
#'   and `notes`. It has [print()], [summary()] and [plot()] methods.
#' @seealso [evaluate_dir()] to score and evaluate a labelled folder;
#'   [evaluate_emotions()] for transforEmotion's interface.
#' @examples
#' scores <- data.frame(joy = c(0.8, 0.3, 0.6), anger = c(0.2, 0.7, 0.4))
#' \donttest{
#' if (python_available()) {
#'   result <- evaluate_scores(scores, c("joy", "anger", "anger"))
#'   result
#'   summary(result)
#'   plot(result)
#' }
#' }
#' @export
evaluate_scores <- function(scores, truth, classes = NULL) {
  scores <- check_scores_table(scores)
  truth <- check_truth(truth, scores)
  if (!is.null(classes)) classes <- check_classes(classes)
  result <- py_call("evaluate_scores", scores = lapply(scores, py_list), truth = truth, classes = classes)
  as_evaluation(result)
}

#' Score a labelled folder of images and evaluate the scores
#'
#' `dir` holds one sub-folder per class, named after it (the "ImageFolder"
#' layout): `dir/happy/*.jpg`, `dir/sad/*.jpg`, and so on; images deeper
#' inside a class folder belong to that class. Every image is scored with
#' [image_scores_dir()] and the scores are evaluated with
#' [evaluate_scores()] against the folder labels.
#'
#' Images directly in `dir` (not in a class folder) or in hidden folders
#' have no label: they are scored, get `truth = NA`, and are counted among
#' the excluded rows, with a warning. A class folder without images keeps its
#' label among the classes (so the model chooses as the layout says), with a
#' warning. Hidden folders (names starting with ".") are not classes.
#'
#' @param dir Folder of class folders.
#' @param classes Labels to score against. `NULL`: the folder labels (folder
#'   names through `label_map`), in folder order. Extra labels may be added;
#'   every folder label must be among them.
#' @param label_map Folder name to label, e.g. `c(happy = "joy", angry =
#'   "anger")`; folders not named keep their name.
#' @param templates,batch_size,device,progress Passed on to
#'   [image_scores_dir()] when not `NULL` (in versions of transforemotion
#'   that have them): prompt templates (e.g. `"fer"`), images per batch,
#'   device (`"cpu"`, `"cuda"`, ...) and a progress bar.
#' @inheritParams image_scores_dir
#' @returns The [evaluate_scores()] result (class
#'   `"transforemotion_evaluation"`) with one more element, `scores`: a data
#'   frame with `image_id` (path relative to `dir`), `truth`, and one column
#'   of scores per class.
#' @seealso [evaluate_scores()], [image_scores_dir()]
#' @examples
#' \donttest{
#' if (python_available()) {
#'   folder <- file.path(tempdir(), "labelled")
#'   face <- system.file("extdata", "face.jpg", package = "transforEmotionBridge")
#'   for (class in c("happy", "angry")) {
#'     dir.create(file.path(folder, class), recursive = TRUE, showWarnings = FALSE)
#'     file.copy(face, file.path(folder, class, "face.jpg"))
#'   }
#'   result <- evaluate_dir(folder, label_map = c(happy = "joy", angry = "anger"),
#'                          local_model_path = tiny_clip_model())
#'   result$scores
#'   result
#' }
#' }
#' @export
evaluate_dir <- function(dir, classes = NULL, label_map = NULL, templates = NULL, face_selection = "largest",
                         pattern = image_pattern(), model = "oai-base", local_model_path = NULL,
                         batch_size = NULL, device = NULL, progress = NULL, face_workers = NULL) {
  dir <- check_dir(dir, "dir")
  if (!is.null(classes)) classes <- check_classes(classes)
  label_map <- check_label_map(label_map)
  check_string(pattern, "pattern")
  options <- scoring_options()
  result <- do.call(py_call, c(list("evaluate_dir", dir = dir, classes = classes, label_map = label_map,
                                    pattern = pattern), options))
  evaluation <- as_evaluation(result$evaluation)
  evaluation$scores <- as_scores_frame(result$scores, c("image_id", "truth", evaluation$classes))
  evaluation
}

format_measure <- function(x) ifelse(is.na(x), "NA", formatC(x, format = "f", digits = 3))

overall_table <- function(x) {
  data.frame(
    measure = c("accuracy", "balanced accuracy", "macro precision", "macro recall", "macro F1", "weighted F1",
                "macro AUROC", "log loss", "Brier score", "calibration error (ECE)", "Krippendorff's alpha"),
    value = c(x$accuracy, x$balanced_accuracy, x$macro_precision, x$macro_recall, x$macro_f1, x$weighted_f1,
              x$macro_auroc, x$log_loss, x$brier, x$ece, x$krippendorff_alpha),
    stringsAsFactors = FALSE
  )
}

rows_line <- function(x) {
  left <- if (x$n_excluded > 0) {
    sprintf(", %d left out (%d without scores, %d without a true label)",
            x$n_excluded, x$excluded[["missing_scores"]], x$excluded[["missing_truth"]])
  } else ""
  sprintf("%d of %d rows evaluated%s", x$n_used, x$n_rows, left)
}

#' @rdname evaluation-methods
#' @export
print.transforemotion_evaluation <- function(x, ...) {
  cat("Evaluation of emotion scores against true labels\n")
  cat(rows_line(x), "\n", sep = "")
  cat(sprintf("Classes (%d): %s\n\n", length(x$classes), paste(x$classes, collapse = ", ")))
  table <- overall_table(x)
  width <- max(nchar(table$measure))
  cat(sprintf("  %-*s  %s\n", width, table$measure, format_measure(table$value)), sep = "")
  if (length(x$notes) > 0) cat("\nNotes:\n", paste0("  - ", x$notes, "\n"), sep = "")
  if (!is.null(x$scores)) cat("\nScores of each image: $scores\n")
  invisible(x)
}

#' Summaries and plots of an evaluation
#'
#' `summary()` adds the per-class table and the confusion matrix to what
#' `print()` shows. `plot()` draws the confusion matrix as a heatmap with the
#' count in each cell (rows: true class, columns: predicted class) and the F1
#' of each class as bars.
#'
#' @param object,x A result of [evaluate_scores()] or [evaluate_dir()].
#' @param y Unused.
#' @param which What to draw: `"confusion"`, `"f1"`, or both (side by side).
#' @param ... Unused.
#' @returns `summary()`: an object of class
#'   `"summary.transforemotion_evaluation"` (a list with `overall`,
#'   `per_class`, `confusion`, `rows` and `notes`) that prints itself.
#'   `plot()`: `x`, invisibly.
#' @examples
#' \donttest{
#' if (python_available()) {
#'   scores <- data.frame(joy = c(0.8, 0.3, 0.6, 0.1), anger = c(0.2, 0.7, 0.4, 0.9))
#'   result <- evaluate_scores(scores, c("joy", "anger", "anger", "anger"))
#'   summary(result)
#'   plot(result)
#' }
#' }
#' @name evaluation-methods
#' @export
summary.transforemotion_evaluation <- function(object, ...) {
  structure(
    list(overall = overall_table(object), per_class = object$per_class, confusion = object$confusion,
         rows = rows_line(object), notes = object$notes),
    class = "summary.transforemotion_evaluation"
  )
}

#' @rdname evaluation-methods
#' @export
print.summary.transforemotion_evaluation <- function(x, ...) {
  cat("Evaluation of emotion scores against true labels\n", x$rows, "\n\n", sep = "")
  overall <- x$overall
  overall$value <- format_measure(overall$value)
  print(overall, row.names = FALSE, right = FALSE)
  cat("\nPer class:\n")
  print(x$per_class, row.names = FALSE, digits = 3)
  cat("\nConfusion matrix (rows: truth, columns: predicted):\n")
  print(x$confusion, row.names = FALSE)
  if (length(x$notes) > 0) cat("\nNotes:\n", paste0("  - ", x$notes, "\n"), sep = "")
  invisible(x)
}

#' @rdname evaluation-methods
#' @export
plot.transforemotion_evaluation <- function(x, y, which = c("confusion", "f1"), ...) {
  which <- match.arg(which, several.ok = TRUE)
  if (length(which) == 2) {
    old <- graphics::par(mfrow = c(1, 2))
    on.exit(graphics::par(old), add = TRUE)
  }
  if ("confusion" %in% which) {
    counts <- as.matrix(x$confusion[, x$classes, drop = FALSE])
    dimnames(counts) <- list(x$confusion$truth, x$classes)
    draw_confusion(counts, xlab = "Predicted", ylab = "Truth")
  }
  if ("f1" %in% which) draw_bars(x$per_class$f1, x$per_class$class, ylab = "F1", main = "F1 per class")
  invisible(x)
}

# A heatmap of `counts` (rows drawn top to bottom in their order) with the
# count written in each cell, white on dark cells.
draw_confusion <- function(counts, xlab, ylab, main = "Confusion matrix") {
  n_row <- nrow(counts)
  n_col <- ncol(counts)
  top <- max(counts, 1, na.rm = TRUE)
  palette <- grDevices::colorRampPalette(c("#f7fbff", "#08306b"))(64)
  old <- graphics::par(mar = pmax(graphics::par("mar"), c(6, 6, 3, 1)))
  on.exit(graphics::par(old), add = TRUE)
  graphics::image(
    x = seq_len(n_col), y = seq_len(n_row), z = t(counts[rev(seq_len(n_row)), , drop = FALSE]),
    col = palette, zlim = c(0, top), axes = FALSE, xlab = "", ylab = "", main = main
  )
  graphics::axis(1, at = seq_len(n_col), labels = colnames(counts), las = 2, tick = FALSE)
  graphics::axis(2, at = rev(seq_len(n_row)), labels = rownames(counts), las = 1, tick = FALSE)
  graphics::mtext(xlab, side = 1, line = 4.5)
  graphics::mtext(ylab, side = 2, line = 4.5)
  cells <- expand.grid(row = seq_len(n_row), col = seq_len(n_col))
  value <- counts[cbind(cells$row, cells$col)]
  graphics::text(cells$col, n_row + 1 - cells$row, labels = value,
                 col = ifelse(value > top / 2, "white", "black"))
  graphics::box()
}

draw_bars <- function(values, names, ylab, main) {
  shown <- ifelse(is.na(values), 0, values)
  at <- graphics::barplot(shown, names.arg = names, ylim = c(0, 1.1), ylab = ylab, main = main,
                          col = "#4292c6", border = NA, las = 2)
  graphics::text(at, shown, labels = format_measure(values), pos = 3, cex = 0.8)
}
