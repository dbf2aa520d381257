# Valence, arousal and dominance: transforEmotion's vad_scores() and
# map_discrete_to_vad() for faces. The pole texts, their checks and the
# detection of the input type are kept here under transforEmotion's internal
# names, because its scripts and tests call them; test-drift.R checks that
# they agree with the Python package, which does the scoring.

#' Valence, arousal and dominance of faces
#'
#' transforEmotion's `vad_scores()` for images, folders of images and video.
#' Each dimension is scored as a zero-shot choice between a description of
#' its high pole (positive valence, high arousal, high dominance) and one of
#' its low pole; the score is the probability of the high pole, from 0 to 1.
#'
#' transforEmotion runs one classification per dimension. Here each face is
#' embedded once and all dimensions are scored from that one embedding: the
#' pole texts of every requested dimension are scored together, and each
#' dimension is `p(high) / (p(high) + p(low))`, which equals the two-label
#' score `image_scores(image, c(high, low))[[high]]` exactly.
#'
#' These scores are a contrast between two descriptions, not a calibrated
#' rating: 0.7 means the model finds the face closer to the high description
#' than to the low one, not "70% positive". Check them against human ratings
#' of your own material with [evaluate_scores()] before relying on them.
#'
#' Differences from transforEmotion: text input is refused (this package
#' scores faces); nothing falls back silently from the definitional labels
#' to the simple ones; custom labels are needed for the requested dimensions
#' only; `custom_labels` given with another `label_type` is an error, not
#' ignored; `"auto"` also recognises folders, video files (`.mp4`, `.avi`,
#' ...) and links to image files; the result keeps the columns of the
#' underlying function (`image_id`, `frame`, `time`, `face`, the box) instead
#' of transforEmotion's `input_id`.
#'
#' @param input One image path or URL, several of them, one folder of
#'   images (scored as [image_scores_dir()] does), or one video path or URL.
#' @param input_type `"auto"` (judged by the form of `input`), `"image"` or
#'   `"video"`. `"text"` is refused.
#' @param dimensions One or more of `"valence"`, `"arousal"` and
#'   `"dominance"`; one column each, in this order.
#' @param label_type `"definitional"` (transforEmotion's descriptions of each
#'   pole), `"simple"` (positive/negative, excited/calm, dominant/submissive)
#'   or `"custom"`.
#' @param custom_labels With `label_type = "custom"`: a list with an element
#'   for each requested dimension, e.g. `list(valence = list(positive = "...",
#'   negative = "..."), arousal = list(high = "...", low = "..."), dominance =
#'   list(high = "...", low = "..."))`.
#' @param model `"auto"` (`"oai-base"`, as in transforEmotion) or any model
#'   [image_scores()] takes.
#' @param ... Not used: every option is named below. Anything else here is
#'   an error, so that a misspelt option is not ignored.
#' @param pattern,recursive For a folder, as in [image_scores_dir()].
#' @param nframes,start,end,uniform,ffreq,timestamps,save_video,save_frames,save_dir,video_name,persons,person_names
#'   For a video, as in [video_scores()]. Given for an image, they are an
#'   error.
#' @inheritParams image_scores
#' @returns A `data.frame`: the leading columns of the underlying function
#'   (`image` and the box with `face_selection = "all"`, `image_id` for a
#'   folder, `frame` and `time` for a video with `timestamps = TRUE` or
#'   `"all"`, and `person` for a video with `"all"`), then one numeric column
#'   per dimension; `NA` where no face was
#'   found. For a video, a `"video_scores"` data frame with the attributes
#'   `"frame"` and `"time"`, which [plot()][plot.video_scores] draws over time
#'   (one panel per person with `face_selection = "all"`).
#' @references Russell, J. A. (1980). A circumplex model of affect. Journal of
#'   Personality and Social Psychology, 39(6), 1161-1178.
#' @seealso [map_discrete_to_vad()], [evaluate_scores()], [image_scores()],
#'   [video_scores()]
#' @examples
#' face <- system.file("extdata", "face.jpg", package = "transforEmotionBridge")
#' \donttest{
#' if (python_available()) {
#'   # A tiny model with random weights: no download, meaningless scores.
#'   # For real use, leave out local_model_path (downloads "oai-base" once).
#'   model_dir <- tiny_clip_model()
#'   vad_scores(face, local_model_path = model_dir)
#'   vad_scores(face, dimensions = "valence", label_type = "custom",
#'              custom_labels = list(valence = list(positive = "a smiling, happy face",
#'                                                  negative = "a frowning, unhappy face")),
#'              local_model_path = model_dir)
#' }
#' }
#' @export
vad_scores <- function(input, input_type = "auto", dimensions = c("valence", "arousal", "dominance"),
                       label_type = "definitional", custom_labels = NULL, model = "auto", ...,
                       face_selection = "largest", local_model_path = NULL, face_boxes = FALSE,
                       templates = NULL, batch_size = NULL, device = NULL, progress = NULL,
                       pattern = image_pattern(), recursive = FALSE,
                       nframes = 100, start = 0, end = -1, uniform = FALSE, ffreq = 15, timestamps = FALSE,
                       save_video = FALSE, save_frames = FALSE, save_dir = "temp/", video_name = "temp",
                       persons = NULL, person_names = NULL, face_workers = NULL) {
  if (missing(input)) arg_error("input argument is required")
  check_no_dots(...)
  valid_dimensions <- c("valence", "arousal", "dominance")
  if (!is.character(dimensions) || length(dimensions) == 0 || !all(dimensions %in% valid_dimensions)) {
    arg_error("dimensions must be one or more of: ", paste(valid_dimensions, collapse = ", "),
              "; got ", describe(dimensions), ".")
  }
  dimensions <- unique(dimensions)
  input_type <- match.arg(input_type, c("auto", "text", "image", "video"))
  label_type <- match.arg(label_type, c("definitional", "simple", "custom"))
  if (label_type == "custom") get_vad_labels(label_type, custom_labels, dimensions, warn_short = FALSE)
  if (input_type == "auto") input_type <- detect_input_type(input)
  if (input_type == "text") {
    arg_error("vad_scores() here scores faces in images and video; text input is not supported ",
              "(transforEmotion's vad_scores(input_type = \"text\") scores texts). ", describe(unlist(input)[1]),
              " is not an image or video file path, a folder, or a URL. If it is a picture or a video with an ",
              "unusual extension, say so with input_type = \"image\" or input_type = \"video\".")
  }
  input <- check_input_paths(unlist(input), "input", "file")
  options <- c(sampling_options(), saving_options(), scoring_options())
  video <- input_type == "video"
  check_bool(timestamps, "timestamps")
  result <- do.call(py_call, c(list(
    "vad_scores",
    input = if (length(input) == 1) input else as.list(input), input_type = input_type,
    dimensions = as.list(dimensions), label_type = label_type, custom_labels = custom_labels,
    pattern = check_string(pattern, "pattern"), recursive = check_bool(recursive, "recursive"),
    # For a video the times are always fetched, to keep them as attributes for plot().
    timestamps = if (video) TRUE else timestamps,
    persons = as_optional_whole(persons, "persons"), person_names = check_person_names(person_names)
  ), options))
  scores <- as_scores_frame(result, required = c(if (video) c("frame", "time"), dimensions))
  if (!video) return(scores)
  frame <- scores$frame
  time <- scores$time
  if (!timestamps && face_selection != "all") scores <- scores[setdiff(names(scores), c("frame", "time"))]
  attr(scores, "frame") <- as.integer(frame)
  attr(scores, "time") <- as.numeric(time)
  class(scores) <- c("video_scores", "data.frame")
  scores
}

