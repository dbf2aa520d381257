# transforEmotion's evaluate_emotions(): the same arguments, result names,
# class and printed output, so that scripts written for transforEmotion run
# unchanged; the measures come from our engine (evaluate_scores() in Python).

EMOTION_METRICS <- c("accuracy", "precision", "recall", "f1_macro", "f1_micro", "auroc", "ece",
                     "krippendorff", "confusion_matrix")

#' Evaluate emotion classification (transforEmotion's interface)
#'
#' The function of the same name in transforEmotion, with the same arguments,
#' result and printed output, computed by this package's engine
#' ([evaluate_scores()]: scikit-learn and krippendorff). Give it a table with
#' a true label and a predicted label per row, and optionally the predicted
#' probability of each class.
#'
#' @section Columns:
#' As in transforEmotion, when a column left at its default name is absent
#' a usual alternative is used: `id_col` from `id`, `image_id` or `index`;
#' `truth_col` from `truth`, `emo8_label`, `emotion_label` or `emotion`;
#' `pred_col` from `pred`, `prediction` or `predicted_emotion`. A column
#' named in the call (`truth_col = "label"`) must be in the data: an error
#' names it otherwise. When there is no prediction
#' column (or it has `NA`s) and `probs_cols` are given, the prediction is the
#' class with the highest probability.
#'
#' Each probability column is matched to its class by name: a column named
#' after the class (`joy`) or after it with a prefix (`prob_joy`, `p.joy`).
#' When the names do not tell and `classes` has one entry per column, the
#' columns are taken in the order of `classes`.
#'
#' @section Differences from transforEmotion:
#' - Probability columns are matched to classes by name (transforEmotion
#'   pairs them by position with the classes sorted alphabetically, which
#'   mismatches `c("prob_joy", "prob_anger")`, and predicts the column name
#'   `"prob_joy"` instead of the class `"joy"` when it fills in predictions).
#' - `summary$classes` and `summary$n_classes` are the classes evaluated
#'   (transforEmotion reads them from the second and third columns of the
#'   data, whatever those hold); `summary$accuracy` is filled in even when
#'   `"accuracy"` is not among `metrics`.
#' - Krippendorff's alpha is the standard one (with the small-sample
#'   correction of Krippendorff 2011), from the `krippendorff` package.
#' - A class that occurs neither in the truth nor in the predictions (possible
#'   when `classes` is given) has `NA` precision, recall and F1 and is left
#'   out of the macro averages (transforEmotion counts it as 0).
#' - ECE counts a row as right when its most probable class is the true one
#'   (transforEmotion uses `pred_col` there; the two agree when the
#'   predictions are the most probable classes). Rows with missing
#'   probabilities are left out of AUROC and ECE.
#' - A prediction that is not among `classes` is an error naming it, as is a
#'   true label (transforEmotion drops them from some counts and not others).
#'   `na_rm = FALSE` with missing values is an error that says so, and an
#'   empty label (an empty cell of a CSV file) counts as missing.
#' - A column named in the call that the data lacks is an error naming it
#'   (transforEmotion quietly evaluates a usual alternative instead); a named
#'   `pred_col` may be absent when `probs_cols` are given, with a warning.
#' - An unknown name in `metrics` is an error listing the known ones; so is
#'   data with a single class throughout (give all the classes with
#'   `classes`).
#' - `plot()` draws with base graphics (no ggplot2 needed) and returns the
#'   plotted data invisibly instead of ggplot objects.
#'
#' @param data A data frame, or the path of a CSV file.
#' @param id_col Name of the column of row identifiers.
#' @param truth_col Name of the column of true labels.
#' @param pred_col Name of the column of predicted labels.
#' @param probs_cols Names of the columns of class probabilities, or `NULL`;
#'   AUROC and ECE need them.
#' @param classes The classes, or `NULL` for the labels found in the truth
#'   and the predictions (sorted).
#' @param metrics Which of `"accuracy"`, `"precision"`, `"recall"`,
#'   `"f1_macro"`, `"f1_micro"`, `"auroc"`, `"ece"`, `"krippendorff"`,
#'   `"confusion_matrix"` to report (default: all).
#' @param return_plot Also return `plot_data` (the confusion matrix in long
#'   form and the per-class metrics).
#' @param na_rm Drop rows with a missing id, truth or prediction (with a
#'   warning saying how many); `FALSE` makes them an error.
#' @returns A list of class `c("emotion_evaluation", "list")` with, as
#'   requested by `metrics`: `accuracy`; `per_class_metrics` (data frame:
#'   `class`, `precision`, `recall`, `f1`), `precision_macro`,
#'   `precision_micro`, `recall_macro`, `recall_micro`, `f1_macro`,
#'   `f1_micro`; `confusion_matrix` (a table of counts, predicted classes in
#'   rows, true classes in columns, with `Sum` margins); `auroc` (list:
#'   `per_class` data frame `class`, `auroc`; `macro`); `ece`;
#'   `krippendorff_alpha`; and always `metrics` (data frame `metric`,
#'   `value`), `per_class` (data frame `class`, `support`), `summary` (list:
#'   `n_instances`, `n_classes`, `classes`, `accuracy`) and, with
#'   `return_plot = TRUE`, `plot_data`.
#' @seealso [evaluate_scores()] for the full set of measures on our own
#'   results.
#' @examples
#' results <- data.frame(
#'   id = 1:6,
#'   truth = c("joy", "anger", "anger", "fear", "anger", "joy"),
#'   pred = c("joy", "joy", "anger", "fear", "fear", "joy"),
#'   prob_joy = c(0.70, 0.50, 0.20, 0.05, 0.20, 0.80),
#'   prob_anger = c(0.20, 0.40, 0.60, 0.40, 0.20, 0.10),
#'   prob_fear = c(0.10, 0.10, 0.20, 0.55, 0.60, 0.10)
#' )
#' \donttest{
#' if (python_available()) {
#'   evaluation <- evaluate_emotions(results, probs_cols = c("prob_joy", "prob_anger", "prob_fear"))
#'   evaluation
#'   summary(evaluation)
#' }
#' }
#' @export
evaluate_emotions <- function(data, id_col = "id", truth_col = "truth", pred_col = "pred", probs_cols = NULL,
                              classes = NULL,
                              metrics = c("accuracy", "precision", "recall", "f1_macro", "f1_micro", "auroc",
                                          "ece", "krippendorff", "confusion_matrix"),
                              return_plot = FALSE, na_rm = TRUE) {
  data <- read_evaluation_data(data)
  check_string(id_col, "id_col")
  check_string(truth_col, "truth_col")
  check_string(pred_col, "pred_col")
  if (!is.null(probs_cols) && (!is.character(probs_cols) || anyNA(probs_cols))) {
    arg_error("`probs_cols` must be NULL or a character vector of column names, not ", describe(probs_cols), ".")
  }
  if (!is.null(classes)) classes <- as.character(unlist(check_classes(as.character(classes))))
  if (!is.character(metrics) || anyNA(metrics) || !all(metrics %in% EMOTION_METRICS)) {
    arg_error("`metrics` must be some of ", paste0("\"", EMOTION_METRICS, "\"", collapse = ", "),
              "; got ", paste0("\"", setdiff(metrics, EMOTION_METRICS), "\"", collapse = ", "), ".")
  }
  check_bool(return_plot, "return_plot")
  check_bool(na_rm, "na_rm")

  # transforEmotion's stand-ins apply to a column left at its default name; a column named by
  # the caller must be there, or the wrong one would be evaluated without a word.
  named <- c(id_col = !missing(id_col), truth_col = !missing(truth_col), pred_col = !missing(pred_col))
  check_named_columns(data, list(id_col = id_col, truth_col = truth_col, pred_col = pred_col)[named],
                      has_probs = !is.null(probs_cols))
  if (!named[["id_col"]]) data <- alias_column(data, id_col, c("id", "image_id", "index"))
  if (!named[["truth_col"]]) data <- alias_column(data, truth_col, c("truth", "emo8_label", "emotion_label", "emotion"))
  if (!named[["pred_col"]]) data <- alias_column(data, pred_col, c("pred", "prediction", "predicted_emotion"))
  missing <- setdiff(c(id_col, truth_col), names(data))
  if (length(missing) > 0) stop("Missing required columns: ", paste(missing, collapse = ", "), call. = FALSE)

  if (!is.null(probs_cols)) {
    absent <- setdiff(probs_cols, names(data))
    if (length(absent) > 0) {
      warning("Missing probability columns: ", paste(absent, collapse = ", "), call. = FALSE)
      probs_cols <- intersect(probs_cols, names(data))
    }
    if (length(probs_cols) == 0) probs_cols <- NULL
  }
  for (col in probs_cols) {
    if (!is.numeric(data[[col]])) arg_error("Probability column `", col, "` must be numeric.")
  }

  truth <- labels_of(data[[truth_col]])
  pred <- if (pred_col %in% names(data)) labels_of(data[[pred_col]]) else NULL
  prob_classes <- NULL
  if (!is.null(probs_cols)) {
    prob_classes <- probs_classes(probs_cols, classes, known = classes %||% unique(stats::na.omit(c(truth, pred))))
  }
  # Predictions missing (no column, or NA) are the most probable class.
  if (!is.null(prob_classes) && length(probs_cols) > 1 && (is.null(pred) || anyNA(pred))) {
    top <- most_probable(data[probs_cols], prob_classes)
    pred <- if (is.null(pred)) top else ifelse(is.na(pred), top, pred)
  }
  if (is.null(pred)) stop("Missing required columns: ", pred_col, call. = FALSE)

  incomplete <- is.na(data[[id_col]]) | is.na(truth) | is.na(pred)
  if (any(incomplete)) {
    if (!na_rm) {
      stop(sum(incomplete), " rows have a missing ", id_col, ", ", truth_col, " or ", pred_col,
           ". Remove them, or use na_rm = TRUE to leave them out.", call. = FALSE)
    }
    warning("Removed ", sum(incomplete), " rows with missing values", call. = FALSE)
    data <- data[!incomplete, , drop = FALSE]
    truth <- truth[!incomplete]
    pred <- pred[!incomplete]
  }
  if (nrow(data) == 0) stop("No valid data rows after preprocessing", call. = FALSE)

  classes <- classes %||% sort(unique(c(truth, pred)))
  unknown <- setdiff(unique(pred), classes)
  if (length(unknown) > 0) {
    stop("Predicted labels not among the classes: ", paste0("\"", unknown, "\"", collapse = ", "),
         ". The classes are ", paste0("\"", classes, "\"", collapse = ", "), ".", call. = FALSE)
  }
  if (length(classes) < 2) {
    stop("There is only one class (\"", classes, "\") in the truth and the predictions; ",
         "give all the classes with `classes =`.", call. = FALSE)
  }

  # Label measures: the predictions as one-hot scores, so the engine's top class is the prediction.
  one_hot <- lapply(classes, function(k) as.numeric(pred == k))
  names(one_hot) <- classes
  labelled <- evaluate_scores(list2DF(one_hot), truth, classes)

  results <- list()
  if ("accuracy" %in% metrics) results$accuracy <- labelled$accuracy
  if (any(c("precision", "recall", "f1_macro", "f1_micro") %in% metrics)) {
    per_class <- labelled$per_class
    results$per_class_metrics <- data.frame(class = per_class$class, precision = per_class$precision,
                                            recall = per_class$recall, f1 = per_class$f1, stringsAsFactors = FALSE)
    # For one label per row, micro precision and recall are the accuracy.
    if ("precision" %in% metrics) {
      results$precision_macro <- labelled$macro_precision
      results$precision_micro <- labelled$micro_f1
    }
    if ("recall" %in% metrics) {
      results$recall_macro <- labelled$macro_recall
      results$recall_micro <- labelled$micro_f1
    }
    if ("f1_macro" %in% metrics) results$f1_macro <- labelled$macro_f1
    if ("f1_micro" %in% metrics) results$f1_micro <- labelled$micro_f1
  }
  if ("confusion_matrix" %in% metrics) results$confusion_matrix <- margins_table(labelled$confusion, classes)

  wants_probs <- any(c("auroc", "ece") %in% metrics) && !is.null(probs_cols)
  if (wants_probs) {
    probabilistic <- NULL
    if (!is.null(prob_classes) && all(truth %in% prob_classes)) {
      probs <- data[probs_cols]
      names(probs) <- prob_classes
      probabilistic <- evaluate_scores(probs, truth, prob_classes)
    } else {
      warning("Could not tell which class each probability column holds (", paste(probs_cols, collapse = ", "),
              "); name them after the classes (e.g. prob_joy) or give `classes` in the same order. ",
              "AUROC and ECE are NA.", call. = FALSE)
    }
    if ("auroc" %in% metrics) {
      results$auroc <- if (is.null(probabilistic)) {
        list(per_class = NA, macro = NA)
      } else {
        list(per_class = data.frame(class = probabilistic$per_class$class, auroc = probabilistic$per_class$auroc,
                                    stringsAsFactors = FALSE),
             macro = probabilistic$macro_auroc)
      }
    }
    if ("ece" %in% metrics) results$ece <- if (is.null(probabilistic)) NA_real_ else probabilistic$ece
  }
  if ("krippendorff" %in% metrics) results$krippendorff_alpha <- labelled$krippendorff_alpha

  results$metrics <- metrics_table(results)
  results$per_class <- data.frame(class = labelled$per_class$class, support = as.numeric(labelled$per_class$support),
                                  stringsAsFactors = FALSE)
  results$summary <- list(n_instances = nrow(data), n_classes = length(classes), classes = classes,
                          accuracy = labelled$accuracy)
  if (return_plot) {
    results$plot_data <- list(confusion_matrix = confusion_long(labelled$confusion, classes))
    if (!is.null(results$per_class_metrics)) results$plot_data$per_class_metrics <- results$per_class_metrics
  }
  class(results) <- c("emotion_evaluation", "list")
  results
}

