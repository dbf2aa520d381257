# Tests that need Python run against the environment named by
# TRANSFOREMOTION_PYTHON (run-tests.sh points it at the venv the installer
# made) and are skipped without it. Argument checks need no Python.
test_python <- Sys.getenv("TRANSFOREMOTION_PYTHON", "")
if (nzchar(test_python)) Sys.setenv(RETICULATE_PYTHON = test_python)

skip_if_no_python <- function() {
  if (!nzchar(test_python)) skip("TRANSFOREMOTION_PYTHON is not set (no Python environment for the tests)")
  if (!file.exists(test_python)) skip(paste("TRANSFOREMOTION_PYTHON points to a missing file:", test_python))
}

# Fixtures built once per test run, in the session's temporary folder.
fixtures <- new.env(parent = emptyenv())

tiny_model <- function() {
  if (is.null(fixtures$model)) fixtures$model <- tiny_clip_model(file.path(tempdir(), "tiny-clip"))
  fixtures$model
}

face_image <- function() system.file("extdata", "face.jpg", package = "transforEmotionBridge")

# A plain grey picture: no face in it.
blank_image <- function() {
  if (is.null(fixtures$blank)) {
    path <- file.path(tempdir(), "blank.png")
    grDevices::png(path, width = 160, height = 160)
    graphics::par(mar = c(0, 0, 0, 0), bg = "grey70")
    graphics::plot.new()
    grDevices::dev.off()
    fixtures$blank <- path
  }
  fixtures$blank
}

# A 3-second, 10 fps video: the face for 2 seconds, then 1 second of grey.
test_video <- function() {
  if (is.null(fixtures$video)) {
    cv2 <- reticulate::import("cv2", convert = FALSE)
    np <- reticulate::import("numpy", convert = FALSE)
    face <- cv2$resize(cv2$imread(face_image()), reticulate::tuple(208L, 240L))
    grey <- np$full(reticulate::tuple(240L, 208L, 3L), 180L, dtype = "uint8")
    path <- file.path(tempdir(), "clip.avi")
    writer <- cv2$VideoWriter(path, cv2$VideoWriter_fourcc("M", "J", "P", "G"), 10, reticulate::tuple(208L, 240L))
    for (i in 1:30) writer$write(if (i <= 20) face else grey)
    writer$release()
    fixtures$video <- path
  }
  fixtures$video
}

# Runs R code in a fresh R process (so Python is not yet started there) and
# returns its combined output and exit status.
run_r <- function(code, env = character()) {
  script <- tempfile(fileext = ".R")
  writeLines(code, script)
  rscript <- file.path(R.home("bin"), "Rscript")
  out <- suppressWarnings(system2(rscript, shQuote(script), stdout = TRUE, stderr = TRUE, env = env))
  list(output = paste(out, collapse = "\n"), status = attr(out, "status") %||% 0L)
}

`%||%` <- function(x, y) if (is.null(x)) y else x
