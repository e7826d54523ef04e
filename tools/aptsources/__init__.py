"""The Debian mirrors this machine's apt uses, for scripts/base-images.sh:

    python3 -m tools.aptsources SUITE     two lines: the mirror of 'SUITE main', then of
                                          'SUITE-security main' (an empty line where apt has none)

It reads /etc/apt/sources.list and the *.list and *.sources files of /etc/apt/sources.list.d, in
apt's order (the one-line format and deb822 stanzas); the first enabled `deb` source of a suite
with the `main` component wins. Standard library only: it runs on the host's python3 before any
venv exists.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator, Optional


@dataclass(frozen=True)
class Source:
    """One `deb` source: a mirror URI (no trailing slash), the suites and the components it serves."""

    uri: str
    suites: tuple[str, ...]
    components: tuple[str, ...]


def parse_list(text: str) -> Iterator[Source]:
    """The `deb` lines of a one-line-format file (`deb [options] URI SUITE COMPONENT...`)."""
    for line in text.splitlines():
        words = re.sub(r"\[[^]]*\]", "", line.split("#", 1)[0]).split()
        if len(words) >= 4 and words[0] == "deb":
            yield Source(words[1].rstrip("/"), (words[2],), tuple(words[3:]))


def _stanza_fields(stanza: str) -> dict[str, list[str]]:
    """A deb822 stanza's fields, names lower-cased, values split on white space; a line that starts
    with white space continues the field before it (a long URIs list, an inline Signed-By key)."""
    fields: dict[str, list[str]] = {}
    current: Optional[list[str]] = None
    for line in stanza.splitlines():
        if line.startswith("#"):
            continue
        if line[:1].isspace():
            if current is not None:
                current.extend(line.split())
            continue
        name, colon, value = line.partition(":")
        if not colon:
            current = None
            continue
        current = fields.setdefault(name.strip().lower(), [])
        current.extend(value.split())
    return fields


def parse_sources(text: str) -> Iterator[Source]:
    """The enabled `deb` stanzas of a deb822 file, one Source per URI."""
    for stanza in re.split(r"\n\s*\n", text):
        fields = _stanza_fields(stanza)
        if "deb" not in fields.get("types", []) or fields.get("enabled", ["yes"])[:1] == ["no"]:
            continue
        for uri in fields.get("uris", []):
            yield Source(uri.rstrip("/"), tuple(fields.get("suites", [])), tuple(fields.get("components", [])))


def mirrors(sources: Iterable[Source], suite: str) -> tuple[Optional[str], Optional[str]]:
    """The first mirror serving SUITE main and the first serving SUITE-security main."""
    main = security = None
    for source in sources:
        if "main" not in source.components:
            continue
        if main is None and suite in source.suites:
            main = source.uri
        if security is None and f"{suite}-security" in source.suites:
            security = source.uri
    return main, security


def source_files(etc_apt: Path) -> list[Path]:
    """apt's source files in the order it reads them; apt ignores other names (*.save, *.disabled)."""
    parts = etc_apt / "sources.list.d"
    found = sorted(p for p in parts.glob("*") if p.suffix in (".list", ".sources")) if parts.is_dir() else []
    return [etc_apt / "sources.list", *found]


def read_sources(files: Iterable[Path], warn: Callable[[str], None]) -> Iterator[Source]:
    """The sources of every file; a missing sources.list is normal (deb822-only systems), an unreadable
    file is skipped with a warning (apt itself would fail on it)."""
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            continue
        except (OSError, UnicodeDecodeError) as error:
            warn(f"skipping {path}: {error}")
            continue
        yield from (parse_sources(text) if path.suffix == ".sources" else parse_list(text))


def main(argv: list[str], etc_apt: Path = Path("/etc/apt")) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    def warn(message: str) -> None:
        print(f"tools.aptsources: {message}", file=sys.stderr)
    main_mirror, security = mirrors(read_sources(source_files(etc_apt), warn), argv[0])
    print(main_mirror or "")
    print(security or "")
    return 0
