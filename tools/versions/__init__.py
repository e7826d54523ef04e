"""versions.env, the one file that states the Pulumi versions, read strictly.

    python3 -m tools.versions [FILE]     prints its KEY=VALUE lines (default: versions.env), e.g. for
                                         CI's `>> "$GITHUB_ENV"`, which accepts no comment lines

Bash sources the same file (scripts/toolchain-env.sh), so it may hold only comments, blank lines and
KEY=VALUE with the keys below and plain versions as values: anything else fails here with its line.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

KEYS = {
    "LEANSTACK_PULUMI_VERSION": "the Pulumi CLI, its Python language host and the Python SDK pulumi",
    "LEANSTACK_K8S_VERSION": "the kubernetes provider plugin and the Python SDK pulumi-kubernetes",
    "LEANSTACK_DOCKER_BUILD_VERSION": "the docker-build provider plugin and the Python SDK pulumi-docker-build",
}
# Plain release versions only: no `v` (the installers and pip want none), nothing bash would expand.
VERSION = re.compile(r"\d+\.\d+\.\d+")


class VersionsError(Exception):
    pass


def parse(text: str, name: str = "versions.env") -> dict[str, str]:
    """The versions by key; every key of KEYS must be there exactly once."""
    found: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        key, equals, value = line.partition("=")
        where = f"{name}:{number}"
        if not equals or key not in KEYS:
            raise VersionsError(f"{where}: {line.strip()[:60]!r}: expected KEY=VERSION with KEY one of {', '.join(KEYS)}")
        if not VERSION.fullmatch(value):
            raise VersionsError(f"{where}: {key}: {value!r} is not a version like 3.259.0 (digits and dots, no v, no quotes)")
        if key in found:
            raise VersionsError(f"{where}: {key}: set twice")
        found[key] = value
    missing = [key for key in KEYS if key not in found]
    if missing:
        raise VersionsError(f"{name}: missing {', '.join(missing)} ({'; '.join(KEYS[k] for k in missing)})")
    return found


def read(path: Path) -> dict[str, str]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise VersionsError(f"{path}: {error.strerror}") from None
    return parse(text, str(path))


def main(argv: list[str]) -> int:
    if len(argv) > 1 or argv[:1] in (["-h"], ["--help"]):
        print(__doc__, file=sys.stderr)
        return 2
    try:
        versions = read(Path(argv[0] if argv else "versions.env"))
    except VersionsError as error:
        print(error, file=sys.stderr)
        return 1
    print("\n".join(f"{key}={value}" for key, value in versions.items()))
    return 0
