#!/usr/bin/env bash
# Regenerate conda-lock.yml from environment.yml for linux-64, osx-64, osx-arm64 and win-64.
#
#   scripts/lock-conda.sh
#
# Needs conda-lock (pip install conda-lock, or conda install -c conda-forge conda-lock) and access
# to conda.anaconda.org. Machines without conda-channel access cannot run it: use the GitHub
# workflow .github/workflows/conda-lock.yml instead, which runs this script and commits the result.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v conda-lock > /dev/null || {
    echo "conda-lock not found: pip install conda-lock (or conda install -c conda-forge conda-lock)" >&2
    exit 1
}
# Fail early, with a clear message, where conda channels are unreachable.
python - <<'PY'
import sys, urllib.request
url = "https://conda.anaconda.org/conda-forge/noarch/repodata.json.bz2"
try:
    urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=15)
except Exception as exc:  # noqa: BLE001 - any failure means the same thing here
    sys.exit(f"cannot reach conda.anaconda.org ({exc}); run this on a host with conda-channel "
             "access, or run the conda-lock GitHub workflow")
PY

conda-lock lock \
    --file environment.yml \
    --platform linux-64 --platform osx-64 --platform osx-arm64 --platform win-64 \
    --lockfile conda-lock.yml
echo "wrote conda-lock.yml"
