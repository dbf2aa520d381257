# What plot() drew, panel by panel: each draw_scores_panel() call's title,
# the times and scores it was given, and the x range of the axes it drew.
panels_drawn <- function(draw) {
  grDevices::pdf(NULL)
  on.exit(grDevices::dev.off(), add = TRUE)
  seen <- new.env()
  seen$panels <- list()
  ns <- asNamespace("transforEmotionBridge")
  suppressMessages(trace("draw_scores_panel", where = ns, print = FALSE,
        tracer = bquote(assign("current", list(main = main, at = at, scores = scores), envir = .(seen))),
        exit = bquote({
          panel <- get("current", envir = .(seen))
          panel$xrange <- graphics::par("usr")[1:2]
          assign("panels", c(get("panels", envir = .(seen)), list(panel)), envir = .(seen))
        })))
  on.exit(suppressMessages(untrace("draw_scores_panel", where = ns)), add = TRUE)
  draw()
  seen$panels
}