read_evaluation_data <- function(data) {
  if (is.character(data) && length(data) == 1) {
    if (!file.exists(data)) stop("Data file not found: ", data, call. = FALSE)
    data <- utils::read.csv(data, stringsAsFactors = FALSE, check.names = FALSE)
  }
  if (!is.data.frame(data)) stop("Data must be a data frame or path to CSV file", call. = FALSE)
  as.data.frame(data, stringsAsFactors = FALSE, optional = TRUE)
}

# Columns named explicitly (id_col, truth_col, pred_col) that the data lacks:
# an error naming them. A named pred_col may be absent when probs_cols are
# given (the predictions are then the most probable classes), with a warning.
check_named_columns <- function(data, columns, has_probs) {
  absent <- columns[!vapply(columns, function(col) col %in% names(data), logical(1))]
  if (has_probs && "pred_col" %in% names(absent)) {
    warning("Column \"", absent$pred_col, "\" (`pred_col`) is not in the data; the predictions are the most ",
            "probable classes of `probs_cols`.", call. = FALSE)
    absent$pred_col <- NULL
  }
  if (length(absent) == 0) return(invisible())
  what <- paste0("\"", unlist(absent), "\" (`", names(absent), "`)", collapse = " and ")
  arg_error("The data has no column ", what, ". Its columns are: ",
            paste0("\"", names(data), "\"", collapse = ", "), ". Give the right name, or leave ",
            paste0("`", names(absent), "`", collapse = " and "), " out to use transforEmotion's usual names.")
}

