# People across frames: persons = N and the names of the people kept.

classes <- c("joy", "anger")

test_that("persons = 2 numbers the dyad 0 and 1, so person_names and the renaming idiom name exactly them", {
  skip_if_no_python()
  args <- list(passer_by_video(), classes, nframes = 20, ffreq = 1, face_selection = "all",
               local_model_path = tiny_model(), progress = FALSE)
  everyone <- do.call(video_scores, args)
  expect_equal(sort(unique(everyone$person)), c(0, 1, 2))  # the passer-by is person 1
  warned <- character()
  named <- withCallingHandlers(
    do.call(video_scores, c(args, list(persons = 2, person_names = c("therapist", "client")))),
    warning = function(w) { warned <<- c(warned, conditionMessage(w)); invokeRestart("muffleWarning") })
  expect_identical(grep("person", warned, value = TRUE), character())
  expect_setequal(unique(named$person), c("therapist", "client"))
  numbered <- do.call(video_scores, c(args, list(persons = 2)))
  expect_equal(sort(unique(numbered$person)), c(0, 1))
  renamed <- c("therapist", "client")[numbered$person + 1]
  expect_false(anyNA(renamed))
  expect_identical(renamed, named$person)
})
