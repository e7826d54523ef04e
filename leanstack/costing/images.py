"""The image delta of a preview: per built image, old -> new size and efficiency, like the resource delta.

What the engine's preview knows about a docker-build Image (pulumi-docker-build v0.0.22): the old
state's outputs carry `ref` (repo:tag@sha256:..., the digest pushed by the last `up`), so the old
image is read by its digest in state; a `same` step's image is the one in state. The pushed Image
of a changed build reports no digest in a preview (its tag as `ref`, or the engine's unknown
value): the provider builds a `push: true` Image only at `up`. A build with `build_on_preview` has a
second Image, `layout_of(image)`, that writes the same build as an OCI layout and does build in a
preview: its step's new `digest` names that build, and the new side is read from the layout
(leanstack.images.layout) by a second reader. Without one the row says `up` builds the image.
Reading is the caller's (leanstack.images, wired in the CLI): costing stays pure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, Optional, Union

from leanstack.config.fields import DIGEST_REF
from leanstack.costing.steps import Step, merge_steps
from leanstack.kube.quantities import human_bytes as human

IMAGE_TYPE = "docker-build:index:Image"
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # the engine's unknown-output sentinel (sdk/go/common/resource/plugin)
PENDING = "built by `up` (this preview did not build it: build_on_preview is off, or an input is unknown until `up`)"


@dataclass(frozen=True)
class ImageFacts:
    size: int
    efficiency: float


def layout_of(image: str) -> str:
    """The name of the Image that writes `image`'s build as an OCI layout (build_on_preview)."""
    return f"{image}-layout"


@dataclass(frozen=True)
class ImageChange:
    """One pushed Image's step: its logical name, the refs before and after (None: none, or not known
    yet), and the digest of the build this preview wrote as an OCI layout (None: no such build)."""

    op: str
    name: str
    old_ref: Optional[str]
    new_ref: Optional[str]
    built_digest: Optional[str] = None


@dataclass(frozen=True)
class ImageRow:
    op: str
    name: str
    old_ref: Optional[str]
    new_ref: Optional[str]
    old: Optional[ImageFacts]
    new: Optional[ImageFacts]
    note: str = ""  # why a side has no facts: a pending build, or the one-line read error
    built_digest: Optional[str] = None  # the new side is this preview's build, read from its OCI layout


def _known(outputs, key: str) -> Optional[str]:
    value = (outputs or {}).get(key)
    return value if isinstance(value, str) and value and value != UNKNOWN else None


def image_changes(steps: Iterable[Step]) -> list[ImageChange]:
    """The preview's pushed Image steps (merged per URN as costing.delta merges them), by name, each
    with the digest its layout Image built in this preview, if it did."""
    images = {step.urn.rsplit("::", 1)[-1]: step for step in merge_steps(steps).values() if step.type == IMAGE_TYPE}
    layouts = {layout_of(name) for name in images}
    changes = []
    for name, step in images.items():
        if name in layouts:
            continue
        old_ref = _known(step.old_outputs, "ref")
        # A `same` step's image is the one in state. A pushed Image the preview did not build reports
        # its tag as `ref` (the provider's default before a build): only a digest ref names the new image.
        new_ref = old_ref if step.op == "same" else None if step.op == "delete" else _known(step.new_outputs, "ref")
        new_ref = new_ref if new_ref and DIGEST_REF.match(new_ref) else None
        layout = images.get(layout_of(name))
        built = None
        if new_ref is None and step.op != "delete" and layout is not None and layout.op != "same":
            built = _known(layout.new_outputs, "digest")
        changes.append(ImageChange(step.op, name, old_ref, new_ref, built))
    return sorted(changes, key=lambda change: change.name)


Reader = Callable[[str], Union[ImageFacts, str]]
# The build a preview wrote as an OCI layout: (the pushed Image's name, the build's digest) -> facts,
# or one line saying why not.
BuiltReader = Callable[[str, str], Union[ImageFacts, str]]


def image_rows(changes: Iterable[ImageChange], read: Reader, built: Optional[BuiltReader] = None) -> tuple[ImageRow, ...]:
    """Each change with its images read (`read` gives facts or a one-line error naming the image);
    each ref read once, an unchanged image's new side is its old one, a rebuilt one's the build this
    preview wrote as an OCI layout (`built`'s), where there is one."""
    seen: dict[str, Union[ImageFacts, str]] = {}

    def facts(ref: Optional[str]) -> Union[ImageFacts, str, None]:
        if ref is None:
            return None
        if ref not in seen:
            seen[ref] = read(ref)
        return seen[ref]

    rows = []
    for change in changes:
        old = facts(change.old_ref)
        from_layout = change.new_ref is None and change.built_digest is not None and built is not None
        new = built(change.name, change.built_digest) if from_layout else facts(change.new_ref)
        notes = [side for side in (old, new) if isinstance(side, str)]
        if change.new_ref is None and change.op != "delete" and not from_layout:
            notes.append(PENDING)
        rows.append(ImageRow(change.op, change.name, change.old_ref, change.new_ref,
                             old if isinstance(old, ImageFacts) else None,
                             new if isinstance(new, ImageFacts) else None, "; ".join(dict.fromkeys(notes)),
                             change.built_digest if from_layout else None))
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
