#!/usr/bin/env bash
# The linters the unit tests run: actionlint (tests/unit/test_workflows.py), built from its Go module
# into ~/.cache/leanstack/tools/bin (the Python wheel downloads a binary, which can't work offline),
# and shellcheck (tests/unit/test_shell.py), Debian's package. Idempotent.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

apt_install_missing shellcheck

ACTIONLINT_VERSION=v1.7.12
TOOLS="${LEANSTACK_TOOLS_DIR:-$HOME/.cache/leanstack/tools}"
if [[ -x "$TOOLS/bin/actionlint" ]] && "$TOOLS/bin/actionlint" -version 2>/dev/null | grep -q "${ACTIONLINT_VERSION#v}"; then
  exit 0
fi
start=$SECONDS
log "building actionlint $ACTIONLINT_VERSION ..."
go_env
GOBIN="$TOOLS/bin" go install -trimpath -ldflags "-s -w -X github.com/rhysd/actionlint.version=${ACTIONLINT_VERSION#v}" \
  "github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION"
log "actionlint done in $((SECONDS - start))s"
