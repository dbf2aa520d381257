# Finding Python, binding the module, and calling into it.

# Package state. `te` is the module proxy bound in .onLoad; importing it once
# per session keeps the Python-side model cache alive between calls. R reads
# nothing from it: every call goes through transforemotion._bridge
# (bridge_module()), which names the public functions and the values R shows.
.bridge <- new.env(parent = emptyenv())

.onLoad <- function(libname, pkgname) {
  # With delay_load, nothing starts until the first scoring call, so loading
  # the package is instant and does not pick a Python behind the user's back.
  # If Python is already running (the user started reticulate first),
  # reticulate would import immediately and a missing module would make
  # library() fail; te_module() imports on first use instead.
  if (!reticulate::py_available(initialize = FALSE)) {
    .bridge$te <- reticulate::import(
      "transforemotion",
      delay_load = list(on_error = function(e) module_load_error(e))
    )
  }
}

venv_python <- function(prefix) {
  if (.Platform$OS.type == "windows") file.path(prefix, "Scripts", "python.exe") else file.path(prefix, "bin", "python")
}

# The Python of the conda environment named "transforemotion", or NULL when
# there is none. Looks where conda keeps it and where the installer's own
# micromamba does (reticulate does not know micromamba's folders).
conda_env_python <- function(envname = CONDA_ENV_NAME) {
  envs <- tryCatch(suppressWarnings(reticulate::conda_list()), error = function(e) NULL)
  if (!is.null(envs) && envname %in% envs$name) {
    python <- envs$python[envs$name == envname][1]
    if (file.exists(python)) return(python)
  }
  python <- micromamba_env_python(envname)
  if (file.exists(python)) python else NULL
}

#' Which Python the package will use
#'
#' Looks, in order, for the `RETICULATE_PYTHON` environment variable, the
#' conda environment named `transforemotion`, and the virtual environment
#' that `setup_miniconda(backend = "venv")` creates. The first one found is
#' used; nothing is installed.
#'
#' @returns A list with `python` (path to the Python executable) and `source`
#'   (where it was found), or `NULL` when there is none; in that case run
#'   [setup_miniconda()].
#' @seealso [python_available()], [setup_miniconda()]
#' @examples
#' find_python()
#' @export
find_python <- function() {
  env <- Sys.getenv("RETICULATE_PYTHON", "")
  if (nzchar(env)) {
    return(list(python = path.expand(env), source = "the RETICULATE_PYTHON environment variable"))
  }
  conda <- conda_env_python()
  if (!is.null(conda)) {
    return(list(python = conda, source = sprintf("the conda environment '%s'", CONDA_ENV_NAME)))
  }
  venv <- venv_python(default_venv_path())
  if (file.exists(venv)) {
    return(list(python = venv, source = "the virtual environment made by setup_miniconda(backend = \"venv\")"))
  }
  NULL
}

no_python_message <- function() {
  paste0(
    "No Python environment for transforemotion was found ",
    "(looked at RETICULATE_PYTHON, the conda environment '", CONDA_ENV_NAME,
    "', and the virtual environment at ", default_venv_path(), ").\n",
    "Run setup_miniconda() once to create one (or setup_miniconda(backend = \"venv\") without conda)."
  )
}

# Points reticulate at our environment before Python starts. Once Python is
# running in this R session it cannot be switched, so we use what is there.
ensure_python <- function() {
  if (reticulate::py_available(initialize = FALSE)) return(invisible())
  # An environment made by setup_miniconda() in this session comes first.
  found <- if (!is.null(.bridge$python)) list(python = .bridge$python, source = "setup_miniconda()") else find_python()
  if (is.null(found)) stop(no_python_message(), call. = FALSE)
  if (!file.exists(found$python)) {
    stop(
      "Python was not found at ", found$python, " (from ", found$source, "). ",
      "Fix that path, or unset RETICULATE_PYTHON and run setup_miniconda().",
      call. = FALSE
    )
  }
  reticulate::use_python(found$python, required = TRUE)
  invisible()
}

# A Python value to R. reticulate's py_to_r() starts Python (whichever reticulate finds first, e.g. the
# system's python3) before it evaluates its argument, so py_to_r(bridge_module()$f()) as the first call of a
# session would start that Python before bridge_module() has chosen ours (ensure_python()). Every conversion
# in this package goes through here, which evaluates the argument, and with it the choice, first.
to_r <- function(x) {
  force(x)
  reticulate::py_to_r(x)
}

module_load_error <- function(e) {
  msg <- python_message(e)
  python <- tryCatch(reticulate::py_config()$python, error = function(e) "unknown")
  if (grepl("No module named '?transforemotion", msg)) {
    stop(
      "The Python that R is using (", python, ") does not have the 'transforemotion' package.\n",
      "Run setup_miniconda() to create an environment that has it, then restart R. ",
      "If you set RETICULATE_PYTHON, point it at that environment's Python instead.",
      call. = FALSE
    )
  }
  stop(
    "Python (", python, ") could not load 'transforemotion': ", msg, "\n",
    "Run setup_miniconda(force = TRUE) to rebuild the environment, then restart R.",
    call. = FALSE
  )
}

# The transforemotion module, ready to use.
te_module <- function() {
  ensure_python()
  if (is.null(.bridge$te)) {
    .bridge$te <- tryCatch(reticulate::import("transforemotion"), error = module_load_error)
  }
  .bridge$te
}

