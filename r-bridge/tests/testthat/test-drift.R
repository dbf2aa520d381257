# The R functions take every argument the Python functions take, with the
# same names, order and defaults, so that the two cannot drift apart again.

r_default <- function(x) {
  if (is.symbol(x) && identical(as.character(x), "")) return(list(required = TRUE, default = NULL))
  list(required = FALSE, default = eval(x))
}

expect_same_signature <- function(r_function, python_name) {
  bridge <- reticulate::import("transforemotion._bridge")
  te <- reticulate::import("transforemotion")
  py <- bridge$signature_of(reticulate::py_get_attr(te, python_name))
  r <- formals(r_function)
  # vad_scores() keeps transforEmotion's `...` (anything in it is an error); Python has no such argument.
  r <- r[names(r) != "..."]
  expect_identical(names(r), unlist(py$name), label = paste0("R arguments of ", python_name, "()"))
  for (i in seq_along(py$name)) {
    name <- py$name[[i]]
    if (!name %in% names(r)) next
    got <- r_default(r[[name]])
    expect_identical(got$required, py$required[[i]], label = paste0(python_name, "(", name, ") required"))
    want <- py$default[[i]]
    # R passes numbers as doubles; compare values, not storage. A Python tuple arrives as a list.
    if (is.list(want)) want <- unlist(want)
    if (is.numeric(want)) want <- as.numeric(want)
    if (is.numeric(got$default)) got$default <- as.numeric(got$default)
    expect_identical(got$default, want, label = paste0("R default of ", python_name, "(", name, ")"))
  }
}

test_that("R and Python scoring functions have the same arguments and defaults", {
  skip_if_no_python()
  expect_same_signature(image_scores, "image_scores")
  expect_same_signature(image_scores_dir, "image_scores_dir")
  expect_same_signature(video_scores, "video_scores")
  expect_same_signature(register_vision_model, "register_vision_model")
  expect_same_signature(corpus_scores, "score_corpus")
  expect_same_signature(read_corpus, "read_corpus")
})

test_that("R and Python embedding functions have the same arguments and defaults", {
  skip_if_no_python()
  expect_same_signature(embed_images, "embed_images")
  expect_same_signature(embed_dir, "embed_dir")
  expect_same_signature(embed_video, "embed_video")
  expect_same_signature(rescore, "rescore")
  expect_same_signature(save_embeddings, "save_embeddings")
  expect_same_signature(load_embeddings, "load_embeddings")
  expect_same_signature(rescore_corpus, "rescore_corpus")
})

test_that("R and Python evaluation functions have the same arguments and defaults", {
  skip_if_no_python()
  expect_same_signature(evaluate_scores, "evaluate_scores")
  expect_same_signature(evaluate_dir, "evaluate_dir")
})

test_that("R and Python VAD functions have the same arguments, labels and input detection", {
  skip_if_no_python()
  expect_same_signature(vad_scores, "vad_scores")
  expect_same_signature(map_discrete_to_vad, "map_discrete_to_vad")
  expect_same_signature(corpus_vad_scores, "vad_corpus")
  expect_identical(names(formals(vad_scores))[1:7],
                   c("input", "input_type", "dimensions", "label_type", "custom_labels", "model", "..."))
  vad <- reticulate::import("transforemotion.vad")
  expect_identical(transforEmotionBridge:::get_vad_definitions(), vad$DEFINITIONAL_LABELS)
  expect_identical(transforEmotionBridge:::get_vad_simple_labels(), vad$SIMPLE_LABELS)
  inputs <- list("some text", "face.JPG", "clip.mov", "https://example.org/watch?v=1", "https://example.org/a.png?s=2",
                 "http://example.org/b.mp4", "photo.webp", "notes.txt", tempdir(), c("a.jpg", "b.png"))
  for (input in inputs) {
    py_input <- if (length(input) > 1) as.list(input) else input
    expect_identical(transforEmotionBridge:::detect_input_type(input), vad$detect_input_type(py_input),
                     label = paste(input, collapse = ", "))
  }
})

test_that("R checks the shared options Python defines, under the same names and in the same order", {
  skip_if_no_python()
  options <- reticulate::import("transforemotion.core.options")
  engine <- reticulate::import("transforemotion.engine")
  media <- reticulate::import("transforemotion.media")
  checks <- transforEmotionBridge:::option_checks
  expect_identical(names(checks$scoring), unlist(options$option_names(engine$ScoringOptions)))
  expect_identical(names(checks$sampling), unlist(options$option_names(media$FrameSampling)))
  expect_identical(names(checks$saving), unlist(options$option_names(media$SavedFiles)))
})

test_that("each function sends the shared options it has, and a left-out nframes as NULL", {
  sent <- function(nframes = 100, ffreq = 15, face_selection = "largest", device = NULL) {
    c(transforEmotionBridge:::sampling_options(), transforEmotionBridge:::scoring_options())
  }
  left_out <- sent()
  expect_true("nframes" %in% names(left_out))
  expect_null(left_out$nframes)
  expect_identical(sent(nframes = 100)$nframes, 100L)
  expect_identical(names(left_out), c("nframes", "ffreq", "face_selection", "device"))
  expect_identical(sent(ffreq = 5)$ffreq, 5L)
  expect_error(sent(face_selection = NA), class = "transforemotion_argument_error")
  expect_error(sent(ffreq = 1.5), "`ffreq` must be a single whole number")
})
