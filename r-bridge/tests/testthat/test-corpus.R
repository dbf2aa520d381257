# corpus_scores() and read_corpus(): argument checks in R, then the real Python engine.

classes <- c("joy", "very angry", "surprise")

test_that("corpus_scores checks types, lengths and NA before calling Python", {
  expect_error(corpus_scores(42, c("joy", "anger"), tempdir()), "`inputs` must be a folder, a manifest",
               class = "transforemotion_argument_error")
  expect_error(corpus_scores(c("a.mp4", NA), c("joy", "anger"), tempdir()), "`inputs`")
  expect_error(corpus_scores("videos", c("joy", NA), tempdir()), "`classes`")
  expect_error(corpus_scores("videos", c("joy", "anger"), c("a", "b")), "`output_dir` must be a single")
  expect_error(corpus_scores("videos", c("joy", "anger"), tempdir(), unit_size = 2.5), "`unit_size`")
  expect_error(corpus_scores("videos", c("joy", "anger"), tempdir(), nframes = NA), "`nframes`")
  expect_error(corpus_scores("videos", c("joy", "anger"), tempdir(), overwrite = NA), "`overwrite` must be TRUE")
  expect_error(corpus_scores("videos", c("joy", "anger"), tempdir(), templates = character()), "`templates`")
  expect_error(corpus_scores("videos", c("joy", "anger"), tempdir(), workers = c(1, 2)), "`workers`")
  expect_error(corpus_scores("videos", c("joy", "anger"), tempdir(), progress = "yes"), "`progress`")
  expect_error(read_corpus(NA_character_), "`output_dir`")
})

test_that("corpus_scores scores videos and images; read_corpus gives video_scores' rows", {
  skip_if_no_python()
  folder <- file.path(tempdir(), "corpus-in")
  dir.create(folder, showWarnings = FALSE)
  file.copy(test_video(), file.path(folder, "clip.avi"), overwrite = TRUE)
  file.copy(face_image(), file.path(folder, "face.jpg"), overwrite = TRUE)
  out <- file.path(tempdir(), "corpus-out")
  unlink(out, recursive = TRUE)

  units <- expect_invisible(suppressWarnings(
    corpus_scores(folder, classes, out, nframes = 6, ffreq = 5, unit_size = 4, local_model_path = tiny_model(),
                  progress = FALSE)
  ))
  expect_s3_class(units, "data.frame")
  expect_identical(units$kind, c("video", "video", "images"))
  expect_identical(units$status, rep("scored", 3))

  expect_no_warning(scores <- read_corpus(out))
  expect_s3_class(scores, c("corpus_scores", "data.frame"), exact = TRUE)
  expect_identical(names(scores), c("source", "frame", "time", classes))
  expect_identical(scores$source, c(rep("clip.avi", 6), "face.jpg"))
  expect_identical(scores$frame, c(seq(0L, 25L, by = 5L), NA))
  expect_true(is.na(scores$time[7]))

  video <- suppressWarnings(video_scores(test_video(), classes, nframes = 6, ffreq = 5,
                                         local_model_path = tiny_model()))
  expect_equal(as.matrix(scores[1:6, classes]), as.matrix(video), ignore_attr = TRUE, tolerance = 1e-6)
  expect_equal(scores$time[1:6], attr(video, "time"))
  # plot() draws the video's scores over time (not a scatter-plot matrix); the image has no time
  panels <- panels_drawn(function() expect_invisible(plot(scores)))
  expect_equal(vapply(panels, `[[`, "", "main"), "clip.avi")
  expect_equal(panels[[1]]$at, attr(video, "time"))
  expect_equal(unname(panels[[1]]$scores), unname(as.matrix(video)), tolerance = 1e-6)

  # The same call again skips everything; changing the classes is refused with a Python message.
  again <- corpus_scores(folder, classes, out, nframes = 6, ffreq = 5, unit_size = 4,
                         local_model_path = tiny_model(), progress = FALSE)
  expect_identical(again$status, rep("skipped", 3))
  expect_error(corpus_scores(folder, c("joy", "fear"), out, nframes = 6, ffreq = 5, unit_size = 4,
                             local_model_path = tiny_model(), progress = FALSE),
               "holds a corpus scored with other arguments", class = "transforemotion_python_error")
})