# transforEmotion's column aliases: when `target` is absent, copy the first
# alternative that is present.
alias_column <- function(data, target, alternatives) {
  if (!target %in% names(data)) {
    found <- intersect(alternatives, names(data))
    if (length(found) > 0) data[[target]] <- data[[found[1]]]
  }
  data
}

labels_of <- function(x) {
  x <- as.character(x)
  x[!is.na(x) & !nzchar(trimws(x))] <- NA_character_ # an empty CSV cell is a missing label
  x
}

# Which class each probability column holds (see the documentation), or NULL.
probs_classes <- function(probs_cols, classes, known) {
  by_name <- vapply(probs_cols, function(col) {
    if (col %in% known) return(col)
    suffix <- known[endsWith(col, paste0("_", known)) | endsWith(col, paste0(".", known)) |
                      endsWith(col, paste0("-", known))]
    if (length(suffix) > 0) return(suffix[which.max(nchar(suffix))])
    sub("^[^_.-]*[_.-]", "", col)
  }, character(1), USE.NAMES = FALSE)
  if (!anyDuplicated(by_name) && (is.null(classes) || all(by_name %in% classes))) return(by_name)
  if (!is.null(classes) && length(classes) == length(probs_cols)) return(classes)
  NULL
}

most_probable <- function(probs, prob_classes) {
  probs <- as.matrix(probs)
  index <- apply(probs, 1, function(p) if (all(is.na(p))) NA_integer_ else which.max(p))
  prob_classes[index]
}