#' Valence, arousal and dominance from discrete emotion scores
#'
#' transforEmotion's `map_discrete_to_vad()`: turns the scores of discrete
#' emotion labels ([image_scores()], [image_scores_dir()], [video_scores()])
#' into valence, arousal and dominance through a lexicon of words rated on
#' those dimensions, such as the NRC VAD lexicon (Mohammad, 2018).
#'
#' Nothing is downloaded. The NRC VAD lexicon is free for research under its
#' authors' terms, which you accept when you get it: in R,
#' `nrc <- textdata::lexicon_nrc_vad()` downloads it once (interactively,
#' after showing its licence), then pass `vad_lexicon = nrc`; or download it
#' from <https://saifmohammad.com/WebPages/nrc-vad.html> and pass the file,
#' `vad_lexicon = "NRC-VAD-Lexicon.txt"`.
#'
#' Labels are matched to lexicon words ignoring case and surrounding spaces,
#' exactly (transforEmotion also tries partial matches, which can pick an
#' unrelated word). Labels the lexicon lacks are named in one warning and
#' left out: of the weighted mean, and as candidates for the top label.
#'
#' @param results A data frame from [image_scores()], [image_scores_dir()]
#'   or [video_scores()]. Its label columns are the numeric columns other
#'   than `image_id`, `frame`, `time`, `face`, the box and the like.
#' @param mapping `"nrc_vad"`, the only mapping, as in transforEmotion.
#' @param weighted `TRUE`: each row's VAD is the mean of its labels' lexicon
#'   values weighted by their scores (renormalised over the labels found in
#'   the lexicon). `FALSE`: the VAD of the row's top label.
#' @param cache_lexicon `TRUE` keeps a lexicon read from a file for later
#'   calls in this session (read again when the file changes).
#' @param vad_lexicon The lexicon: a data frame with the columns word (or
#'   term), valence, arousal and dominance, in any case (as
#'   `textdata::lexicon_nrc_vad()` returns), or the path of a CSV or
#'   tab-separated file with those columns (such as `NRC-VAD-Lexicon.txt`;
#'   a file without a header is read as those four columns).
#' @returns A `data.frame`: the other columns of `results` (`image_id`,
#'   `frame`, `time`, `face`, ...), then `valence`, `arousal` and `dominance`
#'   on the lexicon's scale; `NA` where a row has no scores. A
#'   `"video_scores"` result stays one, with its `"frame"` and `"time"`
#'   attributes, so [plot()][plot.video_scores] draws it over time.
#' @references Mohammad, S. M. (2018). Obtaining reliable human ratings of
#'   valence, arousal, and dominance for 20,000 English words. Proceedings of
#'   the 56th Annual Meeting of the Association for Computational Linguistics,
#'   174-184.
#' @seealso [vad_scores()]
#' @examples
#' # A made-up lexicon and result, to show the arithmetic:
#' lexicon <- data.frame(word = c("joy", "anger"), valence = c(0.9, 0.1),
#'                       arousal = c(0.6, 0.8), dominance = c(0.7, 0.6))
#' scores <- data.frame(joy = c(0.75, 0.2), anger = c(0.25, 0.8))
#' \donttest{
#' if (python_available()) {
#'   map_discrete_to_vad(scores, vad_lexicon = lexicon)  # valence 0.7 and 0.26
#' }
#' }
#' @export
map_discrete_to_vad <- function(results, mapping = "nrc_vad", weighted = TRUE, cache_lexicon = TRUE,
                                vad_lexicon = NULL) {
  if (missing(results)) arg_error("results argument is required")
  if (!is.data.frame(results)) {
    arg_error("`results` must be a data frame from image_scores(), image_scores_dir() or video_scores(); got ",
              class(results)[1], ". Text scores (transformer_scores()) are not supported: this package scores faces.")
  }
  lexicon <- if (is.null(vad_lexicon)) {
    NULL
  } else if (is.data.frame(vad_lexicon)) {
    frame_to_columns(vad_lexicon)
  } else if (is.character(vad_lexicon) && length(vad_lexicon) == 1 && !is.na(vad_lexicon)) {
    path.expand(vad_lexicon)
  } else {
    arg_error("`vad_lexicon` must be a data frame with the columns word, valence, arousal and dominance ",
              "(such as textdata::lexicon_nrc_vad() returns) or the path of a lexicon file; got ",
              describe(vad_lexicon), ".")
  }
  out <- py_call("map_discrete_to_vad", results = frame_to_columns(results),
                 mapping = check_string(mapping, "mapping"), weighted = check_bool(weighted, "weighted"),
                 cache_lexicon = check_bool(cache_lexicon, "cache_lexicon"), vad_lexicon = lexicon)
  dims <- c("valence", "arousal", "dominance")
  vad <- as_scores_frame(out, required = dims)
  # The columns passed through keep their R types (integers, factors) rather than their round trip.
  keep <- intersect(setdiff(names(vad), dims), names(results))
  vad[keep] <- results[keep]
  if (inherits(results, "video_scores")) {
    attr(vad, "frame") <- attr(results, "frame")
    attr(vad, "time") <- attr(results, "time")
    class(vad) <- c("video_scores", "data.frame")
  }
  vad
}

