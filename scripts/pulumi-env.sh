# shellcheck shell=bash
# Source this file: Pulumi state and secrets defaults for local work and CI.
#   PULUMI_BACKEND_URL        default: a file backend in .pulumi-state/ of this clone (git-ignored).
#                             Teams set s3://..., gs://..., azblob://... or Pulumi Cloud instead.
#   PULUMI_CONFIG_PASSPHRASE  default: leanstack-local-only, the passphrase the committed stack files
#                             are encrypted with. Local-only: set your own for real secrets.
_leanstack_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [[ -z "${PULUMI_BACKEND_URL:-}" && -z "${PULUMI_ACCESS_TOKEN:-}" ]]; then
  mkdir -p "$_leanstack_root/.pulumi-state"
  export PULUMI_BACKEND_URL="file://$_leanstack_root/.pulumi-state"
fi
if [[ -z "${PULUMI_CONFIG_PASSPHRASE+set}" && -z "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]]; then
  export PULUMI_CONFIG_PASSPHRASE=leanstack-local-only
fi
unset _leanstack_root
