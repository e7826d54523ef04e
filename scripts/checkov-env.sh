#!/usr/bin/env bash
# Create or refresh .venv-checkov from tools/checkov/requirements.lock (hash-pinned). checkov gets a
# venv of its own because its `packaging` pin conflicts with pulumi's in .venv. Idempotent: a lock
# that has not changed since the last install costs one checksum.
# Re-lock after editing tools/checkov/requirements.in:
#   uv pip compile --generate-hashes --python-version 3.11 --python-platform x86_64-unknown-linux-gnu \
#     tools/checkov/requirements.in -o tools/checkov/requirements.lock
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$LEANSTACK_ROOT"

PYTHON=${PYTHON:-python3}
venv=.venv-checkov
lock=tools/checkov/requirements.lock
stamp=$venv/.lock-sha256
want=$(sha256sum "$lock" | cut -d' ' -f1)
if stamp_current "$stamp" "$want" "$venv/bin/checkov"; then
  exit 0
fi
start=$SECONDS
log "installing $lock into $venv ..."
[[ -x $venv/bin/python ]] || "$PYTHON" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r "$lock"
stamp_write "$stamp" "$want"
log "done in $((SECONDS - start))s"
