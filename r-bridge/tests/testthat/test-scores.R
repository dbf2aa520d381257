# Scoring through real reticulate and the real transforemotion module, with a
# tiny random-weight CLIP model (no download).

classes <- c("joy", "very angry", "surprise")

test_that("image_scores gives one row per image and one column per class", {
  skip_if_no_python()
  scores <- image_scores(face_image(), classes, local_model_path = tiny_model())
  expect_s3_class(scores, "data.frame")
  expect_identical(names(scores), classes) # no make.names(): "very angry" keeps its space
  expect_equal(nrow(scores), 1)
  expect_true(all(vapply(scores, is.double, logical(1))))
  expect_equal(sum(unlist(scores[1, ])), 1, tolerance = 1e-4)
})

test_that("image may be a vector; a picture without a face gives an NA row and a warning", {
  skip_if_no_python()
  images <- c(face_image(), blank_image(), face_image())
  expect_warning(
    scores <- image_scores(images, classes, local_model_path = tiny_model()),
    "No face was found"
  )
  expect_equal(dim(scores), c(3, 3))
  expect_true(all(is.na(scores[2, ])))
  expect_false(any(is.nan(as.matrix(scores)))) # NA, not NaN
  expect_false(anyNA(scores[c(1, 3), ]))
  expect_equal(scores[1, ], scores[3, ], ignore_attr = TRUE)
})

test_that("face_selection = 'none' scores the whole picture", {
  skip_if_no_python()
  expect_no_warning(scores <- image_scores(blank_image(), c("joy", "anger"), face_selection = "none",
                                           local_model_path = tiny_model()))
  expect_false(anyNA(scores))
})

test_that("image_scores_dir gives image_id then the classes", {
  skip_if_no_python()
  dir <- file.path(tempdir(), "images")
  dir.create(dir, showWarnings = FALSE)
  file.copy(face_image(), file.path(dir, c("a.jpg", "b.JPG")), overwrite = TRUE)
  writeLines("not an image", file.path(dir, "notes.txt"))
  scores <- image_scores_dir(dir, classes, local_model_path = tiny_model())
  expect_identical(names(scores), c("image_id", classes))
  expect_identical(scores$image_id, c("a.jpg", "b.JPG"))
  expect_type(scores$joy, "double")
})

test_that("video_scores gives one row per sampled frame, with times for plot()", {
  skip_if_no_python()
  expect_warning(
    scores <- video_scores(test_video(), classes, nframes = 6, uniform = TRUE, local_model_path = tiny_model()),
    "No face"
  )
  expect_s3_class(scores, c("video_scores", "data.frame"), exact = TRUE)
  expect_identical(names(scores), classes)
  expect_equal(nrow(scores), 6)
  time <- attr(scores, "time")
  expect_length(time, 6)
  expect_true(all(diff(time) > 0))
  expect_equal(attr(scores, "frame"), as.integer(round(time * 10)))
  # the face is in the first two seconds only
  expect_false(anyNA(scores[time < 1.9, ]))
  expect_true(all(is.na(scores[time >= 2, ])))

  grDevices::pdf(NULL)
  on.exit(grDevices::dev.off())
  expect_invisible(plot(scores))
})

test_that("video_scores with ffreq takes every ffreq-th frame", {
  skip_if_no_python()
  scores <- suppressWarnings(video_scores(test_video(), classes, nframes = 6, ffreq = 5,
                                          local_model_path = tiny_model()))
  expect_equal(nrow(scores), 6) # frames 0, 5, ..., 25
  expect_equal(attr(scores, "frame"), seq(0L, 25L, by = 5L))
})

test_that("Python errors become R errors with the Python message, not a traceback", {
  skip_if_no_python()
  corrupt <- file.path(tempdir(), "corrupt.jpg")
  writeLines("this is not a JPEG", corrupt)
  err <- expect_error(image_scores(corrupt, classes, local_model_path = tiny_model()),
                      class = "transforemotion_python_error")
  expect_match(conditionMessage(err), "corrupt.jpg", fixed = TRUE)
  expect_match(conditionMessage(err), "not an image file")
  expect_no_match(conditionMessage(err), "Traceback|File \"|py_call_impl|^ValueError")

  empty <- file.path(tempdir(), "empty-model")
  dir.create(empty, showWarnings = FALSE)
  err <- expect_error(image_scores(face_image(), classes, local_model_path = empty),
                      class = "transforemotion_python_error")
  expect_no_match(conditionMessage(err), "Traceback|File \"")

  # The session still works after an error.
  expect_equal(nrow(image_scores(face_image(), classes, local_model_path = tiny_model())), 1)
})

