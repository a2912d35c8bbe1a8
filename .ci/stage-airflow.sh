#!/usr/bin/env bash
# CI stage: the podcast DAG on a real Apache Airflow (Project_02/tests/test_dag.py).
# Airflow lives in a virtual environment of its own, next to the root pins, with a
# fresh AIRFLOW_HOME whose metadata database is migrated before the tests run.
# Usage: bash .ci/stage-airflow.sh WORK_DIR   (.ci/run passes its temporary folder)
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo_root"
work_dir=${1:?usage: stage-airflow.sh WORK_DIR}
python_bin=${PYTHON:-python3}

elapsed() { echo "$(( $(date +%s) - $1 )) s"; }

start=$(date +%s)
"$python_bin" -m venv "$work_dir/venv-airflow"
# shellcheck disable=SC1091
source "$work_dir/venv-airflow/bin/activate"
python -m pip install --quiet --upgrade pip
python -m pip install --quiet -r requirements.txt -r Project_02/requirements-airflow.txt
echo "airflow install: $(elapsed "$start") ($(airflow version))"

# Everything Airflow reads at import time is set before anything imports it.
export AIRFLOW_HOME="$work_dir/airflow-home"
export AIRFLOW__CORE__DAGS_FOLDER="$repo_root/Project_02/dags"
export AIRFLOW__CORE__LOAD_EXAMPLES=False
export PYTHONPATH="$repo_root/Project_02${PYTHONPATH:+:$PYTHONPATH}"
mkdir -p "$AIRFLOW_HOME"

start=$(date +%s)
airflow db migrate > "$work_dir/airflow-db-migrate.log" 2>&1 \
    || { cat "$work_dir/airflow-db-migrate.log"; exit 1; }
echo "airflow db migrate: $(elapsed "$start")"

# `-m airflow` overrides the `-m "not network"` of pytest.ini's addopts (the
# later -m wins). A run where every test was skipped proves nothing: fail it.
start=$(date +%s)
report="$work_dir/airflow-pytest.txt"
pytest -m airflow -rs --durations=3 Project_02/tests/test_dag.py | tee "$report"
echo "airflow tests: $(elapsed "$start")"
if ! grep -Eq '[0-9]+ passed' "$report" || grep -Eq '[0-9]+ skipped' "$report"; then
    echo "stage-airflow: the Airflow tests did not all run" >&2
    exit 1
fi
