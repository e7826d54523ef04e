#!/usr/bin/env bash
# Create or refresh .venv-checkov from tools/checkov/requirements.lock (hash-pinned). checkov gets a
# venv of its own because its `packaging` pin conflicts with pulumi's in .venv. Idempotent: a lock
# that has not changed since the last install costs one checksum.
# Re-lock after editing tools/checkov/requirements.in:
#   uv pip compile --generate-hashes --python-version 3.11 --python-platform x86_64-unknown-linux-gnu \
#     tools/checkov/requirements.in -o tools/checkov/requirements.lock
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
venv=.venv-checkov
lock=tools/checkov/requirements.lock
stamp=$venv/.lock-sha256
want=$(sha256sum "$lock" | cut -d' ' -f1)
if [[ -x $venv/bin/checkov && -f $stamp && $(cat "$stamp") == "$want" ]]; then
  exit 0
fi
start=$SECONDS
echo "[checkov] installing $lock into $venv ..."
[[ -x $venv/bin/python ]] || "$PYTHON" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r "$lock"
echo "$want" > "$stamp"
echo "[checkov] done in $((SECONDS - start))s"