test_that("list_vision_models and register_vision_model go through the Python registry", {
  skip_if_no_python()
  models <- list_vision_models()
  expect_identical(names(models), c("name", "model_id", "architecture", "description", "gpu", "memory_gb",
                                    "packages", "transformers", "available", "reason"))
  expect_true("oai-base" %in% models$name)
  updated <- register_vision_model("tiny-test", tiny_model(), description = "tiny random CLIP")
  expect_true("tiny-test" %in% updated$name)
  # the registered name is usable as `model`
  expect_equal(dim(image_scores(face_image(), classes, model = "tiny-test")), c(1, 3))
})

test_that("the Python module is imported once per session", {
  skip_if_no_python()
  te1 <- transforEmotionBridge:::te_module()
  image_scores(face_image(), classes, local_model_path = tiny_model())
  expect_identical(transforEmotionBridge:::te_module(), te1)
  expect_true(python_available())
})

test_that("Python's rules come back as R errors in R syntax", {
  skip_if_no_python()
  err <- expect_error(image_scores(face_image(), "joy", local_model_path = tiny_model()),
                      class = "transforemotion_python_error")
  expect_match(conditionMessage(err), "c(\"joy\")", fixed = TRUE)
  expect_no_match(conditionMessage(err), "['joy']", fixed = TRUE)
  err <- expect_error(image_scores(face_image(), classes, face_selection = "biggest", local_model_path = tiny_model()),
                      class = "transforemotion_python_error")
  expect_match(conditionMessage(err), "\"largest\", \"left\", \"right\", \"all\", \"none\"", fixed = TRUE)
  err <- expect_error(image_scores(face_image(), classes, face_selection = "none", face_boxes = TRUE,
                                   local_model_path = tiny_model()))
  expect_match(conditionMessage(err), "face_boxes = TRUE", fixed = TRUE)
  expect_match(conditionMessage(err), "face_selection = \"none\"", fixed = TRUE)
  err <- expect_error(video_scores(test_video(), classes, start = Inf, local_model_path = tiny_model()))
  expect_match(conditionMessage(err), "start.*finite.*Inf")
  err <- expect_error(image_scores(face_image(), classes, batch_size = 0, local_model_path = tiny_model()))
  expect_match(conditionMessage(err), "batch_size")
})

test_that("warnings speak R too", {
  skip_if_no_python()
  expect_warning(image_scores(blank_image(), classes, local_model_path = tiny_model()),
                 "face_selection = \"none\"", fixed = TRUE)
})

test_that("face_selection = 'all' gives one row per face with its box; face_boxes adds the box", {
  skip_if_no_python()
  scores <- suppressWarnings(image_scores(c(two_faces_image(), blank_image()), classes, face_selection = "all",
                                          local_model_path = tiny_model()))
  expect_identical(names(scores), c("image", "face", "x", "y", "width", "height", "confidence", classes))
  expect_identical(scores$image, c(two_faces_image(), two_faces_image(), blank_image()))
  expect_equal(scores$face, c(0, 1, NA))
  expect_true(scores$x[1] < 600 && scores$x[2] >= 590) # left copy first
  expect_true(scores$width[1] > scores$width[2]) # the left copy is the big one
  expect_true(all(is.na(scores[3, -1])))
  boxed <- image_scores(two_faces_image(), classes, face_selection = "right", face_boxes = TRUE,
                        local_model_path = tiny_model())
  expect_identical(names(boxed), c("x", "y", "width", "height", "confidence", classes))
  expect_equal(unlist(boxed[1, c("x", "width")]), unlist(scores[2, c("x", "width")]), tolerance = 3)
})

test_that("video_scores takes timestamps, templates and the per-call options", {
  skip_if_no_python()
  scores <- suppressWarnings(video_scores(test_video(), classes, nframes = 3, ffreq = 5, timestamps = TRUE,
                                          templates = "fer", batch_size = 2, device = "cpu", progress = FALSE,
                                          local_model_path = tiny_model()))
  expect_identical(names(scores), c("frame", "time", classes))
  expect_equal(scores$frame, c(0, 5, 10))
  expect_equal(attr(scores, "frame"), c(0L, 5L, 10L))
  plain <- suppressWarnings(video_scores(test_video(), classes, nframes = 3, ffreq = 5,
                                         local_model_path = tiny_model()))
  expect_false(isTRUE(all.equal(unlist(plain[1, ]), unlist(scores[1, classes]))))
})