#' Is the Python side ready?
#'
#' `TRUE` when a Python environment is found (see [find_python()]) and the
#' `transforemotion` module can be imported from it. Use it to guard code
#' that needs Python, as the examples in this package do. The first call
#' starts Python in this R session.
#'
#' @returns `TRUE` or `FALSE`.
#' @examples
#' python_available()
#' @export
python_available <- function() {
  ok <- tryCatch(
    {
      ensure_python()
      reticulate::py_module_available("transforemotion")
    },
    error = function(e) FALSE
  )
  isTRUE(ok)
}

# The message of a Python exception, without R's call prefix, the exception
# type, or the traceback. reticulate 1.28 gives an Rcpp condition whose message
# is "Type: message"; newer versions give the exception as a condition and add
# a hint to run py_last_error(). Prefer reticulate's record of the last
# exception when it is the one we are handling; otherwise parse the text.
python_message <- function(e) {
  text <- conditionMessage(e)
  last <- tryCatch(reticulate::py_last_error(), error = function(err) NULL)
  if (!is.null(last) && is.character(last$type) && is.character(last$value) &&
      startsWith(trimws(text), paste0(last$type, ":"))) {
    return(trimws(last$value))
  }
  text <- sub("\n*Run `reticulate::py_last_error\\(\\)` for details\\.?.*$", "", text)
  text <- sub("\n*Detailed traceback:.*$", "", text)
  text <- sub("^Error in [^:]*: *", "", text)
  text <- sub("^([A-Za-z_][A-Za-z0-9_.]*(Error|Exception)): ", "", text)
  trimws(text)
}

python_type <- function(e) {
  last <- tryCatch(reticulate::py_last_error(), error = function(err) NULL)
  if (!is.null(last) && is.character(last$type)) last$type else NA_character_
}

# transforemotion._bridge, imported once per session: it runs a function with
# messages spelled for R and returns its warnings, which are re-issued here as
# R warnings (e.g. "no face found in ...") instead of being printed by Python
# where R users miss them.
bridge_module <- function() {
  if (is.null(.bridge$bridge)) {
    te_module()
    .bridge$bridge <- tryCatch(reticulate::import("transforemotion._bridge", convert = FALSE), error = module_load_error)
  }
  .bridge$bridge
}

python_error <- function(e) {
  stop(structure(
    list(message = python_message(e), call = NULL, python_type = python_type(e)),
    class = c("transforemotion_python_error", "error", "condition")
  ))
}

# The R condition for an exception that transforemotion._bridge returned as data.
# Its classes come from Python's error classes, most specific first:
# "transforemotion_argument_error" < "transforemotion_input_error" <
# "transforemotion_error" for a mistake in the call, "transforemotion_error"
# alone for a missing package or model, then "transforemotion_python_error"
# for anything raised in Python (ours or not).
#
# Ctrl-C (Python's KeyboardInterrupt, class "transforemotion_interrupt") is R's interrupt condition
# instead, not an error: tryCatch(error = ) and try() in a loop must not swallow it and carry on. stop()
# signals it, so tryCatch(interrupt = ) catches it, and uncaught it ends the call showing its one line
# (a corpus run's "stopped; N of M units finished; ...").
python_condition <- function(error) {
  classes <- unlist(error$classes)
  base <- if ("transforemotion_interrupt" %in% classes) "interrupt" else c("transforemotion_python_error", "error")
  structure(
    list(message = error$message, call = NULL, python_type = error$type),
    class = c(classes, base, "condition")
  )
}

# Calls transforemotion.<.fun>(...) and returns the converted result. Python
# exceptions become R errors (see python_condition()) carrying the Python
# message (spelled for R); Python warnings become R warnings, the ones issued
# before an error included.
# Arguments that are NULL are left out, so that Python's own default applies.
py_call <- function(.fun, ...) {
  bridge <- bridge_module()
  # A public function's name, or a Python function already in hand (one of transforemotion._bridge's).
  fun <- if (is.character(.fun)) tryCatch(bridge$public_function(.fun), error = module_load_error) else .fun
  args <- Filter(Negate(is.null), list(...))
  # dict(), not list(...): an empty R list would become a Python list.
  kwargs <- do.call(reticulate::dict, args)
  out <- tryCatch(to_r(bridge$call_from_r(fun, kwargs)), error = python_error)
  for (w in out[[2]]) warning(w, call. = FALSE)
  if (!is.null(out[[3]])) stop(python_condition(out[[3]]))
  out[[1]]
}

#' File-name patterns of the files read from folders
#'
#' The default `pattern` of [image_scores_dir()] and [evaluate_dir()], and the
#' extensions a corpus folder is scanned for. They come from the Python
#' package, which keeps the one list of extensions, so R never holds a copy
#' that could drift from it.
#'
#' @returns `image_pattern()`: a regular expression, `"\\.(jpg|jpeg|png|bmp)$"`.
#'   `media_extensions()`: a list with character vectors `image` and `video`.
#' @examples
#' if (python_available()) {
#'   image_pattern()
#'   media_extensions()$video
#' }
#' @export
image_pattern <- function() {
  to_r(bridge_module()$image_pattern())
}

#' @rdname image_pattern
#' @export
media_extensions <- function() {
  to_r(bridge_module()$media_extensions())
}
