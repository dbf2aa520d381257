# Creating the Python environment with the project's installer.
#
# The installer (python/installer/, a standard-library-only Python package) is
# the one source of truth for what goes into the environment. It ships inside
# this package, in inst/python/, together with the project it installs: in
# the source tree those are symlinks to the repository's own files, which
# R CMD build and R CMD INSTALL replace with copies, so there is no second
# copy to keep in step. R checks the arguments' types; the installer owns
# the rules and reports how it ended in a status file that R reads.

CONDA_ENV_NAME <- "transforemotion"

# The shipped project: pyproject.toml, python/, requirements/, environment.yml.
project_dir <- function() {
  dir <- system.file("python", package = "transforEmotionBridge")
  if (!nzchar(dir) || !file.exists(file.path(dir, "python", "installer", "__main__.py"))) {
    stop(
      "This installation of transforEmotionBridge lacks its Python installer ",
      "(inst/python). Reinstall the package from a complete source.",
      call. = FALSE
    )
  }
  dir
}

# How the installer ended, from the status file it writes (--status-file):
# "field: value" lines in the Debian control format, which read.dcf() reads.
# NULL when there is none (the installer could not even start).
read_installer_status <- function(path) {
  if (!file.exists(path)) return(NULL)
  fields <- tryCatch(read.dcf(path, all = TRUE), error = function(e) NULL)
  if (is.null(fields) || nrow(fields) != 1) return(NULL)
  as.list(fields[1, , drop = TRUE])
}

# Mirrors default_venv_path() in python/installer/platforms.py (tests compare the two), so
# that R finds the venv without starting Python.
user_data_dir <- function() {
  home <- path.expand("~")
  if (.Platform$OS.type == "windows") {
    base <- Sys.getenv("LOCALAPPDATA", file.path(home, "AppData", "Local"))
  } else if (Sys.info()[["sysname"]] == "Darwin") {
    base <- file.path(home, "Library", "Application Support")
  } else {
    base <- Sys.getenv("XDG_DATA_HOME", "")
    if (!nzchar(base)) base <- file.path(home, ".local", "share")
  }
  file.path(base, "transforemotion")
}

default_venv_path <- function() file.path(user_data_dir(), "venv")

# Where the installer's --get-micromamba keeps micromamba and its environments.
micromamba_env_python <- function(envname = CONDA_ENV_NAME) {
  venv_python(file.path(user_data_dir(), "micromamba", "envs", envname))
}

# A Python to run the installer with. The venv backend builds the
# environment from this same interpreter, and the lock wants Python 3.11.
find_installer_python <- function(python) {
  if (!is.null(python)) {
    python <- path.expand(check_string(python, "python"))
    if (!file.exists(python)) arg_error("`python`: no file at \"", python, "\".")
    return(python)
  }
  found <- Sys.which(c("python3.11", "python3", "python"))
  found <- found[nzchar(found)]
  if (length(found) == 0) {
    stop(
      "No Python was found to run the installer. Install Python 3.11 ",
      "(https://www.python.org/downloads/ or reticulate::install_python(\"3.11\")), ",
      "then call setup_miniconda(python = \"/path/to/python3.11\").",
      call. = FALSE
    )
  }
  unname(found[1])
}

