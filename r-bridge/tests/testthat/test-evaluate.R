# evaluate_scores(), evaluate_dir() and evaluate_emotions() through real
# reticulate. The expected numbers are worked out by hand in the comments
# (the same six rows as tests/test_evaluation.py on the Python side).
#
#        joy   anger  fear   truth   predicted   right?
#   r1   0.70  0.20   0.10   joy     joy         yes
#   r2   0.50  0.40   0.10   anger   joy         no
#   r3   0.20  0.60   0.20   anger   anger       yes
#   r4   0.05  0.40   0.55   fear    fear        yes
#   r5   0.20  0.20   0.60   anger   fear        no
#   r6   0.80  0.10   0.10   joy     joy         yes
six_rows <- function() {
  data.frame(
    joy = c(0.70, 0.50, 0.20, 0.05, 0.20, 0.80),
    anger = c(0.20, 0.40, 0.60, 0.40, 0.20, 0.10),
    fear = c(0.10, 0.10, 0.20, 0.55, 0.60, 0.10)
  )
}
six_truth <- c("joy", "anger", "anger", "fear", "anger", "joy")

# What a plot drew: the labels of each text() call, and the heatmap cells
# (position, the count written there, and the colour index image() gave it).
drawn <- function(draw) {
  grDevices::pdf(NULL)
  on.exit(grDevices::dev.off())
  grDevices::dev.control("enable")
  draw()
  calls <- grDevices::recordPlot()[[1]]
  named <- function(name) Filter(function(e) identical(e[[2]][[1]]$name, name), calls)
  texts <- lapply(named("C_text"), function(e) e[[2]][-1])
  out <- list(texts = lapply(texts, function(t) as.character(t[[2]])))
  images <- named("C_image")
  if (length(images) > 0) {
    shades <- images[[1]][[2]][[4]] # colour indices, x by y
    first <- texts[[1]]
    x <- round(first[[1]]$x)
    y <- round(first[[1]]$y)
    out$cells <- data.frame(x = x, y = y, count = as.numeric(first[[2]]), shade = shades[cbind(x, y)])
  }
  out
}

# Darker cells hold larger counts, cell by cell.
expect_shades_follow_counts <- function(cells) {
  ordered <- cells[order(cells$count), ]
  expect_true(all(diff(ordered$shade) >= 0))
  expect_gt(max(cells$shade), min(cells$shade))
  expect_equal(length(unique(cells$shade[cells$count == 0])), 1)
}

# --- argument checks (no Python needed) -----------------------------------------

test_that("evaluate_scores checks types and lengths in R", {
  expect_error(evaluate_scores(1:3, c("a", "b", "c")), "`scores` must be a data frame", class = "transforemotion_argument_error")
  expect_error(evaluate_scores(six_rows(), six_truth[1:5]), "`truth` has 5 labels but `scores` has 6 rows")
  expect_error(evaluate_scores(six_rows(), 1:6), "`truth` must be a character vector")
  expect_error(evaluate_scores(six_rows(), six_truth, classes = c("joy", NA)), "`classes` has a missing value")
})

test_that("evaluate_dir checks its arguments in R", {
  expect_error(evaluate_dir(file.path(tempdir(), "no-such-folder")), "must be an existing folder")
  expect_error(evaluate_dir(tempdir(), label_map = c("joy", "anger")), "`label_map` must be a named character vector")
  expect_error(evaluate_dir(tempdir(), templates = 3), "`templates` must be NULL")
  expect_error(evaluate_dir(tempdir(), batch_size = 2.5), "`batch_size` must be a single whole number")
  expect_error(evaluate_dir(tempdir(), progress = "yes"), "`progress` must be TRUE or FALSE")
})

