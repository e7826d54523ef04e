"""One walker over the schema's annotations: what the stack-file loader (key paths in errors) and
the docs generator (the reference tables) both need to know about a field's type."""

from __future__ import annotations

import types
import typing
from typing import Any, Optional

from pydantic import BaseModel
from pydantic.fields import FieldInfo

# Key-path suffixes: one step into a dict's value or a list's element; "" looks through a union or Annotated.
DICT_VALUE, LIST_ITEM = ".<name>", "[]"


def members(annotation: Any) -> list[tuple[str, Any]]:
    """One step into an annotation: (key-path suffix, inner annotation) for each alternative of a
    union (None aside) or the base of an Annotated, a dict's value and a list's element."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return [("", typing.get_args(annotation)[0])]
    if origin in (typing.Union, types.UnionType):
        return [("", arg) for arg in typing.get_args(annotation) if arg is not type(None)]
    if origin is dict:
        return [(DICT_VALUE, typing.get_args(annotation)[1])]
    if origin is list:
        return [(LIST_ITEM, typing.get_args(annotation)[0])]
    return []


def dict_key(annotation: Any) -> Any:
    """A dict annotation's key type (members steps only into its values)."""
    return typing.get_args(annotation)[0]


def model_of(annotation: Any) -> Optional[type[BaseModel]]:
    """The model a value of `annotation` is, looking through Optional, unions and Annotated."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return next((found for suffix, inner in members(annotation) if not suffix
                 for found in [model_of(inner)] if found is not None), None)


def models_in(annotation: Any) -> list[tuple[type[BaseModel], str]]:
    """Every model a field holds, with the key-path suffix to reach it (`.<name>` in a dict, `[]` in a list)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [(annotation, "")]
    return [(model, suffix + rest) for suffix, inner in members(annotation) for model, rest in models_in(inner)]


def keys(model: type[BaseModel]) -> dict[str, FieldInfo]:
    """A model's fields by the key a stack file writes: the alias where there is one (`from`)."""
    return {field.alias or name: field for name, field in model.model_fields.items()}


def step(annotation: Any, part: str) -> Optional[Any]:
    """The annotation one key below: a model's field, a dict's value (`part` is a name) or a list's element (an index)."""
    model = model_of(annotation)
    if model is not None:
        field = keys(model).get(part)
        return field.annotation if field else None
    for suffix, inner in members(annotation):
        found = inner if suffix else step(inner, part)
        if found is not None:
            return found
    return None


def constraints(field: FieldInfo) -> list[Any]:
    """Constraints on the field itself and inside the Annotated aliases it uses, within unions and
    lists (a dict's values are described by their own model, not by the field)."""
    found = list(field.metadata)
    pending = [field.annotation]
    while pending:
        annotation = pending.pop()
        if typing.get_origin(annotation) is typing.Annotated:
            for item in typing.get_args(annotation)[1:]:
                found.extend(getattr(item, "metadata", [item]))
        pending.extend(inner for suffix, inner in members(annotation) if suffix != DICT_VALUE)
    return found
