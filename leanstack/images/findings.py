"""Findings: the kinds of bytes that slim images drop by hand, found in the image's final filesystem,
each with its bytes and the layer that added them.

A rule is a pattern on absolute paths; its `root` group names what to remove (a directory or a
file), so many files fold into a few lines. Only files that survive to the final image count: what
a later layer deleted is wasted bytes (leanstack.images.efficiency), not a finding.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import PurePosixPath
from typing import Callable, Mapping

from leanstack.images.filesystem import Node

PY = r"python3(\.\d+)?"
SITE = rf"(?P<root>.*/{PY}/(site|dist)-packages)"


def anything(path: str, tree: Mapping[str, Node]) -> bool:
    return True


def beside_its_source(path: str, tree: Mapping[str, Node]) -> bool:
    """Byte code whose module source is in the image too (`__pycache__/m.cpython-311.pyc` or `m.pyc` next
    to `m.py`): one of the two is redundant. Without its source, a .pyc is the module itself."""
    pyc = PurePosixPath(path)
    folder = pyc.parent.parent if pyc.parent.name == "__pycache__" else pyc.parent
    return str(folder / f"{pyc.name.split('.', 1)[0]}.py") in tree


@dataclass(frozen=True)
class Rule:
    kind: str
    title: str
    advice: str
    patterns: tuple[str, ...]
    # Beyond the path: whether a matching file counts, given the whole final filesystem.
    applies: Callable[[str, Mapping[str, Node]], bool] = anything

    @cached_property
    def compiled(self) -> tuple[re.Pattern, ...]:
        return tuple(re.compile(pattern) for pattern in self.patterns)

    def root(self, path: str) -> str | None:
        """What to remove for `path` (the pattern's root group), or None if the rule does not match."""
        return next((match.group("root") for pattern in self.compiled if (match := pattern.match(path))), None)


RULES = (
    Rule("compilers", "compilers and headers",
         "build in a build stage; copy only the results into the runtime stage",
         (r"(?P<root>/usr/(lib|libexec)/gcc)/",
          r"(?P<root>/usr/bin/(x86_64-linux-gnu-)?(gcc|g\+\+|cc|c\+\+|cpp|as|ld|ld\.bfd|ld\.gold|make)(-\d+)?)$",
          r"(?P<root>/usr/(local/)?include)/",
          rf"(?P<root>.*/include/{PY})/",
          r"(?P<root>/usr/lib/x86_64-linux-gnu/lib(bfd|ctf|opcodes|gprofng)[-.])",
          r"(?P<root>/usr/lib/x86_64-linux-gnu/[^/]+\.a)$")),
    Rule("jdk", "JDK or JRE", "a Python service runs no JVM; install it in a build stage if the build needs one",
         (r"(?P<root>/usr/lib/jvm/[^/]+)/", r"(?P<root>/opt/(java|jdk[^/]*|openjdk[^/]*))/")),
    Rule("tests", "test folders in site-packages", "delete */tests and */test under site-packages in the build stage",
         (rf"(?P<root>.*/{PY}/(site|dist)-packages/(.+/)?tests?)/",)),
    Rule("bytecode", "byte code beside its source (__pycache__, *.pyc)",
         "a read-only root never writes them; keep precompiled ones only if start time matters more than bytes, "
         "or keep them and drop the sources (compileall -b)",
         (rf"{SITE}/.*\.py[co]$", rf"(?P<root>/usr/(local/)?lib/{PY})/.*\.py[co]$", r"(?P<root>.*/__pycache__)/.*\.py[co]$"),
         beside_its_source),
    Rule("caches", "pip, apt and npm caches", "install with --no-cache-dir / a cache mount, and clean in the same RUN",
         (r"(?P<root>.*/\.cache/(pip|pypoetry|uv))/", r"(?P<root>/var/cache/apt)/", r"(?P<root>/var/lib/apt/lists)/",
          r"(?P<root>.*/\.npm)/", r"(?P<root>.*/\.cache/yarn)/")),
    Rule("package-manager", "package manager and its database",
         "a runtime image installs nothing; keep the database only if scanners need it",
         (r"(?P<root>/var/lib/(dpkg|rpm|apt))/", r"(?P<root>/lib/apk/db)/",
          r"(?P<root>/usr/(bin|sbin)/(dpkg|apt|apt-get|apt-cache|apt-config|apt-key|apk|rpm|yum|dnf|pip3?)[^/]*)$",
          r"(?P<root>/usr/lib/apt)/", rf"(?P<root>.*/{PY}/(site|dist)-packages/pip)/")),
    Rule("shells", "shells and perl",
         "exec probes can run Python; a runtime image needs no shell or perl (a -debug variant can keep a shell)",
         (r"(?P<root>/(usr/)?bin/(sh|bash|dash|zsh|ash|busybox|rbash|perl[0-9.]*))$",
          r"(?P<root>/usr/(lib/x86_64-linux-gnu|share)/perl(-base|5)?)/")),
    Rule("downloaders", "curl and wget", "health checks can be Python; fetch files in a build stage",
         (r"(?P<root>/usr/bin/(curl|wget))$", r"(?P<root>/usr/lib/x86_64-linux-gnu/libcurl[^/]*)$")),
    Rule("docs", "docs and man pages", "exclude them (dpkg path-exclude) or delete them in the same RUN",
         (r"(?P<root>(/usr|/usr/local|/opt/[^/]+)/share/(doc|man|info))/(?!.*/copyright$)",)),
)


@dataclass
class Finding:
    """One rule's bytes added by one layer, with the biggest paths to remove (`paths`: root -> bytes)."""

    kind: str
    title: str
    advice: str
    layer: int
    bytes: int = 0
    files: int = 0
    paths: dict[str, int] = field(default_factory=dict)

    def top(self, count: int = 3) -> list[tuple[str, int]]:
        return sorted(self.paths.items(), key=lambda item: (-item[1], item[0]))[:count]


def findings(tree: dict[str, Node], rules: tuple[Rule, ...] = RULES) -> list[Finding]:
    """Each file of the final filesystem goes to the first rule that matches it. Biggest first."""
    found: dict[tuple[str, int], Finding] = {}
    for path, node in tree.items():
        if node.is_dir:
            continue
        for rule in rules:
            root = rule.root(path)
            if root is None or not rule.applies(path, tree):
                continue
            finding = found.setdefault((rule.kind, node.layer), Finding(rule.kind, rule.title, rule.advice, node.layer))
            finding.bytes += node.size
            finding.files += 1
            finding.paths[root] = finding.paths.get(root, 0) + node.size
            break
    return sorted(found.values(), key=lambda f: (-f.bytes, f.layer, f.kind))


def largest_directories(tree: dict[str, Node], count: int = 10, depth: int = 4) -> list[tuple[str, int]]:
    """Directories down to `depth` levels (/usr/lib/python3.11 is 3), by the bytes of all files below."""
    sizes: dict[str, int] = defaultdict(int)
    for path, node in tree.items():
        parts = path.split("/")[1:-1]
        for level in range(1, min(len(parts), depth) + 1):
            sizes["/" + "/".join(parts[:level])] += node.size
    return sorted(sizes.items(), key=lambda item: (-item[1], item[0]))[:count]
