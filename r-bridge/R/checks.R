# Argument checks run in R before anything crosses into Python, so that a
# mistake is reported in R's terms (argument name, what was given, what is
# allowed) rather than as a Python type error. Each checker returns the value
# in the form Python wants (e.g. an integer, an expanded path).

FACE_SELECTIONS <- c("largest", "left", "right", "none")

arg_error <- function(...) {
  stop(structure(
    list(message = paste0(...), call = NULL),
    class = c("transforemotion_argument_error", "error", "condition")
  ))
}

describe <- function(x) {
  if (is.null(x)) return("NULL")
  if (length(x) != 1) return(sprintf("a %s vector of length %d", class(x)[1], length(x)))
  if (is.character(x)) return(sprintf("\"%s\"", x))
  format(x)
}

check_string <- function(x, name) {
  if (!is.character(x) || length(x) != 1 || is.na(x) || !nzchar(x)) {
    arg_error("`", name, "` must be a single non-empty string, not ", describe(x), ".")
  }
  x
}

check_bool <- function(x, name) {
  if (!is.logical(x) || length(x) != 1 || is.na(x)) {
    arg_error("`", name, "` must be TRUE or FALSE, not ", describe(x), ".")
  }
  x
}

check_number <- function(x, name) {
  if (!is.numeric(x) || length(x) != 1 || is.na(x) || !is.finite(x)) {
    arg_error("`", name, "` must be a single number, not ", describe(x), ".")
  }
  as.numeric(x)
}

# A whole number >= `min`, returned as an integer so Python sees an int.
as_count <- function(x, name, min = 1) {
  if (!is.numeric(x) || length(x) != 1 || is.na(x) || x != round(x) || x < min) {
    arg_error("`", name, "` must be a whole number of at least ", min, ", not ", describe(x), ".")
  }
  as.integer(x)
}

check_choice <- function(x, name, choices) {
  if (!is.character(x) || length(x) != 1 || is.na(x) || !x %in% choices) {
    arg_error(
      "`", name, "` must be one of ", paste0("\"", choices, "\"", collapse = ", "),
      "; got ", describe(x), "."
    )
  }
  x
}

check_classes <- function(classes) {
  if (!is.character(classes) || length(classes) == 0 || anyNA(classes) || !all(nzchar(classes))) {
    arg_error(
      "`classes` must be a character vector of emotion labels, e.g. ",
      "c(\"joy\", \"anger\", \"sadness\"); got ", describe(classes), "."
    )
  }
  # Each label becomes one column of the result, so labels must be distinct.
  dup <- unique(classes[duplicated(classes)])
  if (length(dup) > 0) {
    arg_error("`classes` must not repeat labels; repeated: ", paste0("\"", dup, "\"", collapse = ", "), ".")
  }
  as.list(classes) # a Python list even for a single label
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

check_model <- function(model, local_model_path) {
  check_string(model, "model")
  if (!is.null(local_model_path)) local_model_path <- check_dir(local_model_path, "local_model_path")
  list(model = model, local_model_path = local_model_path)
}