test_that("a clip shorter than the default 100 frames is scored on the frames it has", {
  skip_if_no_python()
  # 30 frames: every 15th gives frames 0 and 15.
  expect_warning(scores <- video_scores(test_video(), classes, face_selection = "none",
                                        local_model_path = tiny_model()),
                 "nframes")
  expect_equal(attr(scores, "frame"), c(0L, 15L))
  err <- expect_error(video_scores(test_video(), classes, nframes = 100, local_model_path = tiny_model()),
                      class = "transforemotion_python_error")
  expect_match(conditionMessage(err), "30 frames")
})

test_that("a video result of face_selection = 'all' plots one panel per person", {
  skip_if_no_python()
  scores <- suppressWarnings(video_scores(test_video(), classes, nframes = 3, ffreq = 10, face_selection = "all",
                                          local_model_path = tiny_model()))
  expect_identical(names(scores)[1:4], c("frame", "time", "person", "face"))
  grDevices::pdf(NULL)
  on.exit(grDevices::dev.off())
  expect_invisible(plot(scores))
})

test_that("people who swap sides keep their person id; persons and person_names choose and name them", {
  skip_if_no_python()
  scores <- video_scores(crossing_video(), classes, nframes = 20, ffreq = 1, face_selection = "all",
                         local_model_path = tiny_model())
  expect_identical(names(scores)[1:4], c("frame", "time", "person", "face"))
  expect_equal(sort(unique(scores$person)), c(0, 1))
  top <- scores$y < 140  # where the clip drew each face: the top one walks right, the bottom one left
  expect_true(all(scores$person[top] == 0) && all(scores$person[!top] == 1))
  # the left-to-right rank swaps as they pass each other
  expect_equal(unique(scores$face[top]), c(0, 1))
  expect_equal(as.vector(table(scores$frame)), rep(2L, 20))

  named <- video_scores(crossing_video(), classes, nframes = 20, ffreq = 1, face_selection = "all", persons = 1,
                        person_names = c(`0` = "walking right"), local_model_path = tiny_model())
  expect_identical(named$person, rep("walking right", 20))
  expect_equal(named$x, scores$x[top])
  expect_equal(as.matrix(named[classes]), as.matrix(scores[top, classes]), ignore_attr = TRUE)
  # one panel per person, on one time axis
  panels <- panels_drawn(function() plot(scores))
  expect_identical(vapply(panels, `[[`, "", "main"), paste0("Emotion scores over the video: person ", 0:1))
  expect_equal(panels[[1]]$at, panels[[2]]$at)
  expect_error(video_scores(crossing_video(), classes, persons = 2, local_model_path = tiny_model()),
               "face_selection = \"all\"", class = "transforemotion_argument_error")
})

test_that("list_vision_models says what each model needs and whether this machine has it", {
  skip_if_no_python()
  models <- list_vision_models()
  expect_type(models$gpu, "logical")
  expect_type(models$memory_gb, "double")
  expect_type(models$available, "logical")
  expect_type(models$reason, "character")
  row <- function(name) models[models$name == name, ]
  expect_false(row("oai-base")$gpu)
  expect_true(row("oai-base")$available)
  expect_identical(row("oai-base")$reason, "")
  expect_true(row("eva-8B")$gpu)
  expect_identical(row("jina-v2")$packages, "einops, timm, torchvision")
  expect_identical(row("jina-v2")$transformers, ">=4.52,<5")
  # What is missing is said whenever a model cannot run here.
  expect_true(all(nzchar(models$reason[!models$available])))
  # A registered folder's memory comes from its weights; unknown is NA, not NULL.
  updated <- register_vision_model("tiny-needs", tiny_model())
  expect_true(updated$memory_gb[updated$name == "tiny-needs"] > 0)
  all_models <- register_vision_model("unknown-size", "someorg/some-clip")
  expect_true(is.na(all_models$memory_gb[all_models$name == "unknown-size"]))
  expect_true(all_models$available[all_models$name == "unknown-size"])
})
