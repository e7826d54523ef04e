"""Structured config errors: every problem is a (key path, message) pair from the validator to the printer.

Validators that see several fields at once raise `Problems` with paths relative to their model;
`stack_file` prefixes them with the model's location and prints each one as
`<stack file>: <key path>: <what is allowed>`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable


@dataclass(frozen=True, order=True)
class Problem:
    path: str
    message: str

    def under(self, prefix: str) -> "Problem":
        return Problem(".".join(part for part in (prefix, self.path) if part), self.message)


class Problems(ValueError):
    """Raised inside a model validator: several problems, each at its own key path."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems = tuple(problems)
        super().__init__("; ".join(f"{p.path}: {p.message}" if p.path else p.message for p in self.problems))


class ConfigError(ValueError):
    """Invalid stack config: the stack file it came from and each problem, sorted by key path."""

    def __init__(self, source: str, problems: Iterable[Problem]):
        self.source = source
        self.problems = sorted(set(problems))
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(f"{self.source}: {p.path}: {p.message}" if p.path else f"{self.source}: {p.message}"
                         for p in self.problems)