test_that("a corpus follows people through each video across its units, as video_scores does", {
  skip_if_no_python()
  out <- file.path(tempdir(), "corpus-persons")
  unlink(out, recursive = TRUE)
  corpus_scores(crossing_video(), classes, out, nframes = 20, ffreq = 1, face_selection = "all", unit_size = 7,
                persons = 1, local_model_path = tiny_model(), progress = FALSE)
  kept <- read_corpus(out)
  expect_identical(names(kept)[1:5], c("source", "frame", "time", "person", "face"))
  expect_identical(kept$person, rep(0L, 20))  # both are seen in every frame; the tie goes to person 0
  everyone <- read_corpus(out, persons = 2)
  video <- video_scores(crossing_video(), classes, nframes = 20, ffreq = 1, face_selection = "all",
                        local_model_path = tiny_model())
  expect_equal(everyone$person, as.integer(video$person))
  expect_equal(everyone$x, as.integer(video$x))
  panels <- panels_drawn(function() plot(everyone))
  expect_identical(vapply(panels, `[[`, "", "main"), paste0(crossing_video(), ": person ", 0:1))
})

test_that("a file that cannot be read is a failure with one warning; the rest is scored", {
  skip_if_no_python()
  missing <- file.path(tempdir(), "no-such-video.avi")
  out <- file.path(tempdir(), "corpus-failures")
  unlink(out, recursive = TRUE)
  expect_warning(
    units <- corpus_scores(c(face_image(), missing), classes, out, local_model_path = tiny_model(),
                           progress = FALSE),
    "1 of 2 units could not be scored"
  )
  expect_identical(units$status, c("scored", "failed"))
  expect_match(units$reason[2], "not found")
  failures <- utils::read.csv(file.path(out, "failures.csv"))
  expect_identical(failures$source, missing)
  expect_warning(scores <- read_corpus(out), "incomplete")
  expect_identical(scores$source, face_image())
  expect_false(anyNA(scores[, classes]))
})

test_that("Ctrl-C during corpus_scores ends with one line saying how far it got", {
  skip_if_no_python()
  skip_on_os("windows")  # no SIGINT to send
  video <- file.path(tempdir(), "interrupted.avi")
  file.copy(test_video(), video, overwrite = TRUE)
  out <- file.path(tempdir(), "corpus-interrupted")
  unlink(out, recursive = TRUE)
  script <- tempfile(fileext = ".R")
  log <- tempfile(fileext = ".log")
  writeLines(c(
    sprintf(".libPaths(c(%s))", paste(deparse(.libPaths()), collapse = "")),
    "library(transforEmotionBridge)",
    "invisible(image_pattern())",  # starts Python
    # Slow each forward pass down, so that the interrupt lands in the middle of the run.
    "reticulate::py_run_string(paste('import time', 'from transforemotion import models',",
    "  'embed = models.VisionLanguageModel.embed_images',",
    "  'models.VisionLanguageModel.embed_images = lambda self, images: time.sleep(0.3) or embed(self, images)',",
    "  sep = '\\n'))",
    sprintf("corpus_scores(%s, c('joy', 'anger'), %s, nframes = 30, ffreq = 1, unit_size = 3,", deparse(video),
            deparse(out)),
    sprintf("  face_selection = 'none', local_model_path = %s, progress = FALSE)", deparse(tiny_model()))
  ), script)
  rscript <- file.path(R.home("bin"), "Rscript")
  pid <- as.integer(system(sprintf("RETICULATE_PYTHON=%s %s %s > %s 2>&1 & echo $!", shQuote(test_python),
                                   shQuote(rscript), shQuote(script), shQuote(log)), intern = TRUE))
  running <- function() file.exists(file.path("/proc", pid))
  parts <- function() length(list.files(file.path(out, "parts"), pattern = "\\.parquet$"))
  deadline <- Sys.time() + 120
  while (parts() < 2 && running() && Sys.time() < deadline) Sys.sleep(0.05)
  tools::pskill(pid, tools::SIGINT)
  deadline <- Sys.time() + 60
  while (running() && Sys.time() < deadline) Sys.sleep(0.1)
  output <- readLines(log)
  finished <- parts()
  expect_true(finished >= 2 && finished < 10, info = paste(output, collapse = "\n"))
  expect_identical(
    utils::tail(setdiff(output, c("Execution halted", "")), 1),
    sprintf("Error: stopped; %d of 10 units finished; run the same command again to continue", finished)
  )
  again <- corpus_scores(video, c("joy", "anger"), out, nframes = 30, ffreq = 1, unit_size = 3,
                         face_selection = "none", local_model_path = tiny_model(), progress = FALSE)
  expect_identical(sum(again$status == "skipped"), finished)
})
