#' Plot emotion scores over a video
#'
#' One line per label: its score in each sampled frame, against time in
#' seconds. Frames where no face was found leave a gap in the lines and are
#' marked with grey ticks along the bottom. The legend sits to the right of
#' the plot, outside the lines. A result of `face_selection = "all"` gets
#' one panel per face index (face 0 is the leftmost face in each frame), or
#' per person when the result has a `person` column, all over the video's
#' whole time axis; no line joins two faces.
#'
#' @param x A result of [video_scores()].
#' @param y Unused.
#' @param col Line colours, one per label; by default a colour-blind-friendly
#'   palette.
#' @param lty,lwd Line type and width, recycled over labels.
#' @param xlab,ylab,main Axis labels and title. The title is by default
#'   "Emotion scores over the video", or "Valence, arousal and dominance over
#'   the video" for a result of [vad_scores()].
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
                              ylab = "Score", main = NULL, ...) {
  df <- as.data.frame(unclass(x), check.names = FALSE, optional = TRUE)
  if (is.null(main)) main <- video_title(df)
  draw_videos(list(video_panels(df, attr(x, "time"), attr(x, "frame"), main)), col, lty, lwd, xlab, ylab, ...)
  invisible(x)
}

#' Plot the scores of a corpus over time
#'
#' What [plot.video_scores()] draws for one video, for each video of a
#' corpus read with [read_corpus()]: each label's score against time, one
#' panel per video, and within a video one panel per person (a `person`
#' column) or else per face (`face_selection = "all"`), the panels of one
#' video sharing its time axis. Images (rows without a time) are left out.
#'
#' @param x A result of [read_corpus()].
#' @param y Unused.
#' @param videos Which videos to draw: values of the `id` column (when the
#'   manifest had ids) or else of `source`. `NULL` draws them all, up to
#'   `max_panels` panels, and says which were left out.
#' @param max_panels The most panels drawn on one page when `videos` is
#'   `NULL`.
#' @param xlab,ylab Axis labels (by default the time axis says what it
#'   counts: seconds, frames or rows).
#' @inheritParams plot.video_scores
#' @returns `x`, invisibly.
#' @seealso [read_corpus()], [plot.video_scores()]
#' @examples
#' # A made-up corpus with the same shape as read_corpus() gives:
#' corpus <- data.frame(source = c("a.mp4", "a.mp4", "a.mp4", "b.mp4", "b.mp4", "face.jpg"),
#'                      frame = c(0, 15, 30, 0, 15, NA), time = c(0, 0.5, 1, 0, 0.5, NA),
#'                      joy = c(0.7, 0.6, 0.2, 0.1, 0.3, 0.9), anger = c(0.3, 0.4, 0.8, 0.9, 0.7, 0.1))
#' class(corpus) <- c("corpus_scores", "data.frame")
#' plot(corpus)
#' @export
plot.corpus_scores <- function(x, y, videos = NULL, max_panels = 8, col = NULL, lty = 1, lwd = 2, xlab = NULL,
                               ylab = "Score", ...) {
  df <- as.data.frame(unclass(x), check.names = FALSE, optional = TRUE)
  key <- intersect(c("id", "source"), names(df))[1]
  if (is.na(key) || !"time" %in% names(df)) {
    stop("This is not a result of read_corpus(): it has no `source` (or `id`) and `time` columns.", call. = FALSE)
  }
  moving <- !is.na(df$time)
  found <- unique(as.character(df[[key]][moving]))
  if (length(found) == 0) {
    stop("There is nothing to plot over time: the corpus holds no video rows (only images).", call. = FALSE)
  }
  if (!is.null(videos)) {
    if (!is.character(videos) || anyNA(videos) || length(videos) == 0) {
      arg_error("`videos` must be NULL or a character vector of values of the `", key, "` column; got ",
                describe(videos), ".")
    }
    unknown <- setdiff(videos, found)
    if (length(unknown) > 0) {
      arg_error("`videos`: no video ", paste0("\"", unknown, "\"", collapse = ", "), " in the corpus. Its videos ",
                "(`", key, "`) are ", paste0("\"", utils::head(found, 10), "\"", collapse = ", "),
                if (length(found) > 10) ", ..." else "", ".")
    }
  }
  max_panels <- as_whole(max_panels, "max_panels")
  if (max_panels < 1) arg_error("`max_panels` must be at least 1, not ", max_panels, ".")
  panels <- lapply(videos %||% found, function(v) {
    rows <- moving & as.character(df[[key]]) == v
    video_panels(df[rows, , drop = FALSE], NULL, NULL, v)
  })
  if (is.null(videos)) {
    fits <- cumsum(vapply(panels, function(p) length(p$panels), integer(1))) <= max_panels
    fits[1] <- TRUE
    if (!all(fits)) {
      message("Drawing ", sum(fits), " of the ", length(found), " videos (", max_panels, " panels at most); ",
              "choose others with plot(x, videos = c(...)).")
      panels <- panels[fits]
    }
  }
  draw_videos(panels, col, lty, lwd, xlab, ylab, ...)
  invisible(x)
}