# The engine's confusion (truth in rows) as transforEmotion's table:
# predicted classes in rows, true classes in columns, with "Sum" margins.
margins_table <- function(confusion, classes) {
  counts <- t(as.matrix(confusion[, classes, drop = FALSE]))
  dimnames(counts) <- list(Predicted = classes, Actual = classes)
  stats::addmargins(as.table(counts))
}

confusion_long <- function(confusion, classes) {
  counts <- t(as.matrix(confusion[, classes, drop = FALSE]))
  cells <- expand.grid(Predicted = classes, Actual = classes, stringsAsFactors = FALSE)
  cells$Count <- as.vector(counts)
  cells
}

metrics_table <- function(results) {
  entries <- list(
    accuracy = results$accuracy, precision_macro = results$precision_macro, recall_macro = results$recall_macro,
    f1_macro = results$f1_macro, f1_micro = results$f1_micro,
    auroc_macro = if (is.list(results$auroc) && !is.na(results$auroc$macro)) results$auroc$macro,
    ece = results$ece, krippendorff_alpha = results$krippendorff_alpha
  )
  entries <- Filter(Negate(is.null), entries)
  data.frame(metric = names(entries), value = as.numeric(unlist(entries, use.names = FALSE)),
             stringsAsFactors = FALSE)
}

