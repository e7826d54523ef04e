"""JSON helpers for scripts/toolchain.sh, so the shell only orchestrates.

    python3 -m tools.toolchain module-dir < `go mod download -json MOD@VERSION`
        prints the module's directory in the module cache, or fails with go's error
    python3 -m tools.toolchain has-plugin NAME VERSION < `pulumi plugin ls --json`
        exits 0 when that resource plugin is installed at exactly that version
"""

from __future__ import annotations

import json
import sys
from typing import Any


class ToolchainError(Exception):
    pass


def module_dir(download: str) -> str:
    """The `Dir` of one `go mod download -json` answer."""
    try:
        answer: Any = json.loads(download)
    except json.JSONDecodeError:
        raise ToolchainError(f"go mod download: not JSON: {download.strip()[:200]}") from None
    if not isinstance(answer, dict) or not answer.get("Dir"):
        error = answer.get("Error", "no Dir in the answer") if isinstance(answer, dict) else "not an object"
        raise ToolchainError(f"go mod download: {error}")
    return str(answer["Dir"])


def has_plugin(listing: str, name: str, version: str) -> bool:
    """Is resource plugin `name` installed at exactly `version` (with or without a leading v)?"""
    try:
        plugins = json.loads(listing) or []
    except json.JSONDecodeError:
        return False
    want = version.lstrip("v")
    return any(isinstance(p, dict) and p.get("kind") == "resource" and p.get("name") == name
               and str(p.get("version", "")).lstrip("v") == want for p in plugins)


def main(argv: list[str]) -> int:
    if argv[:1] == ["module-dir"] and len(argv) == 1:
        try:
            print(module_dir(sys.stdin.read()))
        except ToolchainError as error:
            print(error, file=sys.stderr)
            return 1
        return 0
    if argv[:1] == ["has-plugin"] and len(argv) == 3:
        return 0 if has_plugin(sys.stdin.read(), argv[1], argv[2]) else 1
    print(__doc__, file=sys.stderr)
    return 2
