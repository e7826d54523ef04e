#!/usr/bin/env bash
# Create or refresh .venv from requirements.lock (hash-pinned). Idempotent: a lock that has not
# changed since the last install costs one checksum.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
stamp=.venv/.lock-sha256
want=$(sha256sum requirements.lock | cut -d' ' -f1)
if [[ -x .venv/bin/python && -f $stamp && $(cat "$stamp") == "$want" ]]; then
  exit 0
fi
start=$SECONDS
echo "[python] installing requirements.lock into .venv ..."
[[ -x .venv/bin/python ]] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements.lock
echo "$want" > "$stamp"
echo "[python] done in $((SECONDS - start))s"
