"""Create or update the one PR comment of a stack over GitHub's REST API (scripts/pr-comment.sh, CI).

    python3 -m tools.prcomment PR STACK BODY_FILE

The comment of a stack is the first one on the PR whose body starts with the stack's marker line,
which `leanstack cost --format comment` writes first (leanstack.costing.output.comment_marker; a unit
test keeps MARKER equal to it): found, it is edited in place; absent, one is created. So every push
to a PR rewrites one comment per stack instead of adding one per run.

Environment (what a GitHub Actions job provides): GITHUB_TOKEN (or GH_TOKEN), GITHUB_REPOSITORY
(owner/name), GITHUB_API_URL (default https://api.github.com). The standard library only, like the
other tools, so it runs on the runner's python3 without the venv.
"""

from __future__ import annotations

import json
import os
import re
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

MARKER = "<!-- leanstack-preview:{stack} -->"
# GitHub's largest page: a PR with many comments costs few requests.
PER_PAGE = 100
NEXT_LINK = re.compile(r'<([^>]+)>;\s*rel="next"')


class CommentError(Exception):
    pass


@dataclass(frozen=True)
class GitHub:
    """The few REST calls on one repository's issue comments (a PR is an issue to this API)."""

    api: str
    repo: str
    token: str

    def request(self, method: str, url: str, payload: Optional[dict[str, Any]] = None) -> tuple[Any, str]:
        """The decoded JSON answer and the Link header; any failure is one CommentError line."""
        data = None if payload is None else json.dumps(payload).encode()
        request = urllib.request.Request(url, data=data, method=method, headers={
            "Accept": "application/vnd.github+json", "Authorization": f"Bearer {self.token}",
            "X-GitHub-Api-Version": "2022-11-28", "User-Agent": "leanstack-pr-comment",
            **({"Content-Type": "application/json"} if data is not None else {})})
        path = url.removeprefix(self.api)
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return json.loads(answer.read() or b"null"), answer.headers.get("Link", "")
        except urllib.error.HTTPError as error:
            raise CommentError(f"GitHub API: {method} {path}: {error.code} {error.reason}: {api_message(error)}") from None
        except urllib.error.URLError as error:
            raise CommentError(f"GitHub API: {method} {path}: {error.reason}") from None
        except json.JSONDecodeError:
            raise CommentError(f"GitHub API: {method} {path}: the answer is not JSON") from None

    def comments(self, pr: int) -> list[dict[str, Any]]:
        """Every comment of the PR, following the Link header's next pages."""
        url: Optional[str] = f"{self.api}/repos/{self.repo}/issues/{pr}/comments?per_page={PER_PAGE}"
        found: list[dict[str, Any]] = []
        while url:
            page, link = self.request("GET", url)
            if not isinstance(page, list):
                raise CommentError(f"GitHub API: GET {url.removeprefix(self.api)}: expected a list of comments")
            found.extend(page)
            following = NEXT_LINK.search(link)
            url = following.group(1) if following else None
        return found

    def create(self, pr: int, body: str) -> int:
        created, _ = self.request("POST", f"{self.api}/repos/{self.repo}/issues/{pr}/comments", {"body": body})
        return int(created["id"])

    def update(self, comment: int, body: str) -> None:
        self.request("PATCH", f"{self.api}/repos/{self.repo}/issues/comments/{comment}", {"body": body})


def api_message(error: urllib.error.HTTPError) -> str:
    """GitHub's own `message`, else the start of the body."""
    text = error.read().decode("utf-8", "replace")
    try:
        return str(json.loads(text)["message"])
    except (ValueError, KeyError, TypeError):
        return text.strip().replace("\n", " ")[:200] or "no message"


def upsert(github: GitHub, pr: int, stack: str, body: str, source: str = "the comment body") -> str:
    """Edit the stack's comment, or create it: what was done, as one line."""
    marker = MARKER.format(stack=stack)
    if body.partition("\n")[0] != marker:
        raise CommentError(f"{source}: must start with the line {marker} (leanstack cost --format comment writes it)")
    existing = [c["id"] for c in github.comments(pr) if str(c.get("body") or "").startswith(marker)]
    if existing:
        github.update(existing[0], body)
        return f"updated comment {existing[0]} of {stack} on #{pr}"
    return f"created comment {github.create(pr, body)} of {stack} on #{pr}"


def from_environment(env: dict[str, str]) -> GitHub:
    token = env.get("GITHUB_TOKEN") or env.get("GH_TOKEN")
    if not token:
        raise CommentError("GITHUB_TOKEN is not set (in a workflow: env GITHUB_TOKEN: ${{ github.token }})")
    repo = env.get("GITHUB_REPOSITORY", "")
    if not re.fullmatch(r"[\w.-]+/[\w.-]+", repo):
        raise CommentError(f"GITHUB_REPOSITORY: {repo!r} is not owner/name")
    return GitHub(env.get("GITHUB_API_URL", "https://api.github.com").rstrip("/"), repo, token)


def main(argv: list[str], env: Optional[dict[str, str]] = None) -> int:
    if len(argv) != 3 or not argv[0].isdigit():
        print(__doc__, file=sys.stderr)
        return 2
    pr, stack, body_file = int(argv[0]), argv[1], Path(argv[2])
    try:
        try:
            body = body_file.read_text(encoding="utf-8")
        except OSError as error:
            raise CommentError(f"{body_file}: {error.strerror}") from None
        print(upsert(from_environment(dict(os.environ) if env is None else env), pr, stack, body, str(body_file)))
    except CommentError as error:
        print(f"pr-comment: {error}", file=sys.stderr)
        return 1
    return 0