#' @rdname evaluate_emotions
#' @param x,object A result of `evaluate_emotions()`.
#' @param ... Unused.
#' @export
print.emotion_evaluation <- function(x, ...) {
  cat("Emotion Classification Evaluation Results\n")
  cat("========================================\n\n")
  s <- x$summary
  if (!is.null(s)) {
    cat("Summary:\n")
    cat(sprintf("  Total instances: %d\n", as.integer(s$n_instances)))
    cat(sprintf("  Classes: %d (%s)\n", as.integer(s$n_classes), paste(s$classes, collapse = ", ")))
    cat(sprintf("  Overall accuracy: %.3f\n", s$accuracy))
    if (!is.null(x$f1_macro)) cat(sprintf("  Macro F1: %.3f\n", x$f1_macro))
    cat("\n")
  }
  if (!is.null(x$metrics)) {
    cat("Metrics:\n")
    print(x$metrics)
  }
  invisible(x)
}

#' @rdname evaluate_emotions
#' @export
summary.emotion_evaluation <- function(object, ...) {
  cat("Emotion Classification Evaluation Summary\n")
  cat("=======================================\n\n")
  s <- object$summary
  if (!is.null(s)) {
    cat("Dataset Information:\n")
    cat(sprintf("  - Total instances: %d\n", as.integer(s$n_instances)))
    cat(sprintf("  - Number of classes: %d\n", as.integer(s$n_classes)))
    cat(sprintf("  - Classes: %s\n", paste(s$classes, collapse = ", ")))
    cat("\n")
  }
  cat("Overall Performance:\n")
  line <- function(name, value) if (!is.null(value)) cat(sprintf("  - %s: %.3f\n", name, value))
  line("Accuracy", object$accuracy)
  line("Macro F1", object$f1_macro)
  line("Micro F1", object$f1_micro)
  if (is.list(object$auroc) && !is.null(object$auroc$macro) && !is.na(object$auroc$macro)) {
    line("Macro AUROC", object$auroc$macro)
  }
  line("Expected Calibration Error", object$ece)
  line("Krippendorff's alpha", object$krippendorff_alpha)
  cat("\n")
  if (!is.null(object$per_class_metrics)) {
    cat("Per-Class Metrics:\n")
    print(object$per_class_metrics, row.names = FALSE)
    cat("\n")
  }
  if (!is.null(object$confusion_matrix)) {
    cat("Confusion Matrix:\n")
    print(object$confusion_matrix)
  }
  invisible(object)
}

