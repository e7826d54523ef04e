#!/usr/bin/env bash
# Create or update the one PR comment of a stack: the comment whose body starts with the stack's
# marker line (written by `leanstack cost --format comment`). Needs gh and GH_TOKEN.
# Usage: scripts/pr-comment.sh <pr-number> <stack> <body-file>
set -euo pipefail
pr=$1 stack=$2 body=$3
marker="<!-- leanstack-preview:${stack} -->"
[[ $(head -n 1 "$body") == "$marker" ]] || { echo "pr-comment: $body does not start with $marker" >&2; exit 2; }
existing=$(gh api "repos/{owner}/{repo}/issues/$pr/comments" --paginate \
  --jq ".[] | select(.body | startswith(\"$marker\")) | .id" | head -n 1)
if [[ -n $existing ]]; then
  gh api --method PATCH "repos/{owner}/{repo}/issues/comments/$existing" -F "body=@$body" >/dev/null
  echo "updated comment $existing"
else
  gh api --method POST "repos/{owner}/{repo}/issues/$pr/comments" -F "body=@$body" >/dev/null
  echo "created a comment on #$pr"
fi
