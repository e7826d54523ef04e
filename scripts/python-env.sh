#!/usr/bin/env bash
# Create or refresh .venv from requirements.lock (hash-pinned), plus the `leanstack` command. Idempotent: a lock that has not
# changed since the last install costs one checksum.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
stamp=.venv/.lock-sha256
want=$(cat requirements.lock pyproject.toml | sha256sum | cut -d' ' -f1)
if [[ -x .venv/bin/python && -f $stamp && $(cat "$stamp") == "$want" ]]; then
  exit 0
fi
start=$SECONDS
echo "[python] installing requirements.lock into .venv ..."
[[ -x .venv/bin/python ]] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip --version >/dev/null 2>&1 || .venv/bin/python -m ensurepip --upgrade >/dev/null
.venv/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements.lock
# The project itself, editable, for the `leanstack` console command (no dependencies of its own).
.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
echo "$want" > "$stamp"
echo "[python] done in $((SECONDS - start))s"
