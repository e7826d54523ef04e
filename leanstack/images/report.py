"""One image's report: per layer its bytes and the instruction that made it, dive's efficiency and
wasted bytes, the largest directories and the findings."""

from __future__ import annotations

import re
from dataclasses import dataclass

from leanstack.images.efficiency import Efficiency, efficiency, layer_size
from leanstack.images.filesystem import Entry, stack
from leanstack.images.findings import Finding, findings, largest_directories


@dataclass(frozen=True)
class Layer:
    index: int
    digest: str
    size: int
    instruction: str
    hidden: int  # bytes it wrote that later layers delete or replace


@dataclass(frozen=True)
class ImageReport:
    ref: str
    size: int  # every layer's bytes, as dive sums them
    hidden: int  # bytes that later layers delete or replace: dive misses a deleted directory's
    layers: list[Layer]
    efficiency: Efficiency
    largest: list[tuple[str, int]]
    findings: list[Finding]


def clean_instruction(created_by: str) -> str:
    """The Dockerfile line as written: BuildKit's ` # buildkit` suffix and the legacy builder's
    `/bin/sh -c #(nop) ` prefix dropped, a shell RUN shown as RUN."""
    text = created_by.strip().removesuffix("# buildkit").strip()
    text = re.sub(r"^/bin/sh -c #\(nop\)\s*", "", text)
    text = re.sub(r"^(RUN )?(\|\d+ \S+ )?/bin/sh -c ", "RUN ", text)
    return " ".join(text.split())


def instructions(config: dict, count: int) -> list[str]:
    """What made each of `count` layers: the history entries that are not empty layers, in order
    (as dive pairs them); a `docker import` has only a comment ("Imported from -"); "(missing)" where
    the history is shorter."""
    made = [clean_instruction(h.get("created_by") or h.get("comment") or "") or "(no instruction)"
            for h in config.get("history", []) if not h.get("empty_layer")]
    return (made + ["(missing)"] * count)[:count]


def build_report(ref: str, config: dict, digests: list[str], layers: list[list[Entry]],
                 top: int = 10) -> ImageReport:
    final, hidden = stack(layers)
    made = instructions(config, len(layers))
    return ImageReport(
        ref=ref,
        size=sum(layer_size(entries) for entries in layers),
        hidden=sum(hidden.values()),
        layers=[Layer(i, digest, layer_size(entries), made[i], hidden.get(i, 0))
                for i, (digest, entries) in enumerate(zip(digests, layers))],
        efficiency=efficiency(layers),
        largest=largest_directories(final, top),
        findings=findings(final),
    )
