#!/usr/bin/env bash
# Create or refresh .venv from requirements.lock (hash-pinned), plus the `leanstack` command. Idempotent: a lock that has not
# changed since the last install costs one checksum.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$LEANSTACK_ROOT"

PYTHON=${PYTHON:-python3}
stamp=.venv/.lock-sha256
want=$(cat requirements.lock pyproject.toml | sha256sum | cut -d' ' -f1)
if stamp_current "$stamp" "$want" .venv/bin/python; then
  exit 0
fi
start=$SECONDS
log "installing requirements.lock into .venv ..."
[[ -x .venv/bin/python ]] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip --version >/dev/null 2>&1 || .venv/bin/python -m ensurepip --upgrade >/dev/null
.venv/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements.lock
# The project itself, editable, for the `leanstack` console command (its dependencies are the lock's, installed above).
.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
stamp_write "$stamp" "$want"
log "done in $((SECONDS - start))s"