test_that("evaluate_emotions reports bad input as transforEmotion does", {
  expect_error(evaluate_emotions("no-such-file.csv"), "Data file not found")
  expect_error(evaluate_emotions(list(1, 2)), "Data must be a data frame or path to CSV file")
  expect_error(evaluate_emotions(data.frame(id = 1:3, truth = c("a", "b", "a"))), "Missing required columns: pred")
  expect_error(evaluate_emotions(data.frame(id = integer(0), truth = character(0), pred = character(0))),
               "No valid data rows after preprocessing")
  expect_error(evaluate_emotions(data.frame(id = 1, truth = "a", pred = "a"), metrics = c("accuracy", "kappa")),
               "\"kappa\"")
})

test_that("evaluate_emotions names a column given by name that the data lacks", {
  # transforEmotion's stand-ins (truth, pred, emotion ...) are there, but were not asked for.
  data <- data.frame(id = 1:3, truth = c("joy", "anger", "joy"), pred = c("joy", "joy", "joy"),
                     emotion = c("joy", "fear", "joy"))
  expect_error(evaluate_emotions(data, truth_col = "labelx", pred_col = "predx"),
               "no column \"labelx\" \\(`truth_col`\\) and \"predx\" \\(`pred_col`\\)",
               class = "transforemotion_argument_error")
  expect_error(evaluate_emotions(data, truth_col = "labelx"),
               "Its columns are: \"id\", \"truth\", \"pred\", \"emotion\"")
  expect_error(evaluate_emotions(data, id_col = "image"), "\"image\" \\(`id_col`\\)")
})

# --- with Python -------------------------------------------------------------------

test_that("evaluate_scores matches the hand-worked example and counts left-out rows", {
  skip_if_no_python()
  scores <- rbind(six_rows(), data.frame(joy = NA, anger = NA, fear = NA), data.frame(joy = 0.2, anger = 0.2, fear = 0.6))
  truth <- c(six_truth, "joy", NA) # row 7: no scores; row 8: no truth (an R NA, not the text "NA")
  result <- evaluate_scores(scores, truth)
  expect_s3_class(result, "transforemotion_evaluation")
  expect_equal(result$classes, c("joy", "anger", "fear"))
  expect_equal(c(result$n_rows, result$n_used, result$n_excluded), c(8L, 6L, 2L))
  expect_equal(result$excluded, c(missing_scores = 1L, missing_truth = 1L))
  # accuracy 4/6; joy P 2/3 R 1 F1 .8; anger P 1 R 1/3 F1 .5; fear P 1/2 R 1 F1 2/3
  expect_equal(result$accuracy, 4 / 6)
  expect_equal(result$per_class$f1, c(0.8, 0.5, 2 / 3))
  expect_equal(result$per_class$support, c(2L, 3L, 1L))
  expect_equal(result$macro_f1, (0.8 + 0.5 + 2 / 3) / 3)
  # AUROC one-vs-rest: joy 8/8, anger 7/9 (ties count 1/2), fear 4/5
  expect_equal(result$per_class$auroc, c(1, 7 / 9, 0.8))
  # ECE: bins (.4,.5] gap .5 x1, (.5,.6] gap 1/12 x3, (.6,.7] gap .3, (.7,.8] gap .2 -> 1.25/6
  expect_equal(result$ece, 1.25 / 6)
  # alpha = 1 - 11 * 4 / 94 (coincidences: 4 disagreeing of n = 12 values; totals joy 5, anger 4, fear 3)
  expect_equal(result$krippendorff_alpha, 1 - 44 / 94)
  # rows: truth; columns: predicted
  expect_equal(result$confusion, data.frame(truth = c("joy", "anger", "fear"), joy = c(2L, 1L, 0L),
                                            anger = c(0L, 1L, 0L), fear = c(0L, 1L, 1L)))
  expect_output(print(result), "6 of 8 rows evaluated, 2 left out \\(1 without scores, 1 without a true label\\)")
  expect_output(print(summary(result)), "Confusion matrix \\(rows: truth, columns: predicted\\)")
})

