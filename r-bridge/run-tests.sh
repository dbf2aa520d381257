#!/usr/bin/env bash
# Tests of the R package transforEmotionBridge, for .ci/run (after the Python tests).
#
#   r-bridge/run-tests.sh [VENV]
#
# 1. installs R, reticulate, testthat and roxygen2 from Debian (if missing);
# 2. makes the Python environment the way a user does, with setup_miniconda(backend = "venv",
#    prefix = VENV) from the installed package (default VENV: .ci-r-venv at the repository root;
#    a second run only checks it);
# 3. runs testthat against that environment, through real reticulate;
# 4. R CMD build + R CMD check --no-manual: fails on any ERROR or WARNING.
#
# Set TRANSFOREMOTION_PYTHON to an existing environment's Python to skip step 2.
# TRANSFOREMOTION_JINA=FALSE leaves out jina-clip-v2's layer (needs PyTorch's own index for
# torchvision+cpu, which CI machines cannot reach); TRANSFOREMOTION_GPU=auto|cuda|cpu picks the
# flavour (default auto).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
venv="${1:-$root/.ci-r-venv}"

if ! command -v Rscript >/dev/null || ! Rscript -e 'for (p in c("reticulate", "testthat")) library(p, character.only = TRUE)' >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq r-base-core r-cran-reticulate r-cran-testthat >/dev/null
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
lib="$work/lib"
mkdir -p "$lib"
export R_LIBS="$lib${R_LIBS:+:$R_LIBS}"

echo "== R CMD INSTALL r-bridge"
R CMD INSTALL --no-test-load -l "$lib" "$here" >"$work/install.log" 2>&1 || { cat "$work/install.log"; exit 1; }

if [ -z "${TRANSFOREMOTION_PYTHON:-}" ]; then
  setup="setup_miniconda(backend = 'venv', prefix = '$venv', gpu = '${TRANSFOREMOTION_GPU:-auto}', jina = ${TRANSFOREMOTION_JINA:-TRUE})"
  echo "== $setup"
  Rscript -e "library(transforEmotionBridge); $setup"
  if [ -x "$venv/bin/python" ]; then
    TRANSFOREMOTION_PYTHON="$venv/bin/python"
  else
    TRANSFOREMOTION_PYTHON="$venv/Scripts/python.exe"
  fi
fi
export TRANSFOREMOTION_PYTHON
# transformers' progress bars would fill the log
export HF_HUB_DISABLE_PROGRESS_BARS=1 TRANSFORMERS_VERBOSITY=error

echo "== testthat (Python: $TRANSFOREMOTION_PYTHON)"
(cd "$here/tests" && Rscript -e '
  library(testthat)
  res <- test_dir("testthat", package = "transforEmotionBridge", load_package = "installed",
                  reporter = ProgressReporter$new(show_praise = FALSE), stop_on_failure = TRUE)
  skipped <- sum(as.data.frame(res)$skipped)
  if (skipped > 0) stop(skipped, " tests were skipped: the Python environment was not usable")
')

echo "== R CMD build + R CMD check"
(cd "$work" && R CMD build --no-manual "$here" >build.log 2>&1) || { cat "$work/build.log"; exit 1; }
tarball="$(ls "$work"/transforEmotionBridge_*.tar.gz)"
# Examples run against the same environment, \donttest{} ones included.
(cd "$work" && RETICULATE_PYTHON="$TRANSFOREMOTION_PYTHON" R CMD check --no-manual --run-donttest "$tarball") | tee "$work/check.log"
if grep -Eq "Status: .*(ERROR|WARNING)" "$work/check.log"; then
  cat "$work"/transforEmotionBridge.Rcheck/00check.log
  exit 1
fi
