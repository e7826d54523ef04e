"""The PR comment step keeps one comment per stack: tools/prcomment (and scripts/pr-comment.sh, what CI
runs) against a small fake of GitHub's issue-comments API served on 127.0.0.1 by the test."""

from __future__ import annotations

import json
import os
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator
from urllib.parse import parse_qs, urlsplit

import pytest

from leanstack.costing.output import comment_marker
from tests.unit.conftest import ROOT
from tools.prcomment import MARKER, CommentError, GitHub, upsert

REPO, PR = "acme/shop", 7


class FakeGitHub(ThreadingHTTPServer):
    """Issue comments of REPO in memory; pages of `per_page` with a Link header, as GitHub answers."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.comments: list[dict[str, Any]] = []
        self.calls: list[str] = []
        self.fail: tuple[int, str] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def add(self, body: str) -> int:
        self.comments.append({"id": 1000 + len(self.comments), "body": body, "user": {"login": "someone"}})
        return self.comments[-1]["id"]

    def body(self, comment: int) -> str:
        return next(c["body"] for c in self.comments if c["id"] == comment)


class Handler(BaseHTTPRequestHandler):
    server: FakeGitHub

    def answer(self, status: int, payload: Any, link: str = "") -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if link:
            self.send_header("Link", link)
        self.end_headers()
        self.wfile.write(data)

    def route(self, method: str) -> None:
        url = urlsplit(self.path)
        self.server.calls.append(f"{method} {url.path}" + (f"?{url.query}" if url.query else ""))
        if self.headers.get("Authorization") != "Bearer test-token":
            return self.answer(401, {"message": "Bad credentials"})
        if self.server.fail:
            return self.answer(self.server.fail[0], {"message": self.server.fail[1]})
        issue = f"/repos/{REPO}/issues/{PR}/comments"
        if method == "GET" and url.path == issue:
            query = parse_qs(url.query)
            size, page = int(query["per_page"][0]), int(query.get("page", ["1"])[0])
            items = self.server.comments[(page - 1) * size:page * size]
            more = len(self.server.comments) > page * size
            link = f'<{self.server.url}{issue}?per_page={size}&page={page + 1}>; rel="next"' if more else ""
            return self.answer(200, items, link)
        payload = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if method == "POST" and url.path == issue:
            return self.answer(201, {"id": self.server.add(payload["body"])})
        prefix = f"/repos/{REPO}/issues/comments/"
        if method == "PATCH" and url.path.startswith(prefix):
            comment = next(c for c in self.server.comments if c["id"] == int(url.path.removeprefix(prefix)))
            comment["body"] = payload["body"]
            return self.answer(200, comment)
        self.answer(404, {"message": "Not Found"})

    def do_GET(self) -> None:
        self.route("GET")

    def do_POST(self) -> None:
        self.route("POST")

    def do_PATCH(self) -> None:
        self.route("PATCH")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    server = FakeGitHub()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


def github(fake: FakeGitHub, token: str = "test-token") -> GitHub:
    return GitHub(fake.url, REPO, token)


def comment(stack: str, text: str) -> str:
    return f"{MARKER.format(stack=stack)}\n{text}\n"


def test_the_marker_is_the_one_leanstack_cost_writes():
    assert MARKER.format(stack="prod") == comment_marker("prod")


def test_a_second_run_edits_the_stacks_one_comment_and_another_stack_gets_its_own(fake):
    fake.add("LGTM")
    assert upsert(github(fake), PR, "dev", comment("dev", "+$1")).startswith("created comment 1001 of dev")
    assert upsert(github(fake), PR, "dev", comment("dev", "+$2")) == f"updated comment 1001 of dev on #{PR}"
    assert upsert(github(fake), PR, "prod", comment("prod", "+$9")).startswith("created comment 1002 of prod")
    assert [c["body"] for c in fake.comments] == ["LGTM", comment("dev", "+$2"), comment("prod", "+$9")]


def test_a_stack_whose_name_prefixes_another_is_not_confused_with_it(fake):
    prod_eu = fake.add(comment("prod-eu", "eu"))
    upsert(github(fake), PR, "prod", comment("prod", "us"))
    assert len(fake.comments) == 2 and fake.body(prod_eu) == comment("prod-eu", "eu")


def test_the_comment_is_found_on_a_later_page(fake):
    for n in range(230):
        fake.add(f"chatter {n}")
    ours = fake.add(comment("staging", "old"))
    assert upsert(github(fake), PR, "staging", comment("staging", "new")) == f"updated comment {ours} of staging on #{PR}"
    pages = [call for call in fake.calls if call.startswith("GET")]
    assert pages == [f"GET /repos/{REPO}/issues/{PR}/comments?per_page=100",
                     f"GET /repos/{REPO}/issues/{PR}/comments?per_page=100&page=2",
                     f"GET /repos/{REPO}/issues/{PR}/comments?per_page=100&page=3"]
    assert fake.body(ours) == comment("staging", "new") and len(fake.comments) == 231


def test_an_api_error_is_one_line_with_the_call_and_githubs_message(fake):
    with pytest.raises(CommentError) as error:
        upsert(github(fake, token="expired"), PR, "dev", comment("dev", "x"))
    assert str(error.value) == f"GitHub API: GET /repos/{REPO}/issues/{PR}/comments?per_page=100: 401 Unauthorized: Bad credentials"
    fake.fail = (403, "Resource not accessible by integration")
    with pytest.raises(CommentError, match=r"^GitHub API: GET .*: 403 Forbidden: Resource not accessible by integration$"):
        upsert(github(fake), PR, "dev", comment("dev", "x"))


def test_a_body_without_the_stacks_marker_is_refused_before_any_call(fake):
    with pytest.raises(CommentError, match=r"^the comment body: must start with the line <!-- leanstack-preview:dev -->"):
        upsert(github(fake), PR, "dev", comment("prod", "x"))
    assert fake.calls == []


def run_script(fake: FakeGitHub, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/"), "GITHUB_API_URL": fake.url,
                   "GITHUB_REPOSITORY": REPO, "GITHUB_TOKEN": "test-token", **env}
    return subprocess.run([str(ROOT / "scripts" / "pr-comment.sh"), *args], env=environment,
                          capture_output=True, text=True, timeout=60)


def test_the_ci_script_creates_then_updates_and_names_its_errors(fake, tmp_path):
    body = tmp_path / "comment.md"
    body.write_text(comment("dev", "+$1"))
    first = run_script(fake, str(PR), "dev", str(body))
    assert first.returncode == 0 and first.stdout == f"created comment 1000 of dev on #{PR}\n", first.stderr
    body.write_text(comment("dev", "+$3"))
    second = run_script(fake, str(PR), "dev", str(body))
    assert second.stdout == f"updated comment 1000 of dev on #{PR}\n" and fake.comments == [
        {"id": 1000, "body": comment("dev", "+$3"), "user": {"login": "someone"}}]
    no_token = run_script(fake, str(PR), "dev", str(body), GITHUB_TOKEN="")
    assert (no_token.returncode, no_token.stderr) == (1, "pr-comment: GITHUB_TOKEN is not set (in a workflow: env GITHUB_TOKEN: ${{ github.token }})\n")
    missing = run_script(fake, str(PR), "dev", str(tmp_path / "none.md"))
    assert (missing.returncode, missing.stderr) == (1, f"pr-comment: {tmp_path / 'none.md'}: No such file or directory\n")
