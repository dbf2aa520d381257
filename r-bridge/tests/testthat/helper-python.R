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

# The face photo twice, side by side, the right copy at half size: a picture with two faces.
two_faces_image <- function() {
  if (is.null(fixtures$two_faces)) {
    path <- file.path(tempdir(), "two_faces.png")
    code <- sprintf(paste(
      "import cv2, numpy as np",
      "face = cv2.imread(%s)",
      "small = cv2.resize(face, None, fx=0.5, fy=0.5)",
      "canvas = np.full((360, 900, 3), 200, np.uint8)",
      "canvas[10:10 + face.shape[0], 20:20 + face.shape[1]] = face",
      "canvas[60:60 + small.shape[0], 600:600 + small.shape[1]] = small",
      "cv2.imwrite(%s, canvas)",
      sep = "\n"
    ), deparse(face_image()), deparse(path))
    reticulate::py_run_string(code, local = TRUE)
    fixtures$two_faces <- path
  }
  fixtures$two_faces
}

# Two people crossing: the face photo in the top half walks from left to right, its mirror image in the
# bottom half from right to left (2 s at 10 fps, 20 frames), so the faces swap sides. The top face is the
# first person seen from the left: person 0 in every frame, whatever its left-to-right rank.
crossing_video <- function() {
  if (is.null(fixtures$crossing)) {
    path <- file.path(tempdir(), "crossing.avi")
    code <- sprintf(paste(
      "import cv2, numpy as np",
      "face = cv2.resize(cv2.imread(%s), (104, 120))",
      "other = cv2.flip(face, 1)",
      "writer = cv2.VideoWriter(%s, cv2.VideoWriter_fourcc(*'MJPG'), 10, (640, 280))",
      "for i in range(20):",
      "    canvas = np.full((280, 640, 3), 200, np.uint8)",
      "    canvas[10:130, 20 + 25 * i:124 + 25 * i] = face",
      "    canvas[150:270, 516 - 25 * i:620 - 25 * i] = other",
      "    writer.write(canvas)",
      "writer.release()",
      sep = "\n"
    ), deparse(face_image()), deparse(path))
    reticulate::py_run_string(code, local = TRUE)
    fixtures$crossing <- path
  }
  fixtures$crossing
}

# A dyad and a passer-by seen between them (2 s at 10 fps, 20 frames): the face photo sits on the left
# throughout (person 0), its mirror image on the right for frames 0-5 only (person 1, the passer-by), and
# a smaller copy sits in the middle from frame 4 on (person 2). The two seen longest are persons 0 and 2.
passer_by_video <- function() {
  made_by_python("passer_by", "passer_by.avi", c(
    "import cv2, numpy as np",
    "face = cv2.resize(cv2.imread(%s), (104, 120))",
    "other, third = cv2.flip(face, 1), cv2.resize(face, (88, 100))",
    "writer = cv2.VideoWriter(%s, cv2.VideoWriter_fourcc(*'MJPG'), 10, (640, 280))",
    "for i in range(20):",
    "    canvas = np.full((280, 640, 3), 200, np.uint8)",
    "    canvas[40:160, 20:124] = face",
    "    if i < 6: canvas[20:140, 516:620] = other",
    "    if i >= 4: canvas[150:250, 280:368] = third",
    "    writer.write(canvas)",
    "writer.release()"))
}

# A fixture file made once per session by Python `lines` (a template with %s for the face photo's path
# and then the file's), kept in `fixtures[[key]]`.
made_by_python <- function(key, file, lines) {
  if (is.null(fixtures[[key]])) {
    path <- file.path(tempdir(), file)
    reticulate::py_run_string(sprintf(paste(lines, collapse = "\n"), deparse(face_image()), deparse(path)),
                              local = TRUE)
    fixtures[[key]] <- path
  }
  fixtures[[key]]
}
