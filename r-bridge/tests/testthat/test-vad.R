# vad_scores() and map_discrete_to_vad(): transforEmotion's arguments and
# checks (no Python needed), then scores through real reticulate with the
# tiny random-weight model, compared with transforEmotion's own method (one
# two-label image_scores() per dimension) and with weighted means worked by
# hand from a small lexicon written here.

face <- system.file("extdata", "face.jpg", package = "transforEmotionBridge")
ns <- asNamespace("transforEmotionBridge")

test_that("the formals are transforEmotion's, with our options after its `...`", {
  peer <- alist(input = , input_type = "auto", dimensions = c("valence", "arousal", "dominance"),
                label_type = "definitional", custom_labels = NULL, model = "auto", ... = )
  expect_identical(as.list(formals(vad_scores))[1:7], peer)
  expect_identical(as.list(formals(map_discrete_to_vad)),
                   alist(results = , mapping = "nrc_vad", weighted = TRUE, cache_lexicon = TRUE, vad_lexicon = NULL))
})

test_that("arguments are checked as transforEmotion checks them", {
  expect_error(vad_scores(), "input argument is required")
  expect_error(vad_scores("test text", dimensions = "invalid"), "dimensions must be one or more of")
  expect_error(vad_scores(face, dimensions = character()), "dimensions must be one or more of")
  expect_error(vad_scores("test text", input_type = "invalid"), "'arg' should be one of")
  expect_error(vad_scores("test text", label_type = "invalid"), "'arg' should be one of")
  expect_error(vad_scores("test text", label_type = "custom"), "custom_labels must be provided")
  expect_error(vad_scores(123), "Input must be character")
  expect_error(map_discrete_to_vad(), "results argument is required")
})

test_that("text is refused with the reason, and a misspelt option is not swallowed by `...`", {
  expect_error(vad_scores("I feel great"), "scores faces in images and video; text input is not supported",
               class = "transforemotion_argument_error")
  expect_error(vad_scores(face, input_type = "text"), "text input is not supported")
  expect_error(vad_scores(face, local_model_pth = "x"), "no argument `local_model_pth`")
  expect_error(vad_scores(face, "image", "valence", "simple", NULL, "auto", "extra"), "an unnamed argument")
  expect_error(vad_scores(c(face, "no/such.jpg")), "1 file not found")
  expect_error(map_discrete_to_vad(list(joy = 0.5, anger = 0.5)), "must be a data frame")
  expect_error(map_discrete_to_vad(data.frame(joy = 1), vad_lexicon = 3), "`vad_lexicon` must be a data frame")
})

test_that("the labels and their checks are transforEmotion's", {
  def <- ns$get_vad_definitions()
  expect_named(def, c("valence", "arousal", "dominance"))
  expect_named(def$valence, c("positive", "negative"))
  expect_named(def$dominance, c("high", "low"))
  expect_identical(def$arousal$low, "Low energy emotional state: calm, relaxed, peaceful, subdued, tranquil")
  expect_identical(ns$get_vad_simple_labels()$arousal$high, "excited")
  expect_identical(ns$format_labels_for_classification(def$valence), c(def$valence$positive, def$valence$negative))
  three <- list(valence = list(positive = "happy emotions", negative = "sad emotions"),
                arousal = list(high = "energetic states", low = "calm states"),
                dominance = list(high = "powerful feelings", low = "weak feelings"))
  expect_true(ns$validate_vad_labels(three))
  expect_error(ns$validate_vad_labels("not a list"), "custom_labels must be a list")
  expect_error(ns$validate_vad_labels(three["valence"]), "custom_labels must have elements named")
  # ... but vad_scores() asks only for the dimensions it scores.
  expect_true(ns$validate_vad_labels(three["valence"], dimensions = "valence"))
  expect_error(ns$validate_vad_labels(c(three, list(valnce = list()))), "\"valnce\", which are not dimensions")
  expect_error(ns$validate_vad_labels(modifyList(three, list(valence = list(negative = NULL)))), "must have poles")
  expect_error(ns$validate_vad_labels(modifyList(three, list(arousal = list(high = 123)))),
               "must be a single character string")
  expect_warning(ns$validate_vad_labels(modifyList(three, list(arousal = list(high = "up")))), "very short")
})

test_that("auto-detection follows transforEmotion, and knows folders and video files", {
  expect_identical(ns$detect_input_type("This is some text"), "text")
  expect_identical(ns$detect_input_type(list("image.jpg")), "image")
  expect_identical(ns$detect_input_type("https://www.youtube.com/watch?v=test"), "video")
  expect_identical(ns$detect_input_type("image.PNG"), "image")
  expect_identical(ns$detect_input_type("clip.mp4"), "video")
  expect_identical(ns$detect_input_type(dirname(face)), "image")
  expect_identical(ns$detect_input_type("https://example.org/face.jpg"), "image")
  expect_error(ns$detect_input_type(c("a.jpg", "b.mp4")), "mixes image and video")
})

