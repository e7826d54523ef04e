"""Write right-sizing recommendations into a stack file, changing nothing but the changed values.

`patch_stack_text` is pure (stack file text and recommendations in, text and the list of changes
out). It edits with ruamel.yaml's round-trip mode, which keeps comments, key order, quoting and
flow mappings such as `requests: {cpu: 250m, memory: 384Mi}`, and then checks that every line it
altered holds a changed value: a layout ruamel would re-indent or re-wrap is refused rather than
silently rewritten. `write_stack_file` runs the result through the normal loader before it
replaces the file, so a patch the schema refuses never reaches the disk. `current_specs` reads
the other way: what a stack file declares today, as the strategies' `CurrentSpec`s.
"""

from __future__ import annotations

import io
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.util import load_yaml_guess_indent

from leanstack.config.errors import ConfigError
from leanstack.config.resolve.probes import probes
from leanstack.config.schema import StackConfig
from leanstack.config.stack_file import PROJECT, load_stack_file
from leanstack.kube.quantities import QuantityError, parse_quantity
from leanstack.rightsize.model import Autoscaling, CurrentSpec, Recommendation, Resources

SERVICES_KEY = f"{PROJECT}:services"


class PatchError(ValueError):
    """The stack file cannot be patched, or the patched file would be invalid; one line."""


@dataclass(frozen=True)
class Change:
    """One value the patch changes, at its key path as users know it (services.api.resources...)."""

    path: str
    old: str
    new: str

    def __str__(self) -> str:
        return f"{self.path}: {self.old} -> {self.new}"


def _targets(recommendation: Recommendation) -> Iterator[tuple[tuple[str, ...], Any]]:
    """(keys under the service, new value) for every figure a recommendation sets."""
    new = recommendation.recommended
    if new is None:
        return
    yield ("resources", "requests", "cpu"), new.cpu_request
    yield ("resources", "requests", "memory"), new.memory_request
    yield ("resources", "limits", "cpu"), new.cpu_limit
    yield ("resources", "limits", "memory"), new.memory_limit
    if recommendation.recommended_replicas is not None:
        yield ("autoscaling", "min_replicas"), recommendation.recommended_replicas.min_replicas
        yield ("autoscaling", "max_replicas"), recommendation.recommended_replicas.max_replicas


def _same(old: Any, new: Any) -> bool:
    """Equal amounts are left as written: "0.5" and "500m" are the same CPU, so no churn."""
    if isinstance(new, int):
        return old == new
    try:
        return parse_quantity(old) == parse_quantity(new)
    except QuantityError:
        return False


def _yaml(text: str) -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 1 << 16  # never re-wrap a long line (secure values, image refs)
    _, sequence, offset = load_yaml_guess_indent(text)
    indents = [len(line) - len(line.lstrip(" ")) for line in text.splitlines()
               if line.strip() and not line.lstrip().startswith(("#", "-"))]
    mapping = min((n for n in indents if n > 0), default=2)
    yaml.indent(mapping=mapping, sequence=sequence if offset is not None else mapping, offset=offset or 0)
    return yaml


def _node(document: Any, keys: tuple[str, ...], source: str) -> CommentedMap:
    node = document
    for depth, key in enumerate(keys):
        node = node.get(key) if isinstance(node, CommentedMap) else None
        if not isinstance(node, CommentedMap):
            where = ".".join(keys[1: depth + 1]).replace(f"{PROJECT}:", "") or "config"
            raise PatchError(f"{source}: {where}: expected a mapping to write right-sized values into")
    return node


def patch_stack_text(text: str, recommendations: Iterable[Recommendation],
                     source: str = "stack file") -> tuple[str, list[Change]]:
    """The stack file text with each recommendation's differing values written in, and what changed."""
    yaml = _yaml(text)
    document = yaml.load(text)
    changes: list[Change] = []
    touched_lines: set[int] = set()
    for recommendation in recommendations:
        for keys, value in _targets(recommendation):
            path = ("config", SERVICES_KEY, recommendation.service, *keys[:-1])
            parent, key = _node(document, path, source), keys[-1]
            old = parent.get(key)
            if old is None:
                raise PatchError(f"{source}: services.{recommendation.service}.{'.'.join(keys)}: not set; cannot right-size it")
            if _same(old, value):
                continue
            # Keep the author's quoting: a quoted scalar is a str subclass ruamel re-emits quoted.
            parent[key] = type(old)(value) if isinstance(old, str) and type(old) is not str else value
            touched_lines.add(parent.lc.value(key)[0])
            changes.append(Change(f"services.{recommendation.service}.{'.'.join(keys)}", str(old), str(value)))
    if not changes:
        return text, []
    out = io.StringIO()
    yaml.dump(document, out)
    patched = out.getvalue()
    _check_only_values_changed(text, patched, touched_lines, source)
    return patched, changes


def _check_only_values_changed(before: str, after: str, allowed: set[int], source: str) -> None:
    old_lines, new_lines = before.splitlines(), after.splitlines()
    if len(old_lines) != len(new_lines):
        raise PatchError(f"{source}: writing the values would re-flow the file ({len(old_lines)} -> "
                         f"{len(new_lines)} lines); edit it by hand")
    stray = [n + 1 for n, (a, b) in enumerate(zip(old_lines, new_lines)) if a != b and n not in allowed]
    if stray:
        raise PatchError(f"{source}: writing the values would also reformat line(s) "
                         f"{', '.join(map(str, stray[:5]))}; edit it by hand")


def validated(path: Path, text: str) -> StackConfig:
    """`text` through the normal loader under the stack file's own name, as if it were the file."""
    with tempfile.TemporaryDirectory(prefix="rightsize-") as scratch:
        candidate = Path(scratch) / path.name
        candidate.write_text(text, encoding="utf-8")
        try:
            return load_stack_file(candidate)
        except ConfigError as error:
            problems = "; ".join(f"{p.path}: {p.message}" if p.path else p.message for p in error.problems)
            raise PatchError(f"{path.name}: {problems} (right-sized values refused; the file is unchanged)") from None


def write_stack_file(path: Path, text: str) -> StackConfig:
    """Validate `text`, then replace the file with it in one rename (a crash leaves the old file)."""
    config = validated(path, text)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(temporary, path.stat().st_mode & 0o7777)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return config


def current_specs(config: StackConfig) -> dict[str, CurrentSpec]:
    """What the stack file declares today, per service, in the terms the strategies use."""
    specs = {}
    for name, service in config.services.items():
        requests, limits, hpa = service.resources.requests, service.resources.limits, service.autoscaling
        specs[name] = CurrentSpec(
            Resources(requests.cpu, limits.cpu, requests.memory, limits.memory),
            Autoscaling(hpa.min_replicas, hpa.max_replicas, hpa.cpu_utilization, hpa.memory_utilization) if hpa else None,
            exec_probes=probes(service.probes, service.probe_port).runs_commands(),
        )
    return specs