test_that("evaluate_scores takes the truth from a column and never takes metadata for classes", {
  skip_if_no_python()
  scores <- cbind(data.frame(image_id = paste0(1:6, ".jpg"), frame = 0:5, time = (0:5) / 25), six_rows(),
                  label = factor(six_truth))
  result <- evaluate_scores(scores, "label")
  expect_equal(result$classes, c("joy", "anger", "fear"))
  expect_equal(result$accuracy, 4 / 6)
  expect_error(evaluate_scores(six_rows(), replace(six_truth, 2, "happy")), '"happy"', class = "transforemotion_python_error")
})

test_that("NA measures stay NA and a class absent from the truth has no AUROC", {
  skip_if_no_python()
  scores <- data.frame(joy = c(0.9, 0.8), anger = c(0.1, 0.2))
  result <- evaluate_scores(scores, c("joy", "joy"))
  expect_true(is.na(result$krippendorff_alpha))
  expect_true(is.na(result$per_class$auroc[2]))
  expect_true(any(grepl("anger.? never occurs in the truth", result$notes)))
})

test_that("plot draws the confusion counts and the F1 of each class", {
  skip_if_no_python()
  result <- evaluate_scores(six_rows(), six_truth)
  picture <- drawn(function() plot(result))
  # cells in column order (predicted joy: 2 1 0; anger: 0 1 0; fear: 0 1 1), then the F1 values
  expect_equal(picture$texts[[1]], c("2", "1", "0", "0", "1", "0", "0", "1", "1"))
  expect_equal(picture$texts[[2]], c("0.800", "0.500", "0.667"))
  # truth joy is the top row (y = 3): its cell under predicted joy (x = 1) holds 2
  expect_equal(picture$cells$count[picture$cells$x == 1 & picture$cells$y == 3], 2)
  expect_shades_follow_counts(picture$cells)
  grDevices::pdf(NULL)
  on.exit(grDevices::dev.off())
  expect_identical(plot(result, which = "f1"), result)
})

test_that("evaluate_emotions gives transforEmotion's result, computed by the engine", {
  skip_if_no_python()
  data <- data.frame(id = 1:6, truth = six_truth, pred = c("joy", "joy", "anger", "fear", "fear", "joy"))
  probs <- six_rows()
  # Probability columns in an order that is not alphabetical: matched by name.
  data$prob_joy <- probs$joy
  data$prob_anger <- probs$anger
  data$prob_fear <- probs$fear
  result <- evaluate_emotions(data, probs_cols = c("prob_joy", "prob_anger", "prob_fear"), return_plot = TRUE)
  expect_s3_class(result, c("emotion_evaluation", "list"), exact = TRUE)
  expect_named(result, c("accuracy", "per_class_metrics", "precision_macro", "precision_micro", "recall_macro",
                         "recall_micro", "f1_macro", "f1_micro", "confusion_matrix", "auroc", "ece",
                         "krippendorff_alpha", "metrics", "per_class", "summary", "plot_data"))
  expect_equal(result$accuracy, 4 / 6)
  # classes sorted: anger, fear, joy
  expect_equal(result$per_class_metrics$class, c("anger", "fear", "joy"))
  expect_equal(result$per_class_metrics$precision, c(1, 1 / 2, 2 / 3))
  expect_equal(result$precision_macro, (1 + 1 / 2 + 2 / 3) / 3)
  expect_equal(result$precision_micro, 4 / 6)
  # AUROC by class name, not by position against the sorted classes
  expect_equal(result$auroc$per_class$auroc[match(c("joy", "anger", "fear"), result$auroc$per_class$class)],
               c(1, 7 / 9, 0.8))
  expect_equal(result$auroc$macro, (1 + 7 / 9 + 0.8) / 3)
  expect_equal(result$ece, 1.25 / 6)
  expect_equal(result$krippendorff_alpha, 1 - 44 / 94)
  cm <- result$confusion_matrix
  expect_s3_class(cm, "table")
  expect_equal(dimnames(cm), list(Predicted = c("anger", "fear", "joy", "Sum"), Actual = c("anger", "fear", "joy", "Sum")))
  # predicted anger: r3 (anger); fear: r4 (fear), r5 (anger); joy: r1 r6 (joy), r2 (anger)
  expect_equal(unname(cm["fear", ]), c(1, 1, 0, 2))
  expect_equal(unname(cm["Sum", ]), c(3, 1, 2, 6))
  expect_equal(result$metrics$metric, c("accuracy", "precision_macro", "recall_macro", "f1_macro", "f1_micro",
                                        "auroc_macro", "ece", "krippendorff_alpha"))
  expect_equal(result$per_class$support, c(3, 1, 2))
  expect_equal(result$summary, list(n_instances = 6L, n_classes = 3L, classes = c("anger", "fear", "joy"),
                                    accuracy = 4 / 6))
  expect_equal(sum(result$plot_data$confusion_matrix$Count), 6)
  expect_output(print(result), "Emotion Classification Evaluation Results.*Total instances: 6.*Classes: 3 \\(anger, fear, joy\\)")
  expect_output(summary(result), "Per-Class Metrics:")
  picture <- drawn(function() plot(result, type = "confusion_matrix"))
  # truth in rows, drawn column by column: predicted anger (1 0 0), fear (1 1 0), joy (1 0 2)
  expect_equal(picture$texts[[1]], c("1", "0", "0", "1", "1", "0", "1", "0", "2"))
  expect_shades_follow_counts(picture$cells)
})

