"""Efficiency and wasted bytes exactly as dive computes them (wagoodman/dive, filetree/efficiency.go
and image/image.go), so a threshold copied from a `.dive-ci` file means the same here.

Per layer, every leaf of that layer's tree (a file, a link, an empty directory, a directory only
implied by nothing below it, or a whiteout) is one sighting of its path. A sighting weighs the
entry's size; a whiteout weighs 0, unless the path it deletes was a directory in the layers below
(a tar header said so), then the sizes of everything under it there.

- efficiency = sum over paths of the smallest sighting / sum over paths of all sightings (1.0 when
  nothing weighs anything);
- wasted bytes = all sightings of every path seen in more than one layer, *the surviving copy
  included* (so a 1 MB file rewritten once wastes 2 MB);
- user wasted percent = wasted bytes / the bytes of every layer but the first (a ratio: 0.1 is 10%).

One difference: where dive meets a whiteout of a path the layers below do not have, it stops
counting that layer (an error it only logs); here that whiteout weighs 0 and the layer goes on.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from leanstack.images.filesystem import Entry, Kind, Node, ancestors, apply_layer, subtree


@dataclass
class PathWaste:
    """A path seen in more than one layer: how many times and all its sightings' bytes."""

    path: str
    count: int = 0
    cumulative: int = 0
    smallest: int = -1


@dataclass(frozen=True)
class Efficiency:
    score: float
    wasted_bytes: int
    user_wasted_percent: float
    inefficiencies: list[PathWaste] = field(default_factory=list)  # biggest first


def leaves(entries: list[Entry]) -> list[Entry]:
    """The layer's tree leaves: entries no other path of the layer lies under. An opaque marker is
    not in dive's tree, but the directory holding it is (empty when the layer has nothing else there)."""
    paths = {entry.path: entry for entry in entries if entry.kind is not Kind.opaque}
    for entry in entries:
        if entry.kind is Kind.opaque and entry.path != "/":
            paths.setdefault(entry.path, Entry(entry.path, 0, Kind.dir))
    inner = {parent for path in paths for parent in ancestors(path)}
    return [entry for path, entry in paths.items() if path not in inner]


def layer_size(entries: list[Entry]) -> int:
    """A layer's bytes as dive sums them: every tar header's size."""
    return sum(entry.size for entry in entries)


def whiteout_weight(below: dict[str, Node], path: str) -> int:
    node = below.get(path)
    if node is None or not node.is_dir:
        return 0
    return sum(below[key].size for key in subtree(below, path))


def efficiency(layers: list[list[Entry]]) -> Efficiency:
    seen: dict[str, PathWaste] = {}
    below: dict[str, Node] = {}  # the layers under the current one, stacked as dive stacks them
    for index, entries in enumerate(layers):
        for entry in leaves(entries):
            weight = whiteout_weight(below, entry.path) if entry.kind is Kind.whiteout else entry.size
            waste = seen.setdefault(entry.path, PathWaste(entry.path))
            waste.count += 1
            waste.cumulative += weight
            waste.smallest = weight if waste.smallest < 0 else min(waste.smallest, weight)
        apply_layer(below, entries, index, honor_opaque=False)
    discovered = sum(waste.cumulative for waste in seen.values())
    minimum = sum(waste.smallest for waste in seen.values())
    repeated = sorted((waste for waste in seen.values() if waste.count > 1), key=lambda w: (-w.cumulative, w.path))
    wasted = sum(waste.cumulative for waste in repeated)
    user = sum(layer_size(entries) for entries in layers[1:])
    return Efficiency(
        score=minimum / discovered if discovered else 1.0,
        wasted_bytes=wasted,
        # dive divides by zero here (NaN or +Inf); a single-layer image wastes nothing of the user's.
        user_wasted_percent=wasted / user if user else 0.0,
        inefficiencies=repeated,
    )
