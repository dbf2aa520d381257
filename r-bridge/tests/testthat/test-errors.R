# Errors raised in Python reach R as conditions of Python's error classes, so
# that R code can catch a mistake in the call apart from a missing package.

face <- system.file("extdata", "face.jpg", package = "transforEmotionBridge")

test_that("a rule broken in Python is an input error in R, with Python's class chain", {
  skip_if_no_python()
  err <- tryCatch(image_scores(face, c("joy", "anger"), face_selection = "sideways"), error = identity)
  expect_s3_class(err, "transforemotion_argument_error")
  expect_s3_class(err, "transforemotion_input_error")
  expect_s3_class(err, "transforemotion_error")
  expect_s3_class(err, "transforemotion_python_error")
  expect_match(conditionMessage(err), "face_selection = \"sideways\"|\"sideways\"")
  expect_identical(err$python_type, "ArgumentError")
})

test_that("a missing folder is an input error of its own class", {
  skip_if_no_python()
  err <- tryCatch(read_corpus(file.path(tempdir(), "no-such-corpus")), error = identity)
  expect_s3_class(err, "transforemotion_input_not_found_error")
  expect_s3_class(err, "transforemotion_input_error")
})

test_that("an R-level argument check has the same classes as a Python one", {
  err <- tryCatch(image_scores(face, character()), error = identity)
  expect_s3_class(err, "transforemotion_argument_error")
  expect_s3_class(err, "transforemotion_input_error")
  expect_s3_class(err, "transforemotion_error")
})

test_that("the folder pattern and extensions come from Python", {
  skip_if_no_python()
  expect_identical(image_pattern(), "\\.(jpg|jpeg|png|bmp)$")
  expect_identical(formals(image_scores_dir)$pattern, quote(image_pattern()))
  extensions <- media_extensions()
  expect_true(all(c(".jpg", ".png") %in% extensions$image))
  expect_true(all(c(".mp4", ".avi") %in% extensions$video))
})

test_that("face_workers is a per-call option: the same scores, and Python's rule in R's spelling", {
  skip_if_no_python()
  one <- suppressWarnings(video_scores(test_video(), c("joy", "anger"), nframes = 3, ffreq = 5,
                                       local_model_path = tiny_model(), face_workers = 1))
  three <- suppressWarnings(video_scores(test_video(), c("joy", "anger"), nframes = 3, ffreq = 5,
                                         local_model_path = tiny_model(), face_workers = 3))
  expect_equal(as.data.frame(one), as.data.frame(three), tolerance = 1e-6)
  expect_error(image_scores(face, c("joy", "anger"), local_model_path = tiny_model(), face_workers = 0),
               "face_workers", class = "transforemotion_input_error")
  expect_error(image_scores(face, c("joy", "anger"), face_workers = 1.5), "face_workers",
               class = "transforemotion_argument_error")
})

# What transforemotion._bridge.call_from_r returns for Ctrl-C (Python's KeyboardInterrupt) in a corpus run.
stopped <- "stopped; 2 of 10 units finished; run the same command again to continue"

# Runs `signal()` three times in a loop that catches errors and carries on; returns how many errors it caught,
# or the condition that ended the loop when tryCatch(interrupt = ) caught one.
loop_catching_errors <- function(signal) {
  caught <- 0L
  tryCatch({
    for (i in 1:3) tryCatch(signal(), error = function(e) caught <<- caught + 1L)
    caught
  }, interrupt = identity)
}

test_that("Ctrl-C from Python is R's interrupt: tryCatch(interrupt = ) catches it, tryCatch(error = ) does not", {
  error <- list(message = stopped, type = "KeyboardInterrupt", classes = list("transforemotion_interrupt"))
  got <- loop_catching_errors(function() stop(transforEmotionBridge:::python_condition(error)))
  expect_s3_class(got, "interrupt")
  expect_s3_class(got, "transforemotion_interrupt")
  expect_false(inherits(got, "error"))
  expect_identical(conditionMessage(got), stopped)
  # Any other exception stays an error, which the loop catches.
  other <- list(message = "no such file", type = "FileNotFoundError", classes = list())
  expect_identical(loop_catching_errors(function() stop(transforEmotionBridge:::python_condition(other))), 3L)
})

test_that("a KeyboardInterrupt raised in Python reaches R through the bridge as an interrupt", {
  skip_if_no_python()
  reticulate::py_run_string(sprintf("def te_test_stop():\n    raise KeyboardInterrupt(%s)", deparse(stopped)))
  fun <- reticulate::import_main(convert = FALSE)$te_test_stop
  got <- loop_catching_errors(function() transforEmotionBridge:::py_call(fun))
  expect_s3_class(got, "interrupt")
  expect_false(inherits(got, "error"))
  expect_identical(conditionMessage(got), stopped)
  # Uncaught, it ends the call showing its one line.
  res <- run_r(c(
    sprintf(".libPaths(c(%s))", paste(deparse(.libPaths()), collapse = "")),
    "library(transforEmotionBridge)",
    "invisible(image_pattern())",
    sprintf("reticulate::py_run_string(%s)", deparse(sprintf("def te_test_stop():\n    raise KeyboardInterrupt(%s)",
                                                            deparse(stopped)))),
    "transforEmotionBridge:::py_call(reticulate::import_main(convert = FALSE)$te_test_stop)",
    "cat('CARRIED ON\\n')"
  ), env = paste0("RETICULATE_PYTHON=", test_python))
  expect_false(identical(res$status, 0L))
  expect_match(res$output, paste("Error:", stopped), fixed = TRUE)
  expect_no_match(res$output, "CARRIED ON", fixed = TRUE)
})
