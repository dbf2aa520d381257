#' Plot emotion scores over a video
#'
#' One line per label: its score in each sampled frame, against time in
#' seconds. Frames where no face was found leave a gap in the lines and are
#' marked with grey ticks along the bottom. The legend sits to the right of
#' the plot, outside the lines. A result of `face_selection = "all"` gets
#' one panel per face index (face 0 is the leftmost face in each frame).
#'
#' @param x A result of [video_scores()].
#' @param y Unused.
#' @param col Line colours, one per label; by default a colour-blind-friendly
#'   palette.
#' @param lty,lwd Line type and width, recycled over labels.
#' @param xlab,ylab,main Axis labels and title.
#' @param ... Passed on to [graphics::matplot()], e.g. `type = "b"` for
#'   points and lines.
#' @returns `x`, invisibly.
#' @seealso [video_scores()]
#' @examples
#' # A made-up result with the same shape as video_scores() gives:
#' scores <- data.frame(joy = c(0.7, 0.6, NA, 0.2), anger = c(0.2, 0.3, NA, 0.7),
#'                      surprise = c(0.1, 0.1, NA, 0.1))
#' attr(scores, "time") <- c(0, 0.5, 1, 1.5)
#' class(scores) <- c("video_scores", "data.frame")
#' plot(scores)
#' @export
plot.video_scores <- function(x, y, col = NULL, lty = 1, lwd = 2, xlab = NULL,
                              ylab = "Score", main = "Emotion scores over the video", ...) {
  df <- as.data.frame(unclass(x), check.names = FALSE, optional = TRUE)
  labels <- setdiff(names(df), METADATA_COLUMNS)
  n <- nrow(df)
  if (n == 0 || length(labels) == 0) stop("There is nothing to plot: the result has no frames.", call. = FALSE)
  scores <- as.matrix(df[labels])
  time <- if ("time" %in% names(df)) df$time else attr(x, "time")
  frame <- if ("frame" %in% names(df)) df$frame else attr(x, "frame")
  # Subsetting a data frame drops the attributes; fall back to what is left.
  if (is.numeric(time) && length(time) == n && !all(is.na(time))) {
    at <- time
    xlab <- xlab %||% "Time (seconds)"
  } else if (is.numeric(frame) && length(frame) == n) {
    at <- frame
    xlab <- xlab %||% "Frame"
  } else {
    at <- seq_len(n)
    xlab <- xlab %||% "Sampled frame"
  }
  col <- col %||% grDevices::hcl.colors(max(length(labels), 2), "Dark 3")[seq_along(labels)]

  # Widen the right margin just enough for the longest label, then restore
  # the user's settings.
  old <- graphics::par(mar = graphics::par("mar"), xpd = graphics::par("xpd"), mfrow = graphics::par("mfrow"))
  on.exit(graphics::par(old), add = TRUE)
  room <- max(graphics::strwidth(c(labels, "no face"), units = "inches")) / graphics::par("csi")
  mar <- graphics::par("mar")
  graphics::par(mar = c(mar[1:3], max(mar[4], room + 5)))

  # face_selection = "all": one panel per face index; frames without any face
  # are marked in every panel.
  faces <- if ("face" %in% names(df)) sort(unique(stats::na.omit(df$face))) else numeric()
  if (length(faces) == 0) {
    draw_scores_panel(at, scores, rep(FALSE, n), col, lty, lwd, xlab, ylab, main, ...)
  } else {
    graphics::par(mfrow = c(length(faces), 1))
    faceless <- is.na(df$face)
    for (f in faces) {
      rows <- which(df$face %in% f | faceless)
      draw_scores_panel(at[rows], scores[rows, , drop = FALSE], faceless[rows], col, lty, lwd, xlab, ylab,
                        sprintf("%s: face %d", main, as.integer(f)), ...)
    }
  }
  invisible(x)
}

# Columns of our results that describe a picture or a face, not a label.
METADATA_COLUMNS <- c("image", "image_id", "source", "id", "frame", "time", "face",
                      "x", "y", "width", "height", "confidence")

draw_scores_panel <- function(at, scores, no_face, col, lty, lwd, xlab, ylab, main, ...) {
  labels <- colnames(scores)
  scores[no_face, ] <- NA
  graphics::matplot(
    at, scores, type = if (sum(!no_face) == 1) "p" else "l", pch = 19, col = col,
    lty = lty, lwd = lwd, ylim = c(0, 1), xlab = xlab, ylab = ylab, main = main, ...
  )
  gaps <- no_face | rowSums(!is.na(scores)) == 0
  if (any(gaps)) graphics::rug(at[gaps], col = "grey60", lwd = 2)

  usr <- graphics::par("usr")
  graphics::par(xpd = TRUE)
  graphics::legend(
    x = usr[2] + 0.02 * (usr[2] - usr[1]), y = usr[4],
    legend = c(labels, if (any(gaps)) "no face"),
    col = c(rep_len(col, length(labels)), if (any(gaps)) "grey60"),
    lty = c(rep_len(lty, length(labels)), if (any(gaps)) 1),
    lwd = c(rep_len(lwd, length(labels)), if (any(gaps)) 2),
    bty = "n", xjust = 0, yjust = 1
  )
  graphics::par(xpd = FALSE)
}
