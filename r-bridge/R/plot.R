#' Plot emotion scores over a video
#'
#' One line per label: its score in each sampled frame, against time in
#' seconds. Frames where no face was found leave a gap in the lines and are
#' marked with grey ticks along the bottom. The legend sits to the right of
#' the plot, outside the lines.
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
  scores <- as.matrix(as.data.frame(unclass(x), check.names = FALSE, optional = TRUE))
  n <- nrow(scores)
  if (n == 0 || ncol(scores) == 0) stop("There is nothing to plot: the result has no frames.", call. = FALSE)
  time <- attr(x, "time")
  frame <- attr(x, "frame")
  # Subsetting a data frame drops these attributes; fall back to what is left.
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
  labels <- colnames(scores)
  col <- col %||% grDevices::hcl.colors(max(length(labels), 2), "Dark 3")[seq_along(labels)]

  # Widen the right margin just enough for the longest label, then restore
  # the user's settings.
  old <- graphics::par(mar = graphics::par("mar"), xpd = graphics::par("xpd"))
  on.exit(graphics::par(old), add = TRUE)
  room <- max(graphics::strwidth(c(labels, "no face"), units = "inches")) / graphics::par("csi")
  mar <- graphics::par("mar")
  graphics::par(mar = c(mar[1:3], max(mar[4], room + 5)))

  graphics::matplot(
    at, scores, type = if (n == 1) "p" else "l", pch = 19, col = col, lty = lty, lwd = lwd,
    ylim = c(0, 1), xlab = xlab, ylab = ylab, main = main, ...
  )
  no_face <- rowSums(!is.na(scores)) == 0
  if (any(no_face)) graphics::rug(at[no_face], col = "grey60", lwd = 2)

  usr <- graphics::par("usr")
  graphics::par(xpd = TRUE)
  graphics::legend(
    x = usr[2] + 0.02 * (usr[2] - usr[1]), y = usr[4],
    legend = c(labels, if (any(no_face)) "no face"),
    col = c(rep_len(col, length(labels)), if (any(no_face)) "grey60"),
    lty = c(rep_len(lty, length(labels)), if (any(no_face)) 1),
    lwd = c(rep_len(lwd, length(labels)), if (any(no_face)) 2),
    bty = "n", xjust = 0, yjust = 1
  )
  invisible(x)
}