pair_score <- function(fun, input, labels, dim, ...) {
  poles <- ns$format_labels_for_classification(labels[[dim]])
  fun(input, poles, ...)[[poles[1]]]
}

test_that("each dimension equals transforEmotion's two-label score", {
  skip_if_no_python()
  scores <- vad_scores(face, local_model_path = tiny_model())
  expect_identical(names(scores), c("valence", "arousal", "dominance"))
  for (dim in names(scores)) {
    expect_equal(scores[[dim]], pair_score(image_scores, face, ns$get_vad_definitions(), dim,
                                           local_model_path = tiny_model()), tolerance = 1e-4)
  }
  labels <- list(arousal = list(high = "an excited face", low = "a calm face"))
  custom <- vad_scores(c(face, face), dimensions = "arousal", label_type = "custom", custom_labels = labels,
                       local_model_path = tiny_model())
  expect_identical(names(custom), "arousal")
  expect_equal(custom$arousal, pair_score(image_scores, c(face, face), labels, "arousal",
                                          local_model_path = tiny_model()), tolerance = 1e-4)
})

test_that("every face, a folder, and Python's rules in R's spelling", {
  skip_if_no_python()
  all_faces <- vad_scores(two_faces_image(), dimensions = "valence", face_selection = "all",
                          local_model_path = tiny_model())
  expect_identical(names(all_faces), c("image", "face", "x", "y", "width", "height", "confidence", "valence"))
  expect_equal(all_faces$face, c(0, 1))
  dir <- file.path(tempdir(), "vad-images")
  dir.create(dir, showWarnings = FALSE)
  file.copy(face, file.path(dir, c("a.jpg", "b.jpg")), overwrite = TRUE)
  folder <- vad_scores(dir, dimensions = "dominance", local_model_path = tiny_model())
  expect_identical(names(folder), c("image_id", "dominance"))
  expect_identical(folder$image_id, c("a.jpg", "b.jpg"))
  expect_error(vad_scores(face, nframes = 10, local_model_path = tiny_model()), "nframes = 10 applies to a video only",
               fixed = TRUE)
  expect_error(vad_scores(face, face_selection = "all", persons = 1, local_model_path = tiny_model()),
               "persons = 1 applies to a video only", fixed = TRUE)
  crossing <- vad_scores(crossing_video(), dimensions = "valence", face_selection = "all", nframes = 20, ffreq = 1,
                         person_names = c("top", "bottom"), local_model_path = tiny_model())
  expect_identical(names(crossing)[1:4], c("frame", "time", "person", "face"))
  expect_identical(crossing$person[crossing$y < 140], rep("top", 20))
  expect_error(vad_scores(face, custom_labels = list(valence = list(positive = "good face", negative = "bad face")),
                          local_model_path = tiny_model()), "label_type = \"custom\"", fixed = TRUE)
  warnings <- character()
  withCallingHandlers(
    vad_scores(face, dimensions = "arousal", label_type = "custom",
               custom_labels = list(arousal = list(high = "up", low = "a calm face")), local_model_path = tiny_model()),
    warning = function(w) {
      warnings <<- c(warnings, conditionMessage(w))
      invokeRestart("muffleWarning")
    }
  )
  expect_length(grep("very short", warnings), 1) # once, from Python, not again from R
})

test_that("a video gives one row per sampled frame, with times for plot()", {
  skip_if_no_python()
  expect_warning(scores <- vad_scores(test_video(), nframes = 6, uniform = TRUE, local_model_path = tiny_model()),
                 "No face")
  expect_s3_class(scores, c("video_scores", "data.frame"), exact = TRUE)
  expect_identical(names(scores), c("valence", "arousal", "dominance"))
  expect_equal(nrow(scores), 6)
  time <- attr(scores, "time")
  expect_true(all(diff(time) > 0))
  expect_false(anyNA(scores[time < 1.9, ])) # the face is in the first two seconds only
  expect_true(all(is.na(scores[time >= 2, ])))
  reference <- suppressWarnings(pair_score(video_scores, test_video(), ns$get_vad_definitions(), "arousal",
                                           nframes = 6, uniform = TRUE, local_model_path = tiny_model()))
  expect_equal(scores$arousal, reference, tolerance = 1e-4)
  stamped <- suppressWarnings(vad_scores(test_video(), dimensions = "valence", nframes = 3, ffreq = 5,
                                         timestamps = TRUE, local_model_path = tiny_model()))
  expect_identical(names(stamped), c("frame", "time", "valence"))
  grDevices::pdf(NULL)
  on.exit(grDevices::dev.off())
  expect_invisible(plot(scores, main = "Valence, arousal and dominance"))
})

# Made up for the test, with round numbers; capitalised as textdata::lexicon_nrc_vad() gives them.
lexicon <- data.frame(Word = c("joy", "anger", "fear"), Valence = c(0.9, 0.1, 0.2),
                      Arousal = c(0.6, 0.8, 0.9), Dominance = c(0.7, 0.6, 0.3))

