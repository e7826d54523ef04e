"""The image delta of a preview: per built image, old -> new size and efficiency, like the resource delta.

What the engine's preview knows about a docker-build Image (pulumi-docker-build v0.0.22): the old
state's outputs carry `ref` (repo:tag@sha256:..., the digest pushed by the last `up`); the new
side's `ref` is the engine's unknown value whenever a build is pending (and absent on a
`same` step, whose image is the one in state), because the provider only
pushes at `up` (a build during a preview, `buildOnPreview`, is never exported to a registry). So
the old image is read by its digest in state; the new one only where the preview names a ref (an
unchanged image). Reading is the caller's (leanstack.images, wired in the CLI): costing stays pure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, Optional, Union

from leanstack.costing.steps import Step, merge_steps
from leanstack.kube.quantities import human_bytes as human

IMAGE_TYPE = "docker-build:index:Image"
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # the engine's unknown-output sentinel (sdk/go/common/resource/plugin)
PENDING = "built by `up` (the provider pushes only then)"


@dataclass(frozen=True)
class ImageFacts:
    size: int
    efficiency: float


@dataclass(frozen=True)
class ImageChange:
    """One Image step: its logical name and the refs before and after (None: none, or not known yet)."""

    op: str
    name: str
    old_ref: Optional[str]
    new_ref: Optional[str]


@dataclass(frozen=True)
class ImageRow:
    op: str
    name: str
    old_ref: Optional[str]
    new_ref: Optional[str]
    old: Optional[ImageFacts]
    new: Optional[ImageFacts]
    note: str = ""  # why a side has no facts: a pending build, or the one-line read error


def _ref(outputs) -> Optional[str]:
    ref = (outputs or {}).get("ref")
    return ref if isinstance(ref, str) and ref and ref != UNKNOWN else None


def image_changes(steps: Iterable[Step]) -> list[ImageChange]:
    """The preview's Image steps (merged per URN as costing.delta merges them), by name."""
    changes = []
    for step in merge_steps(steps).values():
        if step.type != IMAGE_TYPE:
            continue
        old_ref = _ref(step.old_outputs)
        # A `same` step's new state carries no outputs in a preview: the image is the one in state.
        new_ref = old_ref if step.op == "same" else None if step.op == "delete" else _ref(step.new_outputs)
        changes.append(ImageChange(step.op, step.urn.rsplit("::", 1)[-1], old_ref, new_ref))
    return sorted(changes, key=lambda change: change.name)


Reader = Callable[[str], Union[ImageFacts, str]]


def image_rows(changes: Iterable[ImageChange], read: Reader) -> tuple[ImageRow, ...]:
    """Each change with its images read (`read` gives facts or a one-line error naming the image);
    each ref read once, an unchanged image's new side is its old one."""
    seen: dict[str, Union[ImageFacts, str]] = {}

    def facts(ref: Optional[str]) -> Union[ImageFacts, str, None]:
        if ref is None:
            return None
        if ref not in seen:
            seen[ref] = read(ref)
        return seen[ref]

    rows = []
    for change in changes:
        old, new = facts(change.old_ref), facts(change.new_ref)
        notes = [side for side in (old, new) if isinstance(side, str)]
        if change.new_ref is None and change.op != "delete":
            notes.append(PENDING)
        rows.append(ImageRow(change.op, change.name, change.old_ref, change.new_ref,
                             old if isinstance(old, ImageFacts) else None,
                             new if isinstance(new, ImageFacts) else None, "; ".join(dict.fromkeys(notes))))
    return tuple(rows)


def side_text(facts: Optional[ImageFacts]) -> str:
    return f"{human(facts.size)} ({facts.efficiency:.1%})" if facts else "–"


def change_text(row: ImageRow) -> str:
    """`114.4 MB (99.1%) -> 62.3 MB (99.8%)`, with the size delta when both sides are known."""
    text = f"{side_text(row.old)} -> {side_text(row.new)}"
    if row.old and row.new:
        delta = row.new.size - row.old.size
        text += f" ({'+' if delta >= 0 else '-'}{human(abs(delta))})"
    return text
