# Argument checks in R: type, length and missing values only, with R's
# spelling, before anything crosses into Python. The rules (which face
# selections exist, how many labels, which numbers are in range) belong to
# the Python package, which reports a broken rule in R syntax too; copying
# them here would let the two drift apart. Each checker returns the value in
# the form Python wants (an integer, a list, an expanded path).

arg_error <- function(...) {
  stop(structure(
    list(message = paste0(...), call = NULL),
    class = c("transforemotion_argument_error", "transforemotion_input_error", "transforemotion_error", "error",
              "condition")
  ))
}

describe <- function(x) {
  if (is.null(x)) return("NULL")
  if (length(x) != 1) return(sprintf("a %s vector of length %d", class(x)[1], length(x)))
  if (is.na(x)) return("NA")
  if (is.character(x)) return(sprintf("\"%s\"", x))
  format(x)
}

check_string <- function(x, name) {
  if (!is.character(x) || length(x) != 1 || is.na(x) || !nzchar(x)) {
    arg_error("`", name, "` must be a single non-empty string, not ", describe(x), ".")
  }
  x
}

# NULL (Python's default applies) or a single string.
check_optional_string <- function(x, name) {
  if (is.null(x)) return(NULL)
  check_string(x, name)
}

check_bool <- function(x, name) {
  if (!is.logical(x) || length(x) != 1 || is.na(x)) {
    arg_error("`", name, "` must be TRUE or FALSE, not ", describe(x), ".")
  }
  x
}

check_optional_bool <- function(x, name) {
  if (is.null(x)) return(NULL)
  check_bool(x, name)
}

# For options that exist only in R (Python never sees them), such as a plot type.
check_choice <- function(x, name, choices) {
  if (!is.character(x) || length(x) != 1 || is.na(x) || !x %in% choices) {
    arg_error("`", name, "` must be one of ", paste0("\"", choices, "\"", collapse = ", "), "; got ", describe(x), ".")
  }
  x
}

check_number <- function(x, name) {
  if (!is.numeric(x) || length(x) != 1 || is.na(x)) {
    arg_error("`", name, "` must be a single number, not ", describe(x), ".")
  }
  as.numeric(x)
}

# A single whole number, returned as an integer so that Python sees an int.
# Whether it is in range is Python's rule.
as_whole <- function(x, name) {
  if (!is.numeric(x) || length(x) != 1 || is.na(x) || !is.finite(x) || x != round(x)) {
    arg_error("`", name, "` must be a single whole number, not ", describe(x), ".")
  }
  if (abs(x) > .Machine$integer.max) return(as.numeric(x))
  as.integer(x)
}

as_optional_whole <- function(x, name) {
  if (is.null(x)) return(NULL)
  as_whole(x, name)
}

# Labels: a character vector without NA; a Python list even for one label.
check_labels <- function(x, name, example = "c(\"joy\", \"anger\", \"sadness\")") {
  if (!is.character(x) || length(x) == 0) {
    arg_error("`", name, "` must be a character vector of labels, e.g. ", example, "; got ", describe(x), ".")
  }
  if (anyNA(x)) {
    arg_error("`", name, "` has a missing value (NA) at position ", paste(which(is.na(x)), collapse = ", "),
              "; every label must be a text, e.g. ", example, ".")
  }
  as.list(x)
}

check_classes <- function(classes) check_labels(classes, "classes")

# NULL, one template or set name, or several templates.
check_templates <- function(templates) {
  if (is.null(templates)) return(NULL)
  if (!is.character(templates) || length(templates) == 0 || anyNA(templates)) {
    arg_error("`templates` must be NULL, the name of a built-in set such as \"fer\", or a character vector of ",
              "templates with {} where the label goes; got ", describe(templates), ".")
  }
  if (length(templates) == 1) templates else as.list(templates)
}

is_url <- function(x) grepl("^https?://", x, ignore.case = TRUE)

