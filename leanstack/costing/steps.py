"""One step of a Pulumi preview as the cost delta reads it: the engine's operation on a resource
and the resource's inputs before and after. costing.preview makes them from the engine's digest,
costing.delta prices them; a module of its own so that starting a preview loads nothing else."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Optional


@dataclass(frozen=True)
class Step:
    op: str
    urn: str
    type: str
    old: Optional[Mapping[str, Any]]
    new: Optional[Mapping[str, Any]]
