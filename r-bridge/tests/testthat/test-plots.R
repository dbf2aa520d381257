# plot() of video_scores() and read_corpus() results, on made-up results with
# the shapes those functions give (no Python needed).

# Two faces at 0 s and 2 s, none at 1 s, and face 1 alone (face 0 gone) at 3 s.
faces_result <- function() {
  scores <- data.frame(frame = c(0, 0, 10, 20, 20, 30), time = c(0, 0, 1, 2, 2, 3), face = c(0, 1, NA, 0, 1, 0),
                       joy = c(0.7, 0.2, NA, 0.6, 0.3, 0.5), anger = c(0.3, 0.8, NA, 0.4, 0.7, 0.5))
  class(scores) <- c("video_scores", "data.frame")
  scores
}

test_that("per-face panels share one time axis, and a face's line breaks where it was not seen", {
  result <- faces_result()
  result$face[6] <- 1 # at 3 s only face 1 is there
  panels <- panels_drawn(function() plot(result))
  expect_equal(vapply(panels, `[[`, "", "main"),
               c("Emotion scores over the video: face 0", "Emotion scores over the video: face 1"))
  expect_equal(panels[[1]]$xrange, panels[[2]]$xrange) # the same time axis in every panel
  expect_equal(panels[[1]]$at, c(0, 1, 2, 3))
  expect_equal(unname(panels[[1]]$scores[, "joy"]), c(0.7, NA, 0.6, NA)) # face 0: gone at 3 s, a gap
  expect_equal(unname(panels[[2]]$scores[, "joy"]), c(0.2, NA, 0.3, 0.5))
})

test_that("a person column is used before face, and is no label", {
  result <- faces_result()
  result$person <- c(7, 3, NA, 3, 7, 7) # the two people swap places at 2 s
  panels <- panels_drawn(function() plot(result))
  expect_equal(vapply(panels, `[[`, "", "main"),
               c("Emotion scores over the video: person 3", "Emotion scores over the video: person 7"))
  expect_equal(colnames(panels[[1]]$scores), c("joy", "anger"))
  expect_equal(unname(panels[[1]]$scores[, "joy"]), c(0.2, NA, 0.6, NA))
  expect_equal(unname(panels[[2]]$scores[, "joy"]), c(0.7, NA, 0.3, 0.5))
})

test_that("a user's type = 'b' reaches matplot once", {
  expect_length(panels_drawn(function() plot(faces_result(), type = "b")), 2)
})

made_up_corpus <- function() {
  corpus <- data.frame(
    source = c("a.mp4", "a.mp4", "a.mp4", "b.mp4", "b.mp4", "b.mp4", "b.mp4", "face.jpg"),
    frame = c(0L, 15L, 30L, 0L, 0L, 15L, 15L, NA), time = c(0, 0.5, 1, 0, 0, 0.5, 0.5, NA),
    face = c(0L, 0L, 0L, 0L, 1L, 0L, 1L, NA),
    joy = c(0.7, 0.6, 0.2, 0.1, 0.8, 0.3, 0.9, 0.9), anger = c(0.3, 0.4, 0.8, 0.9, 0.2, 0.7, 0.1, 0.1)
  )
  class(corpus) <- c("corpus_scores", "data.frame")
  corpus
}

test_that("plot of a corpus draws each video over time, per face, and leaves images out", {
  one_face <- data.frame(source = c("a.mp4", "a.mp4", "a.mp4", "b.mp4", "b.mp4", "face.jpg"),
                         frame = c(0L, 15L, 30L, 0L, 15L, NA), time = c(0, 0.5, 1, 0, 0.5, NA),
                         joy = c(0.7, 0.6, 0.2, 0.1, 0.3, 0.9), anger = c(0.3, 0.4, 0.8, 0.9, 0.7, 0.1))
  class(one_face) <- c("corpus_scores", "data.frame")
  panels <- panels_drawn(function() expect_invisible(plot(one_face)))
  expect_equal(vapply(panels, `[[`, "", "main"), c("a.mp4", "b.mp4"))
  expect_equal(panels[[1]]$at, c(0, 0.5, 1))
  expect_equal(unname(panels[[2]]$scores[, "anger"]), c(0.9, 0.7))

  panels <- panels_drawn(function() plot(made_up_corpus()))
  expect_equal(vapply(panels, `[[`, "", "main"), c("a.mp4: face 0", "b.mp4: face 0", "b.mp4: face 1"))
  expect_equal(unname(panels[[3]]$scores[, "joy"]), c(0.8, 0.9))
  expect_equal(panels[[2]]$xrange, panels[[3]]$xrange) # one time axis within a video
})

test_that("plot of a corpus picks videos, and says when it leaves some out", {
  panels <- panels_drawn(function() plot(made_up_corpus(), videos = "b.mp4"))
  expect_equal(vapply(panels, `[[`, "", "main"), c("b.mp4: face 0", "b.mp4: face 1"))
  expect_message(panels <- panels_drawn(function() plot(made_up_corpus(), max_panels = 2)),
                 "Drawing 1 of the 2 videos")
  expect_length(panels, 1)
  expect_error(plot(made_up_corpus(), videos = "c.mp4"), "no video \"c.mp4\" in the corpus",
               class = "transforemotion_argument_error")
  images_only <- made_up_corpus()[8, ]
  expect_error(plot(images_only), "no video rows")
})

test_that("a vad_scores() result is titled for valence, arousal and dominance, not emotions", {
  vad <- data.frame(frame = c(0, 10), time = c(0, 1), valence = c(0.6, 0.4), arousal = c(0.5, 0.7),
                    dominance = c(0.5, 0.5))
  class(vad) <- c("video_scores", "data.frame")
  panels <- panels_drawn(function() plot(vad))
  expect_equal(vapply(panels, `[[`, "", "main"), "Valence, arousal and dominance over the video")
})
