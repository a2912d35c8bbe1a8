#!/usr/bin/env bash
# CI stage: Project_02's optional speech-to-text extra, tested in a virtual environment
# of its own. Usage: bash .ci/stage-transcribe.sh WORK_DIR (the CI run's scratch folder).
# Fails when a transcription test fails, or when none ran (e.g. all were skipped).
set -euo pipefail

work_dir=${1:?usage: stage-transcribe.sh WORK_DIR}
repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo_root"
python_bin=${PYTHON:-python3}
venv="$work_dir/venv-transcribe"

# espeak-ng lets the tests synthesise a fresh clip; without it they use the committed one.
if ! command -v espeak-ng >/dev/null 2>&1; then
    if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ] \
        && { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
             apt-get install -y -qq --no-install-recommends espeak-ng; } >/dev/null 2>&1; then
        echo "installed $(espeak-ng --version)"
    else
        echo "espeak-ng unavailable: the tests use the committed clip only"
    fi
fi

"$python_bin" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet -r requirements.txt \
    -r Project_02/requirements-transcribe.txt

# `-m transcribe` replaces pytest.ini's `-m "not network"`: only these tests run.
junit="$work_dir/transcribe-junit.xml"
"$venv/bin/python" -m pytest -m transcribe Project_02/tests --junitxml="$junit"

"$venv/bin/python" - "$junit" <<'PY'
import sys
import xml.etree.ElementTree as ET

suite = ET.parse(sys.argv[1]).getroot().find("testsuite")
ran = int(suite.get("tests")) - int(suite.get("skipped"))
if ran == 0:
    sys.exit("stage-transcribe: no transcription test ran (all skipped or none collected)")
print(f"stage-transcribe: {ran} transcription tests ran")
PY
