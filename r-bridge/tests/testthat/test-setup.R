# setup_miniconda() against the environment the tests run on: TRANSFOREMOTION_PYTHON, which
# run-tests.sh makes with setup_miniconda(backend = "venv").

env_prefix <- function() dirname(dirname(test_python))

env_bin <- function(prefix) file.path(prefix, if (.Platform$OS.type == "windows") "Scripts" else "bin")

# The installer's record of the environment is JSON; the environment's own Python reads it.
read_env_record <- function(prefix) {
  code <- paste(
    "import json, sys",
    "r = json.load(open(sys.argv[1], encoding='utf-8'))",
    "print(r.get('flavour', 'cpu')); print('yes' if r.get('jina', True) else 'no'); print(r.get('source', ''))",
    sep = "; "
  )
  out <- system2(test_python, c("-c", shQuote(code), shQuote(file.path(prefix, "transforemotion-env.json"))),
                 stdout = TRUE)
  list(gpu = out[1], jina = identical(out[2], "yes"), source = out[3])
}

test_that("setup_miniconda() checks its arguments before running anything", {
  expect_error(setup_miniconda(gpu = "rocm"), "should be one of")
  expect_error(setup_miniconda(jina = NA), "`jina` must be TRUE or FALSE")
  expect_error(setup_miniconda(force = "yes"), "`force` must be TRUE or FALSE")
})

test_that("a second setup_miniconda() reinstalls nothing and records a source that still exists", {
  skip_if_no_python()
  prefix <- env_prefix()
  record_file <- file.path(prefix, "transforemotion-env.json")
  skip_if_not(file.exists(record_file), "TRANSFOREMOTION_PYTHON's environment was not made by the installer")
  record <- read_env_record(prefix)
  # As a user calls it: a fresh R process, the installer run from the installed package.
  # (Every named argument is given, so that flags in `...` are not taken for `force`.)
  setup_call <- function(...) {
    flags <- c(...)
    flags <- if (length(flags) > 0) paste0(", ", flags, collapse = "") else ""
    run_r(c(
      sprintf(".libPaths(c(%s))", paste(deparse(.libPaths()), collapse = "")),
      "library(transforEmotionBridge)",
      sprintf("py <- setup_miniconda(backend = 'venv', prefix = %s, force = FALSE, python = %s, gpu = %s, jina = %s%s)",
              deparse(prefix), deparse(test_python), deparse(record$gpu), record$jina, flags),
      "cat('RETURNED', py, '\\n')"
    ), env = "RETICULATE_PYTHON=")
  }
  # The first call brings the environment up to this package's files (they may have changed
  # since it was made); the second, with nothing changed, must do nothing.
  first <- setup_call("'--no-check'")
  expect_identical(first$status, 0L, info = first$output)
  before <- readLines(record_file)
  torch_dir <- Sys.glob(file.path(prefix, "lib", "python3*", "site-packages", "torch"))
  torch_mtime <- file.mtime(torch_dir)
  res <- setup_call()
  expect_identical(res$status, 0L, info = res$output)
  expect_match(res$output, "up to date: nothing to install", fixed = TRUE)
  expect_match(res$output, "already installed", fixed = TRUE)
  expect_no_match(res$output, "pip install", fixed = TRUE)
  expect_no_match(res$output, "repairing|reinstalling")
  expect_match(res$output, "self-check", fixed = TRUE)
  expect_identical(readLines(record_file), before)
  expect_equal(file.mtime(torch_dir), torch_mtime)
  # The record names the copy of the project kept inside the environment, not R's temporary folder.
  record <- read_env_record(prefix)
  expect_true(dir.exists(record$source))
  expect_true(startsWith(normalizePath(record$source), normalizePath(prefix)))
  expect_true(file.exists(file.path(record$source, "python", "transforemotion", "api.py")))
  expect_match(res$output, paste("RETURNED", test_python), fixed = TRUE)
  # The summary says where the transforemotion command is.
  expect_match(res$output, file.path(env_bin(prefix), "transforemotion"), fixed = TRUE)
  expect_true(file.exists(file.path(env_bin(prefix), "transforemotion")) ||
                file.exists(file.path(env_bin(prefix), "transforemotion.exe")))
})

test_that("a failed set-up names the step, the kind of failure and what to do", {
  skip_if_no_python()
  blocker <- tempfile("a-file-")
  writeLines("not a folder", blocker)
  expect_error(
    suppressMessages(setup_miniconda(backend = "venv", prefix = file.path(blocker, "venv"),
                                     python = test_python, jina = FALSE)),
    "step 'check platform, Python and target' \\(usage\\).*What to do: choose a --prefix inside a folder you own"
  )
  expect_identical(readLines(blocker), "not a folder")
})