#' Create the Python environment that transforEmotionBridge uses
#'
#' Runs the `transforemotion` installer that ships with this package, then
#' points reticulate at the environment it made. The installer pins every
#' package version (lock files), installs `transforemotion` itself, and checks
#' the result with a tiny model (no download).
#'
#' What it makes: with `backend = "venv"`, a folder in your user data folder
#' (`~/.local/share/transforemotion/venv` on Linux, `~/Library/Application
#' Support/transforemotion/venv` on macOS, `%LOCALAPPDATA%\transforemotion\venv`
#' on Windows) of about 1.8 GB for the CPU flavour (PyTorch is most of it; the
#' CUDA flavour is several GB more); with `backend = "conda"`, a conda
#' environment named `transforemotion`. Inside it: Python, PyTorch,
#' transformers, OpenCV, pandas and the other locked packages, a copy of the
#' installed project (`transforemotion-source/`), the record
#' `transforemotion-env.json`, and the `transforemotion` command (in its
#' `bin/` folder, `Scripts\` on Windows). The first run takes a few minutes.
#'
#' Safe to call again: an existing environment is checked and repaired, not
#' rebuilt; with nothing changed the second call installs nothing and only
#' reruns the self-check, which takes seconds (use `force = TRUE` to rebuild). The installer never touches an
#' environment it did not create.
#'
#' Later R sessions find the environment on their own (see [find_python()]).
#' Python cannot be switched once it has started in an R session; if it has,
#' restart R after setting up.
#'
#' @param backend `"conda"` makes a conda environment named `transforemotion`
#'   (with conda, mamba or micromamba; when none is installed, micromamba is
#'   downloaded into a folder of your own, no admin rights needed).
#'   `"venv"` makes a Python virtual environment (needs Python 3.11; no conda)
#'   in a per-user data folder, e.g. `~/.local/share/transforemotion/venv` on
#'   Linux.
#' @param prefix Folder for the environment instead of the default.
#' @param force Rebuild the environment from scratch.
#' @param python The Python 3.11 executable that runs the installer (and that
#'   a venv is made from). Default: the first `python3.11`, `python3` or
#'   `python` on the `PATH`.
#' @param gpu `"auto"` builds the CUDA flavour (PyTorch for NVIDIA GPUs, with
#'   the 4-bit loading stack for `eva-8B`) where an NVIDIA driver answers
#'   `nvidia-smi` and a CUDA flavour exists for the platform (Linux x86_64),
#'   and the CPU flavour otherwise; `"cuda"` or `"cpu"` choose one.
#' @param jina Add what the `jina-v2` model needs (torchvision, timm, einops).
#'   `FALSE` leaves it out: smaller, and needs no access to PyTorch's own
#'   package index. `NULL` (the default): as the existing environment has it
#'   (one made with `jina = FALSE` stays without it when set up again), and
#'   `TRUE` for a new one.
#' @param ... Further command-line flags for the installer, as strings, e.g.
#'   `"--verbose"`.
#' @returns The path of the environment's Python executable, invisibly.
#'   A failure is an error of class `transforemotion_setup_error` (a
#'   `transforemotion_error`) with fields `step` (the installer's step that
#'   failed), `kind` (`"network"`, `"disk"`, `"conflict"`, `"platform"`,
#'   `"python"`, `"usage"`, `"command"`, `"check"` or `"interrupted"`) and
#'   `hint`; its message says what to change, and suggests running it again
#'   only where that can help (a network failure, an interruption).
#' @seealso [find_python()], [python_available()]
#' @examples
#' \dontrun{
#' # Downloads and installs PyTorch and friends (a few GB):
#' setup_miniconda(backend = "venv")
#' }
#' @export
setup_miniconda <- function(backend = c("conda", "venv"), prefix = NULL, force = FALSE,
                            python = NULL, gpu = c("auto", "cuda", "cpu"), jina = NULL, ...) {
  backend <- match.arg(backend)
  gpu <- match.arg(gpu)
  check_bool(force, "force")
  check_optional_bool(jina, "jina")
  if (!is.null(prefix)) prefix <- normalizePath(check_string(prefix, "prefix"), mustWork = FALSE)
  extra <- c(...)
  if (length(extra) > 0 && !is.character(extra)) arg_error("`...` must be installer flags given as strings, e.g. \"--verbose\".")
  runner <- find_installer_python(python)

  # Run straight from the installed package: the installer copies the project
  # into the environment before pip builds it, and -B keeps Python from
  # writing bytecode into the (possibly read-only) R library. The
  # environment's record then names that copy, not a temporary folder.
  status_file <- tempfile("transforemotion-status-")
  on.exit(unlink(status_file), add = TRUE)
  args <- c("-B", shQuote(file.path(project_dir(), "python", "installer")), "--backend", backend,
            "--gpu", gpu, "--status-file", shQuote(status_file))
  if (!is.null(jina)) args <- c(args, if (jina) "--with-jina" else "--without-jina")
  if (!is.null(prefix)) args <- c(args, "--prefix", shQuote(prefix))
  if (force) args <- c(args, "--force")
  env <- clean_library_path()
  if (backend == "conda") {
    if (!nzchar(Sys.which("conda")) && !nzchar(Sys.which("mamba")) && !nzchar(Sys.which("micromamba")) &&
        !nzchar(Sys.getenv("CONDA_EXE")) && !nzchar(Sys.getenv("MAMBA_EXE"))) {
      # Use reticulate's Miniconda if the user has one, else let the installer
      # fetch micromamba into a user folder.
      conda <- tryCatch(reticulate::conda_binary(), error = function(e) "")
      if (nzchar(conda) && file.exists(conda)) env <- c(env, CONDA_EXE = conda) else args <- c(args, "--get-micromamba")
    }
  }
  args <- c(args, extra)

  message("Running the transforemotion installer (", backend, " backend) with ", runner, " ...")
  exit <- with_envvars(env, system2(runner, args, stdout = "", stderr = ""))
  status <- read_installer_status(status_file)
  if (!identical(exit, 0L) || is.null(status) || !identical(status$status, "ok")) {
    stop(setup_error(status, exit, runner))
  }

  env_py <- status$python
  if (!file.exists(env_py)) {
    stop("The installer finished but its Python was not found at ", env_py, ".", call. = FALSE)
  }
  use_new_python(env_py, backend, prefix)
  invisible(env_py)
}

`%||%` <- function(x, y) if (is.null(x)) y else x