# One video's panels: the time (or frame, or row) of each row, the scores,
# and per panel its rows, which of them had no face, and its title. With a
# `person` (else `face`) column, one panel per person (face) over the
# video's whole time range, with NA where that person was not seen so that
# no line bridges frames in which it was absent.
# The default title: a vad_scores() result's columns are the VAD dimensions, not emotions.
video_title <- function(df) {
  labels <- setdiff(names(df), METADATA_COLUMNS)
  vad <- length(labels) > 0 && all(labels %in% c("valence", "arousal", "dominance"))
  if (vad) "Valence, arousal and dominance over the video" else "Emotion scores over the video"
}

video_panels <- function(df, time, frame, main) {
  labels <- setdiff(names(df), METADATA_COLUMNS)
  n <- nrow(df)
  if (n == 0 || length(labels) == 0) stop("There is nothing to plot: the result has no frames.", call. = FALSE)
  scores <- as.matrix(df[labels])
  time <- if ("time" %in% names(df)) df$time else time
  frame <- if ("frame" %in% names(df)) df$frame else frame
  # Subsetting a data frame drops the attributes; fall back to what is left.
  if (is.numeric(time) && length(time) == n && !all(is.na(time))) {
    at <- time
    xlab <- "Time (seconds)"
  } else if (is.numeric(frame) && length(frame) == n) {
    at <- frame
    xlab <- "Frame"
  } else {
    at <- seq_len(n)
    xlab <- "Sampled frame"
  }
  xlim <- range(at, finite = TRUE)
  who <- intersect(c("person", "face"), names(df))[1]
  groups <- if (is.na(who)) NULL else sort(unique(stats::na.omit(df[[who]])))
  if (length(groups) == 0) {
    return(list(xlab = xlab, xlim = xlim, panels = list(
      list(at = at, scores = scores, no_face = rep(FALSE, n), main = main))))
  }
  # face_selection = "all": frames without any face are marked in every panel.
  grid <- sort(unique(at[!is.na(at)]))
  faceless <- grid %in% at[is.na(df[[who]])]
  panels <- lapply(groups, function(g) {
    rows <- which(df[[who]] %in% g & !is.na(at))
    on_grid <- matrix(NA_real_, length(grid), length(labels), dimnames = list(NULL, labels))
    on_grid[match(at[rows], grid), ] <- scores[rows, , drop = FALSE]
    list(at = grid, scores = on_grid, no_face = faceless, main = sprintf("%s: %s %s", main, who, as.character(g)))
  })
  list(xlab = xlab, xlim = xlim, panels = panels)
}

# Draws the panels of one or more videos, one above the other, with the
# legend right of each and the user's graphics settings restored after.
draw_videos <- function(videos, col, lty, lwd, xlab, ylab, ...) {
  labels <- colnames(videos[[1]]$panels[[1]]$scores)
  col <- col %||% grDevices::hcl.colors(max(length(labels), 2), "Dark 3")[seq_along(labels)]

  # Widen the right margin just enough for the longest label, then restore
  # the user's settings.
  old <- graphics::par(mar = graphics::par("mar"), xpd = graphics::par("xpd"), mfrow = graphics::par("mfrow"))
  on.exit(graphics::par(old), add = TRUE)
  room <- max(graphics::strwidth(c(labels, "no face"), units = "inches")) / graphics::par("csi")
  mar <- graphics::par("mar")
  graphics::par(mar = c(mar[1:3], max(mar[4], room + 5)))
  count <- sum(vapply(videos, function(v) length(v$panels), integer(1)))
  if (count > 1) graphics::par(mfrow = c(count, 1))
  for (video in videos) {
    for (panel in video$panels) {
      draw_scores_panel(panel$at, panel$scores, panel$no_face, col, lty, lwd, xlab %||% video$xlab, ylab,
                        panel$main, xlim = video$xlim, ...)
    }
  }
}

# Columns of our results that describe a picture or a face, not a label.
METADATA_COLUMNS <- c("image", "image_id", "source", "id", "frame", "time", "face", "person",
                      "x", "y", "width", "height", "confidence")

draw_scores_panel <- function(at, scores, no_face, col, lty, lwd, xlab, ylab, main, xlim = NULL, ...) {
  labels <- colnames(scores)
  scores[no_face, ] <- NA
  # A user's type = "b" (documented) replaces the lines, and is not given twice.
  dots <- list(...)
  type <- dots$type %||% "l"
  dots$type <- NULL
  do.call(graphics::matplot, c(list(
    at, scores, type = type, pch = 19, col = col, lty = lty, lwd = lwd, ylim = c(0, 1),
    xlim = if (is.null(xlim) || !all(is.finite(xlim))) NULL else xlim, xlab = xlab, ylab = ylab, main = main
  ), dots))
  # A score with no neighbour to join (one frame, or one between two gaps) draws no line: mark it.
  if (type == "l") {
    for (j in seq_len(ncol(scores))) {
      seen <- !is.na(scores[, j])
      alone <- seen & !c(FALSE, utils::head(seen, -1)) & !c(utils::tail(seen, -1), FALSE)
      if (any(alone)) graphics::points(at[alone], scores[alone, j], pch = 19, col = rep_len(col, ncol(scores))[j])
    }
  }
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