test_that("evaluate_emotions fills in predictions from probabilities with class names, and handles NA", {
  skip_if_no_python()
  data <- data.frame(index = 1:6, emotion = six_truth, p_joy = six_rows()$joy, p_anger = six_rows()$anger,
                     p_fear = six_rows()$fear)
  result <- evaluate_emotions(data, probs_cols = c("p_joy", "p_anger", "p_fear"), metrics = c("accuracy", "f1_macro"))
  expect_equal(result$accuracy, 4 / 6) # the top probabilities are the predictions of the example
  expect_named(result, c("accuracy", "per_class_metrics", "f1_macro", "metrics", "per_class", "summary"))
  expect_equal(result$metrics$metric, c("accuracy", "f1_macro"))

  with_na <- data.frame(id = 1:8, truth = c(six_truth, NA, "joy"), pred = c("joy", "joy", "anger", "fear", "fear", "joy", "joy", NA))
  expect_warning(kept <- evaluate_emotions(with_na), "Removed 2 rows with missing values")
  expect_equal(kept$summary$n_instances, 6L)
  expect_error(evaluate_emotions(with_na, na_rm = FALSE), "2 rows have a missing")
  expect_error(evaluate_emotions(with_na[1:6, ], classes = c("joy", "anger")), "Predicted labels not among the classes: \"fear\"")
})

test_that("a pred_col given by name but absent gives way to the probabilities, with a warning", {
  skip_if_no_python()
  data <- data.frame(id = 1:6, truth = six_truth, pred = rep("joy", 6), prob_joy = six_rows()$joy,
                     prob_anger = six_rows()$anger, prob_fear = six_rows()$fear)
  expect_warning(result <- evaluate_emotions(data, pred_col = "predx",
                                             probs_cols = c("prob_joy", "prob_anger", "prob_fear")),
                 "\"predx\" \\(`pred_col`\\) is not in the data")
  expect_equal(result$accuracy, 4 / 6) # the most probable classes, not the `pred` column (2 / 6)
  # left at its default, pred_col still finds transforEmotion's stand-in
  data$prediction <- data$pred
  data$pred <- NULL
  expect_equal(evaluate_emotions(data)$accuracy, 2 / 6)
})

test_that("evaluate_emotions reads a CSV file", {
  skip_if_no_python()
  path <- tempfile(fileext = ".csv")
  utils::write.csv(data.frame(id = 1:6, truth = six_truth, pred = c("joy", "joy", "anger", "fear", "fear", "joy")),
                   path, row.names = FALSE)
  on.exit(unlink(path))
  expect_equal(evaluate_emotions(path)$accuracy, 4 / 6)
})