#' @rdname evaluate_emotions
#' @param type What `plot()` draws: `"confusion_matrix"`, `"metrics"`
#'   (per-class precision, recall and F1) or `"both"`.
#' @export
plot.emotion_evaluation <- function(x, type = "both", ...) {
  type <- check_choice(type, "type", c("confusion_matrix", "metrics", "both"))
  drawn <- list()
  cm <- x$confusion_matrix
  if (type %in% c("confusion_matrix", "both") && !is.null(cm)) {
    classes <- setdiff(rownames(cm), "Sum")
    counts <- t(unclass(cm)[classes, classes, drop = FALSE]) # truth in rows, as evaluate_scores() draws it
    drawn$confusion_matrix <- data.frame(Predicted = rep(classes, each = length(classes)),
                                         Actual = rep(classes, times = length(classes)),
                                         Count = as.vector(t(counts)), stringsAsFactors = FALSE)
  }
  pcm <- x$per_class_metrics
  if (type %in% c("metrics", "both") && !is.null(pcm)) {
    drawn$metrics <- data.frame(class = rep(pcm$class, 3), metric = rep(c("precision", "recall", "f1"),
                                each = nrow(pcm)), value = c(pcm$precision, pcm$recall, pcm$f1),
                                stringsAsFactors = FALSE)
  }
  if (length(drawn) == 0) {
    warning("No plots could be generated with available data", call. = FALSE)
    return(invisible(NULL))
  }
  if (length(drawn) == 2) {
    old <- graphics::par(mfrow = c(1, 2))
    on.exit(graphics::par(old), add = TRUE)
  }
  if (!is.null(drawn$confusion_matrix)) draw_confusion(counts, xlab = "Predicted class", ylab = "Actual class")
  if (!is.null(drawn$metrics)) {
    values <- rbind(precision = pcm$precision, recall = pcm$recall, f1 = pcm$f1)
    values[is.na(values)] <- 0
    graphics::barplot(values, beside = TRUE, names.arg = pcm$class, ylim = c(0, 1), las = 2,
                      col = c("#c6dbef", "#6baed6", "#08519c"), border = NA, main = "Per-Class Metrics",
                      ylab = "Metric Value", legend.text = TRUE,
                      args.legend = list(x = "topright", bty = "n", cex = 0.8))
  }
  invisible(drawn)
}
