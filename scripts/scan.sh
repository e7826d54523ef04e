#!/usr/bin/env bash
# Independent scanners: checkov, kubernetes-validate and the policy rules on rendered manifests;
# checkov and hadolint on every Dockerfile under apps/. Skips: scan-skips.yaml only. Exit 1 on any failure.
#   scripts/scan.sh <manifest-dir>...            e.g. scripts/scan.sh rendered/prod
#   scripts/scan.sh --report docs/security.md    render dev, staging and prod, scan them, write the report
# Paths are taken relative to the current directory.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"

# .venv belongs to the test command (scripts/python-env.sh): made here only when missing, so a scan
# never reinstalls it under a running test. checkov's own venv is brought up to its lock (idempotent).
[[ -x "$root/.venv/bin/python" ]] || "$root/scripts/python-env.sh"
"$root/scripts/checkov-env.sh"
exec "$root/.venv/bin/python" -m leanstack.scan --project-dir "$root" "$@"
