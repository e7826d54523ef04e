#!/usr/bin/env bash
# Create or update the one PR comment of a stack (tools/prcomment: its docstring says how the comment is
# found and which GITHUB_* variables it reads; tests/unit/test_pr_comment.py runs this against a fake API).
# Usage: scripts/pr-comment.sh <pr-number> <stack> <body-file>
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
py_tool prcomment "$@"