test_that("without PyTorch's index, setup stops at once, says jina = FALSE and makes nothing", {
  skip_if_no_python()
  skip_if_not(identical(R.version$os, "linux-gnu") && identical(R.version$arch, "x86_64"),
              "torchvision+cpu comes from PyTorch's index on Linux x86_64 only")
  # pip finds torch in a find-links folder (as on offline machines) and nothing else anywhere.
  wheels <- tempfile("wheels-")
  dir.create(wheels)
  file.create(file.path(wheels, "torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl"))
  pip <- c(PIP_FIND_LINKS = wheels, PIP_INDEX_URL = "", PIP_EXTRA_INDEX_URL = "", PIP_PROXY = "")
  old <- Sys.getenv(names(pip), unset = NA, names = TRUE)
  do.call(Sys.setenv, as.list(pip))
  on.exit(for (k in names(pip)) if (is.na(old[[k]])) Sys.unsetenv(k) else do.call(Sys.setenv, as.list(old[k])))
  prefix <- file.path(tempfile("no-index-"), "venv")
  started <- Sys.time()
  err <- expect_error(suppressMessages(setup_miniconda(
    backend = "venv", prefix = prefix, force = FALSE, python = test_python, gpu = "cpu", jina = TRUE,
    shQuote("--torch-index-url=http://127.0.0.1:9/whl/{variant}")  # a closed port: PyTorch's index out of reach
  )))
  expect_lt(as.numeric(difftime(Sys.time(), started, units = "secs")), 60)
  expect_match(conditionMessage(err), "(network)", fixed = TRUE)
  expect_match(conditionMessage(err), "setup_miniconda(backend = \"venv\", jina = FALSE)", fixed = TRUE)
  expect_false(dir.exists(prefix))
})

test_that("a failed setup is a transforemotion_setup_error naming the step, and says what to change", {
  # A Python that cannot run the installer: no status file.
  fake <- file.path(tempdir(), "fake-python")
  writeLines(c("#!/bin/sh", "echo 'fake python' >&2", "exit 3"), fake)
  Sys.chmod(fake, "755")
  err <- tryCatch(suppressMessages(setup_miniconda(backend = "venv", prefix = file.path(tempdir(), "never"),
                                                   python = fake)), error = identity)
  expect_s3_class(err, "transforemotion_setup_error")
  expect_s3_class(err, "transforemotion_error")
  expect_identical(err$step, "start the installer")
  expect_match(conditionMessage(err), fake, fixed = TRUE)
  expect_match(conditionMessage(err), "python = ", fixed = TRUE)
  expect_no_match(conditionMessage(err), "again")

  # The installer refuses a prefix that is a file: rerunning cannot help, another prefix does.
  python <- if (nzchar(test_python)) test_python else unname(Sys.which("python3"))
  skip_if(!nzchar(python), "no Python to run the installer with")
  taken <- tempfile("a-file-")
  writeLines("not an environment", taken)
  err <- tryCatch(suppressMessages(setup_miniconda(backend = "venv", prefix = taken, python = python, jina = FALSE)),
                  error = identity)
  expect_s3_class(err, "transforemotion_setup_error")
  expect_identical(err$kind, "conflict")
  expect_match(err$step, "target", fixed = TRUE)
  expect_match(conditionMessage(err), paste0("step '", err$step, "' (conflict)"), fixed = TRUE)
  expect_match(conditionMessage(err), "is a file", fixed = TRUE)
  expect_match(conditionMessage(err), "prefix", fixed = TRUE)
  expect_no_match(conditionMessage(err), "again")
})

test_that("only a failure that a rerun can mend suggests running setup_miniconda() again", {
  setup_error <- transforEmotionBridge:::setup_error
  network <- setup_error(list(status = "failed", kind = "network", step = "install the locked requirements",
                              message = "pip could not reach PyPI", hint = "check the proxy settings"), 4L, "python3")
  expect_s3_class(network, "transforemotion_setup_error")
  expect_match(conditionMessage(network), "run setup_miniconda() again: finished steps are kept", fixed = TRUE)
  disk <- setup_error(list(status = "failed", kind = "disk", step = "check platform, Python and target",
                           message = "0.1 GB free at /tmp", hint = ""), 5L, "python3")
  expect_identical(disk$kind, "disk")
  expect_match(conditionMessage(disk), "free some disk space", fixed = TRUE)
  expect_no_match(conditionMessage(disk), "again")
})
