# embed_images(), embed_dir(), embed_video(), rescore(), save_embeddings(), load_embeddings(), rescore_corpus():
# the R objects, and rescores equal to fresh scoring runs.

new_labels <- c("calm", "very tense", "bored")

test_that("embedding functions check types, lengths and NA before calling Python", {
  expect_error(embed_images(NA_character_), "`image`", class = "transforemotion_argument_error")
  expect_error(embed_images("face.jpg", face_boxes = NA), "`image`|`face_boxes`")
  expect_error(embed_dir(file.path(tempdir(), "no-such-folder")), "`dir` must be an existing folder")
  expect_error(embed_video(c("a.mp4", "b.mp4")), "one path")
  expect_error(rescore(list(rows = data.frame()), c("joy", "anger")), "`embeddings` must be the result of")
  expect_error(save_embeddings(list(), NA_character_), "`path`")
  expect_error(load_embeddings(c("a", "b")), "`path`")
  expect_error(rescore_corpus(tempdir(), c("joy", NA)), "`classes`")
  expect_error(rescore_corpus(tempdir(), c("joy", "anger"), overwrite = "yes"), "`overwrite`")
})

test_that("rescore gives image_scores' data frame; the object is a data frame, a matrix and a record", {
  skip_if_no_python()
  images <- c(face_image(), blank_image(), two_faces_image())
  emb <- suppressWarnings(embed_images(images, face_selection = "all", local_model_path = tiny_model()))
  expect_s3_class(emb, "transforemotion_embeddings")
  expect_s3_class(emb$rows, "data.frame")
  expect_identical(names(emb$rows), c("image", "face", "x", "y", "width", "height", "confidence"))
  expect_true(is.matrix(emb$vectors) && is.double(emb$vectors))
  expect_identical(dim(emb$vectors), c(nrow(emb$rows), 16L))
  expect_identical(emb$model$architecture, "clip")
  expect_identical(as.integer(emb$model$dim), 16L)
  ok <- !is.na(emb$vectors[, 1])
  expect_identical(ok, !is.na(emb$rows$face))
  expect_equal(sqrt(rowSums(emb$vectors[ok, , drop = FALSE]^2)), rep(1, sum(ok)), tolerance = 1e-5)

  fresh <- suppressWarnings(image_scores(images, new_labels, face_selection = "all", local_model_path = tiny_model()))
  got <- rescore(emb, new_labels)
  expect_identical(names(got), names(fresh))
  expect_identical(got$image, fresh$image)
  expect_identical(got$face, as.integer(fresh$face))
  expect_equal(as.matrix(got[new_labels]), as.matrix(fresh[new_labels]), tolerance = 1e-5)

  # Rows can be picked, and the picked rows rescore alike.
  two <- emb[ok]
  expect_identical(nrow(two$rows), sum(ok))
  expect_equal(as.matrix(rescore(two, new_labels)[new_labels]), as.matrix(got[ok, new_labels]), ignore_attr = TRUE,
               tolerance = 1e-6)
  expect_output(print(emb), "embeddings: 4 rows \\(3 embedded\\) x 16 dimensions")
})

test_that("one face per image: no row columns, one row per image, as image_scores", {
  skip_if_no_python()
  emb <- suppressWarnings(embed_images(c(face_image(), blank_image()), local_model_path = tiny_model()))
  expect_identical(dim(emb$rows), c(2L, 0L))
  got <- rescore(emb, new_labels, templates = "face")
  fresh <- suppressWarnings(image_scores(c(face_image(), blank_image()), new_labels, templates = "face",
                                         local_model_path = tiny_model()))
  expect_equal(got, fresh, tolerance = 1e-5)
  expect_true(all(is.na(got[2, ])))
})

