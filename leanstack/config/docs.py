"""Generate docs/configuration.md from the pydantic models, so the reference cannot drift.

    python -m leanstack.config.docs > docs/configuration.md

A unit test fails when the committed file differs from what this prints.
"""

from __future__ import annotations

import typing
from typing import Any

from annotated_types import Ge, Gt, Le, MaxLen, MinLen
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from leanstack.config import walk
from leanstack.config.schema import StackConfig
from leanstack.config.stack_file import PATTERN_MEANINGS

INTRO = """# Stack configuration reference

Generated from `leanstack/config/schema.py` by `python -m leanstack.config.docs`; a unit test keeps the
two in step. Each key below is set in `Pulumi.<stack>.yaml` as `leanstack:<key>` (top level) or
nested under it. Unknown keys are rejected; every error names the stack file, the key path and what
is allowed. Quantities are Kubernetes quantities (`250m`, `384Mi`, `2Gi`) and must be positive.
Secrets are never written in this config: `secret_env` names a config key set with
`pulumi config set --secret <key> <value>`.
"""


def render_markdown() -> str:
    sections: list[str] = [INTRO]
    seen: set[type[BaseModel]] = set()
    _render_model(StackConfig, "leanstack:", sections, seen)
    return "\n".join(sections).rstrip() + "\n"


def _render_model(model: type[BaseModel], prefix: str, sections: list[str], seen: set[type[BaseModel]]) -> None:
    if model in seen:
        return
    seen.add(model)
    title = prefix.rstrip(".:") or "leanstack"
    doc = " ".join((model.__doc__ or "").strip().split("\n\n")[0].split())
    rows = ["| key | type | default | allowed | meaning |", "|---|---|---|---|---|"]
    nested: list[tuple[type[BaseModel], str]] = []
    for name, field in model.model_fields.items():
        type_name = "quantity" if "positive quantity" in _allowed(field) else _type_name(field.annotation)
        key = field.alias or name  # the key a stack file writes (`from`, not the attribute `from_`)
        rows.append(
            f"| `{key}` | {type_name} | {_default(field)} | {_allowed(field)} | {field.description or ''} |"
        )
        for inner, suffix in walk.models_in(field.annotation):
            nested.append((inner, f"{prefix}{key}{suffix}."))
    sections.append(f"## `{title}`\n\n{doc}\n\n" + "\n".join(rows) + "\n")
    for inner, inner_prefix in nested:
        _render_model(inner, inner_prefix, sections, seen)


def _type_name(annotation: Any) -> str:
    """How the reference names a type: walk.members looks through unions and Annotated and into
    maps and lists; what it cannot step into is named by _leaf_name."""
    inner = walk.members(annotation)
    if not inner:
        return _leaf_name(annotation)
    suffix, first = inner[0]
    if suffix == walk.DICT_VALUE:
        return f"map of {_type_name(walk.dict_key(annotation))} to {_type_name(first)}"
    if suffix == walk.LIST_ITEM:
        return f"list of {_type_name(first)}"
    return " or ".join(_type_name(alternative) for _, alternative in inner)


def _leaf_name(annotation: Any) -> str:
    if typing.get_origin(annotation) is typing.Literal:
        return " \\| ".join(f"`{value}`" for value in typing.get_args(annotation))
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "mapping"
    return getattr(annotation, "__name__", str(annotation))


def _default(field: FieldInfo) -> str:
    if field.is_required():
        return "**required**"
    if field.default_factory is not None:
        value = field.default_factory()  # type: ignore[call-arg]
    else:
        value = field.default
    if value is PydanticUndefined or value is None:
        return "none"
    if isinstance(value, BaseModel):
        value = value.model_dump(exclude_defaults=False)
        return f"`{value}`" if len(str(value)) < 80 else "see below"
    if value in ({}, []):
        return "empty"
    return f"`{value}`"


def _allowed(field: FieldInfo) -> str:
    limits = []
    for item in walk.constraints(field):
        if isinstance(item, Ge):
            limits.append(f">= {item.ge}")
        elif isinstance(item, Gt):
            limits.append(f"> {item.gt}")
        elif isinstance(item, Le):
            limits.append(f"<= {item.le}")
        elif isinstance(item, MinLen) and item.min_length:
            limits.append(f"at least {item.min_length} long")
        elif isinstance(item, MaxLen):
            limits.append(f"at most {item.max_length} long")
        pattern = getattr(item, "pattern", None)
        if pattern:
            limits.append(PATTERN_MEANINGS.get(pattern, f"matches `{pattern}`".replace("|", "\\|")))
        validator = getattr(item, "func", None)
        if validator is not None and validator.__doc__ is None:
            limits.append({"_positive_quantity": "positive quantity", "_absolute_path": "absolute path",
                           "_http_path": "path starting with /", "_cidr": "CIDR block"}.get(validator.__name__, ""))
    return "; ".join(limit for limit in limits if limit)


if __name__ == "__main__":
    print(render_markdown(), end="")
