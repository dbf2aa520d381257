test_that("the R package's default venv folder is the installer's", {
  installer <- file.path(system.file("python", package = "transforEmotionBridge"), "python", "installer")
  expect_true(file.exists(file.path(installer, "__main__.py")))
  python <- if (nzchar(test_python)) test_python else unname(Sys.which("python3"))
  skip_if(!nzchar(python), "no Python to run the installer with")
  for (xdg in c("", file.path(tempdir(), "xdg"))) {
    from_python <- system2(python, c("-B", shQuote(installer), "--print-default-venv"), stdout = TRUE,
                           env = if (nzchar(xdg)) paste0("XDG_DATA_HOME=", xdg) else character())
    old <- Sys.getenv("XDG_DATA_HOME", unset = NA)
    if (nzchar(xdg)) Sys.setenv(XDG_DATA_HOME = xdg) else Sys.unsetenv("XDG_DATA_HOME")
    from_r <- transforEmotionBridge:::default_venv_path()
    if (is.na(old)) Sys.unsetenv("XDG_DATA_HOME") else Sys.setenv(XDG_DATA_HOME = old)
    expect_equal(normalizePath(from_r, mustWork = FALSE), normalizePath(from_python, mustWork = FALSE))
  }
})

test_that("the package ships the project's current files (one source, no stale copy)", {
  shipped <- system.file("python", package = "transforEmotionBridge")
  # Only when the tests run from a checkout (r-bridge/tests/testthat): compare with the repository.
  repo <- normalizePath(file.path(testthat::test_path(), "..", "..", ".."), mustWork = FALSE)
  skip_if_not(file.exists(file.path(repo, "python", "installer", "__main__.py")), "not run from a checkout")
  # What the installer (python/installer) reads from the project root. r-bridge/inst/python
  # holds a symlink to each; one added to the repository later needs its link too.
  for (f in c("pyproject.toml", "README.md", "environment.yml", "conda-lock.yml", "requirements", "python")) {
    if (file.exists(file.path(repo, f))) {
      expect(file.exists(file.path(shipped, f)), sprintf(
        "%s is in the repository but not in the R package: run  ln -s ../../../%s r-bridge/inst/python/%s", f, f, f
      ))
    }
  }
  # The installer, the package it installs, and every lock and its input.
  files <- c(
    file.path("python", "installer", list.files(file.path(repo, "python", "installer"), "\\.py$")),
    file.path("python", "transforemotion", list.files(file.path(repo, "python", "transforemotion"), "\\.py$")),
    file.path("requirements", list.files(file.path(repo, "requirements"), "\\.(txt|in)$"))
  )
  expect_true(any(grepl("requirements-jina-lock.txt", files, fixed = TRUE)))
  expect_identical(unname(tools::md5sum(file.path(shipped, files))), unname(tools::md5sum(file.path(repo, files))),
                   label = "md5 sums of the shipped Python files (reinstall the R package?)")
})

test_that("RETICULATE_PYTHON comes first", {
  old <- Sys.getenv("RETICULATE_PYTHON", unset = NA)
  on.exit(if (is.na(old)) Sys.unsetenv("RETICULATE_PYTHON") else Sys.setenv(RETICULATE_PYTHON = old))
  Sys.setenv(RETICULATE_PYTHON = "/somewhere/bin/python")
  found <- find_python()
  expect_equal(found$python, "/somewhere/bin/python")
  expect_match(found$source, "RETICULATE_PYTHON")
})

test_that("without any environment, scoring says to run setup_miniconda() and installs nothing", {
  home <- file.path(tempdir(), "empty-home")
  dir.create(home, showWarnings = FALSE)
  face <- system.file("extdata", "face.jpg", package = "transforEmotionBridge")
  res <- run_r(
    c(
      sprintf(".libPaths(c(%s))", paste(deparse(.libPaths()), collapse = "")),
      "library(transforEmotionBridge)",
      "stopifnot(is.null(find_python()), !python_available())",
      sprintf("image_scores(%s, c('joy', 'anger'))", deparse(face))
    ),
    env = c(
      "RETICULATE_PYTHON=", "RETICULATE_PYTHON_ENV=", "TRANSFOREMOTION_PYTHON=",
      paste0("XDG_DATA_HOME=", home), paste0("HOME=", home),
      # keep conda out of sight, so an environment on this machine does not count
      "PATH=/usr/bin:/bin", "CONDA_EXE=", "MAMBA_EXE=", "WORKON_HOME="
    )
  )
  expect_false(identical(res$status, 0L))
  expect_match(res$output, "Run setup_miniconda() once to create one", fixed = TRUE)
  expect_false(dir.exists(file.path(home, "transforemotion")))
})

test_that("a new session's first call finds the set-up venv on its own, even one that converts a result", {
  skip_if_no_python()
  skip_on_os(c("windows", "mac"))  # the default venv folder is found through XDG_DATA_HOME here
  skip_if_not(is.null(transforEmotionBridge:::conda_env_python()), "a conda environment 'transforemotion' comes first")
  # The user's default venv folder, as setup_miniconda(backend = "venv") makes it: here a link to the tests' venv.
  xdg <- file.path(tempdir(), "xdg-first-call")
  dir.create(file.path(xdg, "transforemotion"), recursive = TRUE, showWarnings = FALSE)
  file.symlink(dirname(dirname(test_python)), file.path(xdg, "transforemotion", "venv"))
  # reticulate put the tests' venv first on this session's PATH, where a user's session has no venv.
  path <- strsplit(Sys.getenv("PATH"), .Platform$path.sep, fixed = TRUE)[[1]]
  user_path <- paste(path[path != dirname(test_python)], collapse = .Platform$path.sep)
  saved <- file.path(tempdir(), "first-call.parquet")
  save_embeddings(embed_images(face_image(), local_model_path = tiny_model()), saved)
  first_call <- function(call) {
    run_r(c(
      'Sys.unsetenv("RETICULATE_PYTHON")',  # as in a user's session: nothing set, nothing started
      sprintf(".libPaths(c(%s))", paste(deparse(.libPaths()), collapse = "")),
      "library(transforEmotionBridge)",
      sprintf("result <- %s", call),
      "cat('ROWS', nrow(result$vectors), '\\n')",
      "cat('PREFIX', normalizePath(reticulate::import('sys')$prefix), '\\n')"
    ), env = c(paste0("XDG_DATA_HOME=", xdg), paste0("PATH=", shQuote(user_path))))
  }
  for (call in c(sprintf("embed_images(%s, local_model_path = %s)", deparse(face_image()), deparse(tiny_model())),
                 sprintf("load_embeddings(%s)", deparse(saved)))) {
    res <- first_call(call)
    expect_identical(res$status, 0L, info = res$output)
    expect_match(res$output, "ROWS 1 ", fixed = TRUE)
    expect_match(res$output, paste("PREFIX", normalizePath(dirname(dirname(test_python)))), fixed = TRUE)
  }
})