#' Valence, arousal and dominance of a whole corpus, resumably
#'
#' Scores a corpus of videos and images as [corpus_scores()] does (every
#' finished unit saved at once in `output_dir`; run the same call again to
#' finish a stopped run), against the pole descriptions of `dimensions`, and
#' returns each dimension as the contrast of its two poles, as
#' [vad_scores()] does for one input. Calling it again on a finished folder
#' scores nothing and returns the table.
#'
#' @param inputs,output_dir As in [corpus_scores()].
#' @param dimensions,label_type,custom_labels As in [vad_scores()].
#' @param ... Other options of [corpus_scores()], by name: `nframes`,
#'   `ffreq`, `face_selection`, `engine`, `model`, `local_model_path`,
#'   `templates`, and so on.
#' @returns A `data.frame` as [read_corpus()] gives it, with one column per
#'   dimension (the probability of the high pole against the low one) in
#'   place of the pole descriptions; class `"corpus_scores"`, so that
#'   [plot()][plot.corpus_scores] draws it over time.
#' @seealso [vad_scores()], [corpus_scores()]
#' @examples
#' \donttest{
#' if (python_available()) {
#'   folder <- system.file("extdata", package = "transforEmotionBridge")
#'   corpus_vad_scores(folder, tempfile("vad-"), dimensions = "valence",
#'                     local_model_path = tiny_clip_model())
#' }
#' }
#' @export
corpus_vad_scores <- function(inputs, output_dir, dimensions = c("valence", "arousal", "dominance"),
                              label_type = "definitional", custom_labels = NULL, ...) {
  options <- list(...)
  if (length(options) > 0 && (is.null(names(options)) || any(names(options) == ""))) {
    arg_error("Options in `...` go to corpus_scores() and must be named, for example nframes = 50.")
  }
  if (!is.null(options$templates)) options$templates <- as.list(options$templates)
  if (!is.null(options$local_model_path)) options$local_model_path <- path.expand(options$local_model_path)
  if (!is.character(dimensions) || length(dimensions) == 0 || anyNA(dimensions)) {
    arg_error("`dimensions` must be one or more of valence, arousal, dominance; got ", describe(dimensions), ".")
  }
  result <- do.call(py_call, c(list(
    "vad_corpus",
    inputs = check_inputs(inputs), output_dir = path.expand(check_string(output_dir, "output_dir")),
    dimensions = as.list(dimensions), label_type = check_string(label_type, "label_type"),
    custom_labels = custom_labels
  ), options))
  scores <- as_scores_frame(result, required = c("frame", "time"))
  for (column in intersect(c("frame", "person", "face", "x", "y", "width", "height"), names(scores))) {
    scores[[column]] <- as.integer(scores[[column]])
  }
  class(scores) <- c("corpus_scores", "data.frame")
  scores
}