# Local paths are expanded (`~`) and checked here; URLs are left to Python.
check_input_paths <- function(x, name, what = "file") {
  if (!is.character(x) || length(x) == 0 || anyNA(x) || !all(nzchar(x))) {
    arg_error("`", name, "` must be a character vector of ", what, " paths or URLs, not ", describe(x), ".")
  }
  local <- !is_url(x)
  x[local] <- path.expand(x[local])
  missing <- local & !file.exists(x)
  if (any(missing)) {
    shown <- utils::head(x[missing], 5)
    arg_error(
      "`", name, "`: ", sum(missing), " ", what, if (sum(missing) > 1) "s", " not found: ",
      paste0("\"", shown, "\"", collapse = ", "), if (sum(missing) > 5) ", ...",
      ". Paths are relative to the working directory, ", getwd(), "."
    )
  }
  x
}

check_dir <- function(x, name) {
  check_string(x, name)
  x <- path.expand(x)
  if (!dir.exists(x)) {
    arg_error("`", name, "` must be an existing folder; \"", x, "\" is not one.")
  }
  x
}

# The options shared by many functions, one line each: the R-level check of each (type, length, NA; Python
# owns the allowed values and the rules). The names are those of Python's option objects (ScoringOptions,
# FrameSampling, SavedFiles), which test-drift.R compares. A function takes the options it has from its own
# formals: `scoring_options()`, `sampling_options()` and `saving_options()` read them from the caller's frame, so
# a new shared option is one line here and one formal in each function that takes it.
option_checks <- list(
  scoring = list(
    face_selection = check_string,
    model = check_string,
    local_model_path = function(x, name) if (is.null(x)) NULL else check_dir(x, name),
    face_boxes = check_bool,
    templates = function(x, name) check_templates(x),
    batch_size = as_optional_whole,
    device = check_optional_string,
    progress = check_optional_bool,
    face_workers = as_optional_whole
  ),
  sampling = list(
    nframes = as_whole,
    start = check_number,
    end = check_number,
    uniform = check_bool,
    ffreq = as_whole
  ),
  saving = list(
    save_video = check_bool,
    save_frames = check_bool,
    save_dir = function(x, name) path.expand(check_string(x, name)),
    video_name = check_string
  )
)

# The options of one group that the calling function has, checked and named, ready for py_call().
# `nframes` left out (missing) goes as NULL: Python then scores a short video on the frames it has room for,
# where an explicit 100 must be met.
options_of <- function(group, env) {
  checks <- option_checks[[group]]
  present <- names(checks)[names(checks) %in% ls(env, all.names = TRUE)]
  values <- lapply(present, function(name) {
    if (name == "nframes" && eval(call("missing", as.name(name)), env)) return(NULL)
    checks[[name]](get(name, envir = env), name)
  })
  stats::setNames(values, present)
}

scoring_options <- function(env = parent.frame()) options_of("scoring", env)
sampling_options <- function(env = parent.frame()) options_of("sampling", env)
saving_options <- function(env = parent.frame()) options_of("saving", env)

# `person_names`: NULL; a character vector (the first name for person 0, ...); or names for chosen ids, as
# a named character vector or list, c(`0` = "host", `2` = "guest"), sent to Python as a dict of whole numbers.
# Whether the names are distinct and the ids valid is Python's rule.
check_person_names <- function(x) {
  if (is.null(x)) return(NULL)
  example <- "c(\"host\", \"guest\") or c(`0` = \"host\", `2` = \"guest\")"
  values <- if (is.list(x)) unlist(x, use.names = FALSE) else x
  if (!is.character(values) || length(values) == 0 || anyNA(values) || length(values) != length(x)) {
    arg_error("`person_names` must be a character vector of names, one per person id from 0, or a named vector ",
              "of names for chosen ids, e.g. ", example, "; got ", describe(x), ".")
  }
  ids <- names(x)
  if (is.null(ids)) return(as.list(values))
  if (anyNA(ids) || !all(grepl("^[0-9]+$", ids))) {
    arg_error("The names of `person_names` must be person ids (0, 1, ...), e.g. ", example, "; got ",
              paste0("\"", ids, "\"", collapse = ", "), ".")
  }
  ensure_python()  # py_dict() would start whichever Python reticulate finds first
  reticulate::py_dict(as.list(as.integer(ids)), as.list(values), convert = FALSE)
}
