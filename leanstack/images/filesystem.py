"""A layer as the list of its tar entries, and layers stacked into one filesystem.

Paths are absolute and cleaned ("./usr/bin/" -> "/usr/bin"), as dive cleans them. A whiteout
(`.wh.<name>`) deletes `<name>` from the layers below; an opaque marker (`.wh..wh..opq`) hides
everything the layers below put in its directory.
"""

from __future__ import annotations

import posixpath
import tarfile
from dataclasses import dataclass
from enum import Enum
from typing import IO, Iterable, Iterator

WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"


class Kind(str, Enum):
    file = "file"
    dir = "dir"
    link = "link"  # symlink or hard link: the tar header says size 0
    other = "other"  # devices, fifos
    whiteout = "whiteout"
    opaque = "opaque"


@dataclass(frozen=True)
class Entry:
    """One tar header: `path` is what it adds, or, for a whiteout, what it deletes."""

    path: str
    size: int
    kind: Kind


def clean(name: str) -> str:
    return posixpath.normpath("/" + name).replace("//", "/")


def entry_of(member: tarfile.TarInfo) -> Entry:
    path = clean(member.name)
    base = posixpath.basename(path)
    if base == OPAQUE:
        return Entry(posixpath.dirname(path), 0, Kind.opaque)
    if base.startswith(WHITEOUT):
        return Entry(posixpath.join(posixpath.dirname(path), base[len(WHITEOUT):]), member.size, Kind.whiteout)
    kind = (Kind.dir if member.isdir() else Kind.file if member.isreg()
            else Kind.link if member.issym() or member.islnk() else Kind.other)
    return Entry(path, member.size, kind)


def read_layer(stream: IO[bytes]) -> list[Entry]:
    """The entries of one layer tar (plain or gzip, detected), read front to back without seeking."""
    with tarfile.open(fileobj=stream, mode="r|*") as archive:
        return [entry_of(member) for member in archive if clean(member.name) != "/"]


def ancestors(path: str) -> Iterator[str]:
    while (path := posixpath.dirname(path)) != "/":
        yield path


def subtree(tree: dict, path: str) -> list[str]:
    """`path` and everything below it in `tree` (a dict keyed by path)."""
    prefix = path + "/"
    return [key for key in tree if key == path or key.startswith(prefix)]


@dataclass(frozen=True)
class Node:
    """A path of the stacked filesystem: its size, whether a tar header said it is a directory, and
    the index of the layer that last wrote it."""

    size: int
    is_dir: bool
    layer: int


def stack(layers: Iterable[list[Entry]]) -> tuple[dict[str, Node], dict[int, int]]:
    """The filesystem the layers make, bottom first, and by layer the bytes it wrote that later
    layers delete or replace (hidden: still pulled and stored, never seen). Directories a layer only
    implies (a file under them, no header of their own) get an empty node, as dive's tree does."""
    tree: dict[str, Node] = {}
    hidden: dict[int, int] = {}
    for index, entries in enumerate(layers):
        for node in apply_layer(tree, entries, index):
            hidden[node.layer] = hidden.get(node.layer, 0) + node.size
    return tree, hidden


def apply_layer(tree: dict[str, Node], entries: list[Entry], index: int, honor_opaque: bool = True) -> list[Node]:
    """Put one layer on `tree`; return the lower layers' nodes it deleted or replaced. dive ignores
    opaque markers when it stacks layers: `honor_opaque=False` reproduces that for its efficiency."""
    gone: list[Node] = []
    if honor_opaque:
        for entry in entries:
            if entry.kind is Kind.opaque:
                for key in subtree(tree, entry.path):
                    if key != entry.path and tree[key].layer < index:
                        gone.append(tree.pop(key))
    for entry in entries:
        if entry.kind is Kind.whiteout:
            gone += [tree.pop(key) for key in subtree(tree, entry.path)]
        elif entry.kind is not Kind.opaque:
            for parent in ancestors(entry.path):
                if parent not in tree or tree[parent].layer < index:
                    tree[parent] = Node(0, False, index)
            if entry.path in tree and tree[entry.path].layer < index:
                gone.append(tree[entry.path])
            tree[entry.path] = Node(entry.size, entry.kind is Kind.dir, index)
    return gone