test_that("embed_dir and embed_video rescore as image_scores_dir and video_scores", {
  skip_if_no_python()
  folder <- file.path(tempdir(), "embed-dir")
  dir.create(folder, showWarnings = FALSE)
  file.copy(face_image(), file.path(folder, "face.jpg"), overwrite = TRUE)
  emb <- embed_dir(folder, local_model_path = tiny_model())
  expect_identical(emb$rows$image_id, "face.jpg")
  expect_equal(rescore(emb, new_labels), image_scores_dir(folder, new_labels, local_model_path = tiny_model()),
               tolerance = 1e-5)

  video <- suppressWarnings(embed_video(test_video(), nframes = 6, ffreq = 5, local_model_path = tiny_model()))
  expect_identical(names(video$rows), character())
  expect_identical(video$frame, seq(0L, 25L, by = 5L))
  got <- rescore(video, new_labels)
  fresh <- suppressWarnings(video_scores(test_video(), new_labels, nframes = 6, ffreq = 5,
                                         local_model_path = tiny_model()))
  expect_s3_class(got, "video_scores")
  expect_equal(got, fresh, tolerance = 1e-5)
  expect_identical(attr(got, "time"), attr(fresh, "time"))
})

test_that("saved embeddings load back the same, and float16 files are close", {
  skip_if_no_python()
  emb <- suppressWarnings(embed_images(c(face_image(), blank_image(), two_faces_image()), face_selection = "all",
                                       local_model_path = tiny_model()))
  file <- file.path(tempdir(), "emb.parquet")
  expect_identical(save_embeddings(emb, file), file)
  back <- load_embeddings(file)
  expect_identical(back$rows, emb$rows)
  expect_identical(back$vectors, emb$vectors)
  expect_equal(back$model, emb$model)
  half <- load_embeddings(save_embeddings(emb, file.path(tempdir(), "half.parquet"), precision = "float16"))
  expect_equal(as.matrix(rescore(half, new_labels)[new_labels]), as.matrix(rescore(emb, new_labels)[new_labels]),
               tolerance = 1e-3)
  expect_error(save_embeddings(emb, file, precision = "float64"), "precision", class = "transforemotion_argument_error")
  broken <- file.path(tempdir(), "broken.parquet")
  writeLines("not parquet", broken)
  expect_error(load_embeddings(broken), "broken.parquet cannot be read as Parquet",
               class = "transforemotion_argument_error")
})

test_that("another model is refused, naming both", {
  skip_if_no_python()
  other <- file.path(tempdir(), "other-clip")
  reticulate::import("transforemotion.testing")$build_tiny_clip(other, seed = 5L)
  emb <- embed_images(face_image(), local_model_path = tiny_model())
  expect_error(rescore(emb, new_labels, local_model_path = other), "were made by the model",
               class = "transforemotion_argument_error")
})

test_that("corpus_scores keeps embeddings; rescore_corpus equals a fresh corpus_scores", {
  skip_if_no_python()
  folder <- file.path(tempdir(), "kept-in")
  dir.create(folder, showWarnings = FALSE)
  file.copy(test_video(), file.path(folder, "clip.avi"), overwrite = TRUE)
  file.copy(face_image(), file.path(folder, "face.jpg"), overwrite = TRUE)
  kept <- file.path(tempdir(), "kept-out")
  fresh <- file.path(tempdir(), "kept-fresh")
  into <- file.path(tempdir(), "kept-into")
  unlink(c(kept, fresh, into), recursive = TRUE)
  suppressWarnings(corpus_scores(folder, c("joy", "anger"), kept, nframes = 6, ffreq = 5, unit_size = 4,
                                 keep_embeddings = TRUE, local_model_path = tiny_model(), progress = FALSE))
  suppressWarnings(corpus_scores(folder, new_labels, fresh, nframes = 6, ffreq = 5, unit_size = 4,
                                 local_model_path = tiny_model(), progress = FALSE))
  expect_false("embedding" %in% names(read_corpus(kept)))
  got <- rescore_corpus(kept, new_labels, into = into, progress = FALSE)
  want <- read_corpus(fresh)
  expect_identical(names(got), names(want))
  expect_identical(got$source, want$source)
  expect_identical(got$frame, want$frame)
  expect_equal(as.matrix(got[new_labels]), as.matrix(want[new_labels]), tolerance = 1e-5)
  expect_equal(read_corpus(into), got)
  expect_error(rescore_corpus(fresh, new_labels), "without keep_embeddings = TRUE",
               class = "transforemotion_argument_error")
})
