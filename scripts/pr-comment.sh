#!/usr/bin/env bash
# Create or update the one PR comment of a stack: the comment whose body starts with the stack's
# marker line (written by `leanstack cost --format comment`). Needs gh and GH_TOKEN.
# Usage: scripts/pr-comment.sh <pr-number> <stack> <body-file>
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
pr=$1 stack=$2 body=$3
marker="<!-- leanstack-preview:${stack} -->"
[[ $(head -n 1 "$body") == "$marker" ]] || die "$body does not start with $marker"
existing=$(gh api "repos/{owner}/{repo}/issues/$pr/comments" --paginate \
  --jq ".[] | select(.body | startswith(\"$marker\")) | .id" | head -n 1)
if [[ -n $existing ]]; then
  gh api --method PATCH "repos/{owner}/{repo}/issues/comments/$existing" -F "body=@$body" >/dev/null
  echo "updated comment $existing"
else
  gh api --method POST "repos/{owner}/{repo}/issues/$pr/comments" -F "body=@$body" >/dev/null
  echo "created a comment on #$pr"
fi