# A data frame as a Python dict of lists: numbers as doubles, so that NA
# arrives as NaN, and as lists even for one row.
frame_to_columns <- function(df) {
  cols <- lapply(df, function(x) {
    if (is.factor(x)) x <- as.character(x)
    if (is.numeric(x)) x <- as.numeric(x)
    as.list(x)
  })
  names(cols) <- names(df)
  cols
}

check_no_dots <- function(...) {
  if (...length() == 0) return(invisible())
  given <- names(substitute(list(...)))[-1]
  if (is.null(given)) given <- rep("", ...length())
  shown <- ifelse(nzchar(given), paste0("`", given, "`"), "an unnamed argument")
  arg_error("vad_scores() has no argument ", paste(shown, collapse = ", "), ". Its options after `model` ",
            "are named: face_selection, local_model_path, face_boxes, templates, batch_size, device, progress, ",
            "pattern, recursive, nframes, start, end, uniform, ffreq, timestamps, save_video, save_frames, ",
            "save_dir, video_name.")
}

# --- transforEmotion's internal helpers, under its names -----------------------------------------

get_vad_definitions <- function() {
  list(
    valence = list(
      positive = "Positive emotional experience: pleasant, joyful, happy, satisfied, hopeful",
      negative = "Negative emotional experience: unpleasant, sad, angry, fearful, distressed"
    ),
    arousal = list(
      high = "High energy emotional state: intense, excited, energetic, stimulating, alert",
      low = "Low energy emotional state: calm, relaxed, peaceful, subdued, tranquil"
    ),
    dominance = list(
      high = "Feeling in control: powerful, confident, dominant, assertive, commanding",
      low = "Feeling controlled by others: powerless, submissive, helpless, vulnerable, weak"
    )
  )
}

get_vad_simple_labels <- function() {
  list(
    valence = list(positive = "positive", negative = "negative"),
    arousal = list(high = "excited", low = "calm"),
    dominance = list(high = "dominant", low = "submissive")
  )
}

vad_poles <- function(dimension) if (dimension == "valence") c("positive", "negative") else c("high", "low")