# A labelled folder: happy/ (the face and its mirror image), angry/ (a smaller
# copy of the face and a picture with no face), fearful/ (empty), and a face
# in the top folder.
labelled_folder <- function() {
  cv2 <- reticulate::import("cv2", convert = FALSE)
  np <- reticulate::import("numpy", convert = FALSE)
  root <- file.path(tempdir(), "labelled")
  unlink(root, recursive = TRUE)
  for (folder in c("happy", "angry", "fearful")) dir.create(file.path(root, folder), recursive = TRUE)
  face <- cv2$imread(face_image())
  file.copy(face_image(), file.path(root, "happy", "face.jpg"))
  cv2$imwrite(file.path(root, "happy", "mirrored.png"), cv2$flip(face, 1L))
  cv2$imwrite(file.path(root, "angry", "small.png"), cv2$resize(face, reticulate::tuple(200L, 230L)))
  file.copy(blank_image(), file.path(root, "angry", "blank.png"))
  file.copy(face_image(), file.path(root, "stray.jpg"))
  root
}

test_that("evaluate_dir scores and evaluates a labelled folder end to end", {
  skip_if_no_python()
  root <- labelled_folder()
  warnings <- character()
  result <- withCallingHandlers(
    evaluate_dir(root, label_map = c(happy = "joy"), local_model_path = tiny_model()),
    warning = function(w) {
      warnings <<- c(warnings, conditionMessage(w))
      invokeRestart("muffleWarning")
    }
  )
  expect_true(any(grepl("'fearful' hold no images", warnings)))
  expect_true(any(grepl("not in a class folder", warnings)))
  expect_true(any(grepl("No face was found", warnings)))
  expect_s3_class(result, "transforemotion_evaluation")
  expect_equal(result$classes, c("angry", "fearful", "joy"))
  scores <- result$scores
  expect_named(scores, c("image_id", "truth", "angry", "fearful", "joy"))
  expect_equal(scores$image_id, c("angry/blank.png", "angry/small.png", "happy/face.jpg", "happy/mirrored.png", "stray.jpg"))
  expect_equal(scores$truth, c("angry", "angry", "joy", "joy", NA))
  expect_true(all(is.na(unlist(scores[1, c("angry", "fearful", "joy")]))))
  expect_equal(c(result$n_rows, result$n_used), c(5L, 3L))
  expect_equal(result$excluded, c(missing_scores = 1L, missing_truth = 1L))
  expect_equal(result$per_class$support, c(1L, 0L, 2L))
  expect_equal(sum(result$confusion[, result$classes]), 3)
  expect_output(print(result), "Scores of each image: \\$scores")
})

test_that("true labels that are not classes get a mapping written in R, and text scores are named", {
  skip_if_no_python()
  scores <- data.frame(joy = c(0.8, 0.3, 0.6), anger = c(0.2, 0.7, 0.4))
  err <- expect_error(evaluate_scores(scores, truth = c("happy", "anger", "anger")),
                      class = "transforemotion_argument_error")
  expect_match(conditionMessage(err), 'e.g. with c(happy = "joy")', fixed = TRUE)
  expect_match(conditionMessage(err), 'not among the classes: "happy"', fixed = TRUE)
  expect_false(grepl("{", conditionMessage(err), fixed = TRUE))
  as_text <- data.frame(joy = c("0.8", "0.3", "0.6"), anger = c("0.2", "0.7", "0.4"))
  expect_error(evaluate_scores(as_text, truth = c("joy", "anger", "anger")),
               'The column\\(s\\) "joy", "anger" of scores hold numbers written as text.*as.numeric\\(\\)')
  infinite <- data.frame(joy = c(0.8, Inf, 0.6), anger = c(0.2, 0.7, 0.4))
  expect_error(evaluate_scores(infinite, truth = c("joy", "anger", "anger")),
               'infinite value \\(Inf in "joy", row 2 counting from 1\\).* or NA where')
})