# What to change after the installer failed, by its kind of failure (python/installer/errors.py), where the
# installer gave no hint. Only a passing network failure or an interruption is mended by running the same call
# again; the others fail the same way until something changes.
setup_advice <- c(
  usage = "change the argument named above",
  conflict = "give setup_miniconda() another `prefix`",
  disk = "free some disk space (an environment needs a few GB) or give setup_miniconda() a `prefix` on another disk",
  platform = "use backend = \"conda\" (conda-forge covers more platforms)",
  python = "give setup_miniconda() a Python 3.11 as `python`",
  command = "read the command's output above; setup_miniconda(..., \"--verbose\") shows more",
  check = "run setup_miniconda(force = TRUE) to rebuild the environment"
)
rerun_helps <- c("network", "interrupted")

# The condition for a failed installer run, from its status file (NULL when it wrote none: it did not start,
# or crashed). Classes transforemotion_setup_error < transforemotion_error < error; fields `step` and `kind`
# (the installer's), `hint` and `exit_status`.
setup_error <- function(status, exit, runner) {
  if (is.null(status) || is.null(status$kind)) {
    status <- list(step = "start the installer", kind = "python",
                   message = paste0("the installer did not run to its end with ", runner, " (exit status ", exit, ")"),
                   hint = paste0("check that ", runner, " is Python 3.9 or newer, or give setup_miniconda() another ",
                                 "as `python`, e.g. python = \"/usr/bin/python3.11\""))
  }
  hint <- status$hint %||% ""
  if (!nzchar(hint)) hint <- setup_advice[status$kind] %|NA|% "read the installer's message above"
  advice <- paste0("What to do: ", hint, ".")
  if (status$kind %in% rerun_helps && !grepl("again", hint, fixed = TRUE)) {
    advice <- paste(advice, "Then run setup_miniconda() again: finished steps are kept.")
  }
  structure(
    list(message = paste0("setup_miniconda() failed at step '", status$step, "' (", status$kind, "): ",
                          status$message, "\n", advice),
         call = NULL, step = status$step, kind = status$kind, hint = hint, exit_status = exit),
    class = c("transforemotion_setup_error", "transforemotion_error", "error", "condition")
  )
}

`%|NA|%` <- function(x, y) if (length(x) == 0 || is.na(x)) y else unname(x)

# R's start-up script puts its own and the system's library folders first on
# LD_LIBRARY_PATH. A Python started from R then loads the system's
# libpython instead of its own when their versions differ (seen with pyenv
# builds: "undefined symbol" in _ssl, so pip cannot reach PyPI). The
# installer and its subprocesses need none of R's libraries: drop them.
clean_library_path <- function() {
  if (.Platform$OS.type == "windows") return(character())
  paths <- strsplit(Sys.getenv("LD_LIBRARY_PATH"), ":", fixed = TRUE)[[1]]
  r_added <- paths == R.home("lib") | grepl("^(/usr)?/lib(64)?(/[^/]*-linux-gnu)?/?$", paths) |
    grepl("/jvm/.*/lib(/server)?/?$", paths)
  c(LD_LIBRARY_PATH = paste(paths[nzchar(paths) & !r_added], collapse = ":"))
}

# Runs `code` with the environment variables in the named vector `vars` set,
# then restores them (system2() has no portable env argument).
with_envvars <- function(vars, code) {
  if (length(vars) == 0) return(code)
  old <- Sys.getenv(names(vars), unset = NA, names = TRUE)
  do.call(Sys.setenv, as.list(vars))
  on.exit(for (k in names(vars)) {
    if (is.na(old[[k]])) Sys.unsetenv(k) else do.call(Sys.setenv, as.list(old[k]))
  })
  code
}

# Points this session at the new environment when Python has not started,
# and says what will happen in later sessions.
use_new_python <- function(env_py, backend, prefix) {
  where <- if (backend == "venv") dirname(dirname(env_py)) else sprintf("conda environment at %s", dirname(dirname(env_py)))
  if (reticulate::py_available(initialize = FALSE)) {
    running <- reticulate::py_config()$python
    if (normalizePath(running, mustWork = FALSE) == normalizePath(env_py, mustWork = FALSE)) {
      message("transforemotion is ready in ", where, ", the Python this session already uses.")
    } else {
      message(
        "transforemotion is ready in ", where, ".\n",
        "This R session already runs another Python (", running, "), which reticulate cannot ",
        "switch: restart R to use the new environment."
      )
    }
    return(invisible())
  }
  .bridge$python <- env_py
  message("transforemotion is ready in ", where, ".\nPython: ", env_py)
  later <- find_python()
  if (is.null(later) || normalizePath(later$python, mustWork = FALSE) != normalizePath(env_py, mustWork = FALSE)) {
    message(
      "Later R sessions will not find it on their own",
      if (!is.null(later)) paste0(" (they use ", later$python, " from ", later$source, ")"),
      ". Add this line to your ~/.Renviron file (usethis::edit_r_environ()):\n",
      "RETICULATE_PYTHON=", env_py
    )
  }
}