test_that("map_discrete_to_vad gives the hand-computed weighted means", {
  skip_if_no_python()
  results <- data.frame(image_id = c("a.jpg", "b.jpg", "c.jpg"), joy = c(0.5, 0.1, NA), anger = c(0.3, 0.6, NA),
                        fear = c(0.2, 0.3, NA))
  vad <- map_discrete_to_vad(results, vad_lexicon = lexicon)
  expect_identical(names(vad), c("image_id", "valence", "arousal", "dominance"))
  expect_identical(vad$image_id, results$image_id)
  # a: .5*.9 + .3*.1 + .2*.2 = .52; b: .1*.9 + .6*.1 + .3*.2 = .21 (and so on for the others).
  expect_equal(vad$valence, c(0.52, 0.21, NA))
  expect_equal(vad$arousal, c(0.72, 0.81, NA))
  expect_equal(vad$dominance, c(0.59, 0.52, NA))
  file <- tempfile(fileext = ".txt")
  utils::write.table(lexicon, file, sep = "\t", quote = FALSE, row.names = FALSE)
  expect_equal(map_discrete_to_vad(results, vad_lexicon = file), vad)
  top <- map_discrete_to_vad(results, weighted = FALSE, vad_lexicon = lexicon)
  expect_equal(unlist(top[1, c("valence", "arousal", "dominance")]), c(valence = 0.9, arousal = 0.6, dominance = 0.7))
  expect_equal(unlist(top[2, c("valence", "arousal", "dominance")]), c(valence = 0.1, arousal = 0.8, dominance = 0.6))
})

test_that("labels missing from the lexicon are named once; no lexicon says how to get one", {
  skip_if_no_python()
  results <- data.frame(joy = c(0.4, 0.1), anger = c(0.2, 0.15), fear = c(0.2, 0.05), contempt = c(0.2, 0.7))
  expect_warning(vad <- map_discrete_to_vad(results, vad_lexicon = lexicon), "left out: 'contempt'")
  expect_equal(vad$valence[1], 0.5 * 0.9 + 0.25 * 0.1 + 0.25 * 0.2) # renormalised over the three found
  err <- expect_error(map_discrete_to_vad(results), class = "transforemotion_python_error")
  expect_match(conditionMessage(err), "vad_lexicon = textdata::lexicon_nrc_vad()", fixed = TRUE)
  expect_match(conditionMessage(err), "vad_lexicon = \"NRC-VAD-Lexicon.txt\"", fixed = TRUE)
  expect_match(conditionMessage(err), "(a data frame or a CSV/TSV file)", fixed = TRUE)
  expect_no_match(conditionMessage(err), "dict", fixed = TRUE) # a Python word, and R takes no list here
})

test_that("a video result mapped to VAD stays a video result", {
  skip_if_no_python()
  scores <- suppressWarnings(video_scores(test_video(), c("joy", "anger", "fear"), nframes = 6, uniform = TRUE,
                                          local_model_path = tiny_model()))
  vad <- map_discrete_to_vad(scores, vad_lexicon = lexicon)
  expect_s3_class(vad, "video_scores")
  expect_identical(attr(vad, "time"), attr(scores, "time"))
  expect_equal(vad$valence, as.vector(as.matrix(scores) %*% lexicon$Valence))
})

test_that("corpus_vad_scores gives each video's vad_scores, and a rerun reads it back", {
  skip_if_no_python()
  folder <- file.path(tempdir(), "vad-corpus-in")
  dir.create(folder, showWarnings = FALSE)
  file.copy(test_video(), file.path(folder, "clip.avi"), overwrite = TRUE)
  out <- tempfile("vad-corpus-")
  table <- suppressWarnings(corpus_vad_scores(folder, out, dimensions = c("valence", "arousal"), nframes = 3,
                                              ffreq = 10, local_model_path = tiny_model(), progress = FALSE))
  expect_s3_class(table, "corpus_scores")
  expect_identical(names(table), c("source", "frame", "time", "valence", "arousal"))
  expect_identical(table$frame, c(0L, 10L, 20L))
  one <- suppressWarnings(vad_scores(test_video(), dimensions = c("valence", "arousal"), nframes = 3, ffreq = 10,
                                     timestamps = TRUE, local_model_path = tiny_model()))
  expect_equal(table$valence, one$valence, tolerance = 1e-5)
  again <- suppressWarnings(corpus_vad_scores(folder, out, dimensions = c("valence", "arousal"), nframes = 3,
                                              ffreq = 10, local_model_path = tiny_model(), progress = FALSE))
  expect_equal(again, table)
  expect_error(corpus_vad_scores(folder, out, 4), "must be one or more of")
  expect_error(corpus_vad_scores(folder, out, nfames = 3), "does not take nfames", class = "transforemotion_input_error")
  expect_error(corpus_vad_scores(folder, out, "valence", "definitional", NULL, 3), "must be named")
})
