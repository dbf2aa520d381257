# Argument checks happen in R, before Python is involved: these tests need
# no Python environment.

face <- system.file("extdata", "face.jpg", package = "transforEmotionBridge")

test_that("bad classes are refused with an R message", {
  expect_error(image_scores(face, character()), "`classes` must be a character vector", class = "transforemotion_argument_error")
  expect_error(image_scores(face, c("joy", NA)), "`classes` has a missing value \\(NA\\) at position 2")
  expect_error(image_scores(face, 1:3), "`classes`")
  expect_error(image_scores(face, c("joy", "anger", "joy")), "repeated: \"joy\"")
})

test_that("bad image arguments are refused", {
  expect_error(image_scores("no/such/file.jpg", c("joy", "anger")), "1 image not found: \"no/such/file.jpg\"")
  expect_error(image_scores(c(face, "a.png", "b.png"), c("joy", "anger")), "2 images not found")
  expect_error(image_scores(42, c("joy", "anger")), "`image` must be a character vector")
  expect_error(image_scores(character(), c("joy", "anger")), "`image`")
})

test_that("face_selection, model, local_model_path and the options are type-checked", {
  expect_error(image_scores(face, c("joy", "anger"), face_selection = c("largest", "left")),
               "`face_selection` must be a single non-empty string")
  expect_error(image_scores(face, c("joy", "anger"), face_boxes = NA), "`face_boxes` must be TRUE or FALSE")
  expect_error(image_scores(face, c("joy", "anger"), templates = c("a {}", NA)), "`templates`")
  expect_error(image_scores(face, c("joy", "anger"), batch_size = 2.5), "`batch_size` must be a single whole number")
  expect_error(image_scores(face, c("joy", "anger"), device = 1), "`device` must be a single non-empty string")
  expect_error(image_scores(face, c("joy", "anger"), progress = "no"), "`progress` must be TRUE or FALSE")
  expect_error(image_scores(face, c("joy", "anger"), model = NA_character_), "`model` must be a single non-empty string")
  expect_error(image_scores(face, c("joy", "anger"), local_model_path = "no/such/folder"),
               "`local_model_path` must be an existing folder")
})

test_that("persons and person_names are type-checked in R", {
  expect_error(video_scores(face, c("joy", "anger"), persons = 1.5), "`persons` must be a single whole number")
  expect_error(video_scores(face, c("joy", "anger"), persons = "2"), "`persons`")
  expect_error(video_scores(face, c("joy", "anger"), person_names = 1:2), "`person_names` must be a character vector")
  expect_error(video_scores(face, c("joy", "anger"), person_names = c("a", NA)), "`person_names`")
  expect_error(video_scores(face, c("joy", "anger"), person_names = c(host = "a")),
               "The names of `person_names` must be person ids")
  expect_error(read_corpus(tempdir(), persons = NA), "`persons`")
})

test_that("image_scores_dir checks its arguments", {
  expect_error(image_scores_dir("no/such/folder", c("joy", "anger")), "`dir` must be an existing folder")
  expect_error(image_scores_dir(dirname(face), c("joy", "anger"), recursive = "yes"), "`recursive` must be TRUE or FALSE")
  expect_error(image_scores_dir(dirname(face), c("joy", "anger"), pattern = character()), "`pattern`")
})

test_that("video_scores checks its arguments", {
  expect_error(video_scores("no/such/video.mp4", c("joy", "anger")), "1 video not found")
  expect_error(video_scores(c(face, face), c("joy", "anger")), "`video` must be one path or URL")
  expect_error(video_scores(face, c("joy", "anger"), nframes = 2.5), "`nframes` must be a single whole number")
  expect_error(video_scores(face, c("joy", "anger"), ffreq = "15"), "`ffreq`")
  expect_error(video_scores(face, c("joy", "anger"), start = NA), "`start` must be a single number")
  expect_error(video_scores(face, c("joy", "anger"), uniform = NA), "`uniform` must be TRUE or FALSE")
  expect_error(video_scores(face, c("joy", "anger"), timestamps = "yes"), "`timestamps` must be TRUE or FALSE")
  expect_error(video_scores(face, c("joy", "anger"), save_dir = ""), "`save_dir`")
})

test_that("register_vision_model checks its arguments", {
  expect_error(register_vision_model("", "org/model"), "`name`")
  expect_error(register_vision_model("x", "org/model", architecture = NA_character_), "`architecture`")
})

test_that("the functions keep transforEmotion's arguments and defaults, first and in order", {
  expect_identical(names(formals(image_scores))[1:5], c("image", "classes", "face_selection", "model", "local_model_path"))
  expect_identical(names(formals(image_scores_dir))[1:7],
                   c("dir", "classes", "face_selection", "pattern", "recursive", "model", "local_model_path"))
  expect_identical(names(formals(video_scores))[1:14], c(
    "video", "classes", "nframes", "face_selection", "start", "end", "uniform", "ffreq",
    "save_video", "save_frames", "save_dir", "video_name", "model", "local_model_path"
  ))
  f <- formals(video_scores)
  expect_equal(lapply(list(f$nframes, f$start, f$end, f$uniform, f$ffreq, f$save_dir, f$video_name, f$model), eval),
               list(100, 0, -1, FALSE, 15, "temp/", "temp", "oai-base"))
  expect_equal(formals(image_scores)$face_selection, "largest")
  expect_null(formals(image_scores)$local_model_path)
})

test_that("plot.video_scores draws a made-up result, with gaps for frames without a face", {
  scores <- data.frame(joy = c(0.7, 0.6, NA, 0.2), `very angry` = c(0.3, 0.4, NA, 0.8), check.names = FALSE)
  attr(scores, "time") <- c(0, 0.5, 1, 1.5)
  class(scores) <- c("video_scores", "data.frame")
  grDevices::pdf(NULL)
  on.exit(grDevices::dev.off())
  old_mar <- graphics::par("mar")
  expect_invisible(plot(scores))
  expect_equal(graphics::par("mar"), old_mar) # the user's settings are restored
  expect_silent(plot(scores[1:2, ])) # attributes gone after subsetting: falls back to row numbers
})

test_that("plot.video_scores draws one panel per face for face_selection = 'all'", {
  scores <- data.frame(frame = c(0, 0, 10, 20, 20), time = c(0, 0, 1, 2, 2), face = c(0, 1, NA, 0, 1),
                       joy = c(0.7, 0.2, NA, 0.6, 0.3), anger = c(0.3, 0.8, NA, 0.4, 0.7))
  class(scores) <- c("video_scores", "data.frame")
  grDevices::pdf(NULL)
  on.exit(grDevices::dev.off())
  titles <- new.env()
  titles$seen <- character()
  trace("draw_scores_panel", bquote(assign("seen", c(get("seen", envir = .(titles)), main), envir = .(titles))),
        print = FALSE,
        where = asNamespace("transforEmotionBridge"))
  on.exit(untrace("draw_scores_panel", where = asNamespace("transforEmotionBridge")), add = TRUE)
  plot(scores)
  expect_equal(titles$seen, c("Emotion scores over the video: face 0", "Emotion scores over the video: face 1"))
  expect_equal(graphics::par("mfrow"), c(1, 1)) # restored
})