# transforEmotion requires all three dimensions; vad_scores() asks only for
# those it scores (its own documented example gives valence alone).
validate_vad_labels <- function(custom_labels, dimensions = c("valence", "arousal", "dominance"),
                                warn_short = TRUE) {
  if (!is.list(custom_labels)) arg_error("custom_labels must be a list; got ", describe(custom_labels), ".")
  unknown <- setdiff(names(custom_labels), c("valence", "arousal", "dominance"))
  if (length(unknown) > 0 || is.null(names(custom_labels))) {
    arg_error("custom_labels has elements named ", paste0("\"", unknown, "\"", collapse = ", "),
              ", which are not dimensions; the names must be among: valence, arousal, dominance.")
  }
  if (!all(dimensions %in% names(custom_labels))) {
    arg_error("custom_labels must have elements named: ", paste(dimensions, collapse = ", "),
              "; ", paste(setdiff(dimensions, names(custom_labels)), collapse = ", "), " missing.")
  }
  for (dim in dimensions) {
    dim_labels <- custom_labels[[dim]]
    if (!is.list(dim_labels)) arg_error("Each dimension in custom_labels must be a list; ", dim, " is not.")
    poles <- vad_poles(dim)
    if (!all(poles %in% names(dim_labels))) {
      arg_error("Dimension '", dim, "' must have poles: ", paste(poles, collapse = ", "))
    }
    for (pole in poles) {
      text <- dim_labels[[pole]]
      if (!is.character(text) || length(text) != 1 || is.na(text)) {
        arg_error("Label for ", dim, "$", pole, " must be a single character string")
      }
      if (warn_short && nchar(text) < 5) {
        warning("Label for ", dim, "$", pole, " is very short. Consider using more descriptive labels.",
                call. = FALSE)
      }
    }
  }
  TRUE
}

get_vad_labels <- function(label_type = "definitional", custom_labels = NULL,
                           dimensions = c("valence", "arousal", "dominance"), warn_short = TRUE) {
  if (label_type == "custom") {
    if (is.null(custom_labels)) arg_error("custom_labels must be provided when label_type = 'custom'")
    validate_vad_labels(custom_labels, dimensions, warn_short)
    return(custom_labels)
  }
  if (label_type == "definitional") return(get_vad_definitions())
  if (label_type == "simple") return(get_vad_simple_labels())
  arg_error("label_type must be 'definitional', 'simple', or 'custom'")
}

format_labels_for_classification <- function(dimension_labels) {
  c(dimension_labels$high %||% dimension_labels$positive, dimension_labels$low %||% dimension_labels$negative)
}

`%||%` <- function(x, y) if (is.null(x)) y else x

VAD_IMAGE_EXTENSIONS <- "\\.(jpg|jpeg|png|bmp|gif|tiff|tif|webp)$"
VAD_VIDEO_EXTENSIONS <- "\\.(mp4|m4v|mov|avi|mkv|webm|mpg|mpeg|wmv|flv|ogv)$"

# The rules of transforemotion.vad.detect_input_type (test-drift.R holds them together).
vad_kind <- function(x) {
  if (grepl("^https?://", x, ignore.case = TRUE)) {
    path <- sub("[?#].*$", "", sub("^https?://[^/]*", "", x, ignore.case = TRUE))
    return(if (grepl(VAD_IMAGE_EXTENSIONS, path, ignore.case = TRUE)) "image" else "video")
  }
  if (grepl(VAD_IMAGE_EXTENSIONS, x, ignore.case = TRUE)) return("image")
  if (grepl(VAD_VIDEO_EXTENSIONS, x, ignore.case = TRUE)) return("video")
  if (!is.na(x) && dir.exists(x)) return("image") # a folder of images
  "text"
}

detect_input_type <- function(input) {
  items <- if (is.list(input)) input else as.list(input)
  if (length(items) == 0 || !all(vapply(items, function(x) is.character(x) && length(x) == 1, logical(1)))) {
    arg_error("Input must be character (text, file path, or URL): `input` must be an image or video file path, ",
              "a folder of images, an http(s) URL, or a vector of image paths; got ", describe(input), ".")
  }
  kinds <- unique(vapply(items, vad_kind, character(1)))
  if (length(kinds) > 1) {
    arg_error("`input` mixes ", paste(sort(kinds), collapse = " and "),
              " inputs; score images and videos in separate calls.")
  }
  kinds
}
