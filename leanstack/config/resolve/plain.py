"""Plain values -> the resolve classes, checked: what a component receives from another language.

Pulumi's component provider host (leanstack.package) hands a component its `args` as plain data:
nested mappings keyed by field name (or its schema spelling, camelCase), lists, numbers that crossed
the wire as floats. `bind` builds the frozen dataclass the component takes from them, checking every
value against its field's annotation, so a wrong type or an unknown key is one located line (in the
schema's camelCase spelling, the one the caller wrote) instead of an AttributeError deep in a renderer.
"""

import dataclasses
import types
import typing
from collections import abc
from typing import Any, Mapping, NotRequired, Union

# Plain data: what the wire carries. Anything else in a Union slot (an Output) passes through.
_PLAIN = (str, int, float, bool, list, tuple, dict, type(None))
_SCALARS = {str: "a string", int: "an integer", float: "a number", bool: "a boolean"}


class PlainValueError(ValueError):
    """A value that does not fit its field: `path` names it (e.g. workloads[0].probes.startup)."""

    def __init__(self, path: str, reason: str):
        self.path = path
        self.reason = reason
        super().__init__(f"{path or 'args'}: {reason}")


def camel(name: str) -> str:
    """The schema's spelling of a field (Pulumi's analyzer: snake_case -> camelCase)."""
    first, *rest = name.split("_")
    return first + "".join(word[:1].upper() + word[1:] for word in rest)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _shown(value: Any) -> str:
    return f"{value!r} ({type(value).__name__})"


def bind(cls: type, value: Any, path: str = "") -> Any:
    """`value` as an instance of the dataclass `cls` (an instance of it is returned as it is)."""
    try:
        return _convert(cls, value, path)
    except PlainValueError as error:  # raised afresh here: a traceback the caller sees stays two frames deep
        raise PlainValueError(error.path, error.reason) from None


def _convert(typ: Any, value: Any, path: str) -> Any:
    if typ is Any:
        return value
    origin = typing.get_origin(typ)
    if origin in (Union, types.UnionType):
        return _union(typ, value, path)
    if dataclasses.is_dataclass(typ):
        return _dataclass(typ, value, path)
    if origin in (list, tuple, abc.Sequence) or typ in (list, tuple):
        if isinstance(value, (str, bytes)) or not isinstance(value, abc.Sequence):
            raise PlainValueError(path, f"expected a list, got {_shown(value)}")
        (item,) = typing.get_args(typ)[:1] or (Any,)
        return tuple(_convert(item, element, f"{path}[{index}]") for index, element in enumerate(value))
    if origin in (dict, abc.Mapping) or typ in (dict,):
        if not isinstance(value, abc.Mapping):
            raise PlainValueError(path, f"expected a map, got {_shown(value)}")
        _, item = typing.get_args(typ) or (str, Any)
        return {str(key): _convert(item, element, _join(path, str(key))) for key, element in value.items()}
    if typ in _SCALARS:
        return _scalar(typ, value, path)
    if isinstance(typ, type):
        if not isinstance(value, typ):
            raise PlainValueError(path, f"expected a {typ.__name__}, got {_shown(value)}")
        return value
    raise TypeError(f"{path}: no conversion for the annotation {typ!r}")  # a field type this module does not know


def _union(typ: Any, value: Any, path: str) -> Any:
    members = [member for member in typing.get_args(typ) if member is not type(None)]
    if value is None:
        if len(members) < len(typing.get_args(typ)):
            return None
        raise PlainValueError(path, "missing; it is required")
    if len(members) > 1 and not isinstance(value, _PLAIN):
        return value  # pulumi.Input[T] holding an Output (or awaitable): the component resolves it
    # X | None, or pulumi.Input[T] = Union[T, Awaitable[T], Output[T]] holding plain data: T decides.
    return _convert(members[0], value, path)


def _scalar(typ: type, value: Any, path: str) -> Any:
    if isinstance(value, bool) != (typ is bool):
        raise PlainValueError(path, f"expected {_SCALARS[typ]}, got {_shown(value)}")
    if typ is int and isinstance(value, float) and value.is_integer():
        return int(value)  # numbers cross the wire as floats
    if typ is float and isinstance(value, int):
        return float(value)
    if not isinstance(value, typ):
        raise PlainValueError(path, f"expected {_SCALARS[typ]}, got {_shown(value)}")
    return value


def _dataclass(cls: type, value: Any, path: str) -> Any:
    if isinstance(value, cls):
        return value
    if not isinstance(value, Mapping):
        raise PlainValueError(path, f"expected a map of {cls.__name__}, got {_shown(value)}")
    fields = {field.name: field for field in dataclasses.fields(cls) if field.init}
    by_key = {camel(name): name for name in fields} | {name: name for name in fields}
    unknown = sorted(str(key) for key in value if key not in by_key)
    if unknown:
        allowed = ", ".join(camel(name) for name in fields)
        raise PlainValueError(_join(path, unknown[0]), f"unknown key of {cls.__name__}; allowed: {allowed}")
    kwargs = {}
    for key, element in value.items():
        name = by_key[key]
        if element is None and _has_default(fields[name]):
            continue  # an optional input left out: the field's default, as in Python
        kwargs[name] = _convert(_declared(fields[name]), element, _join(path, camel(name)))
    missing = [camel(name) for name, field in fields.items() if name not in kwargs and not _has_default(field)]
    if missing:
        raise PlainValueError(_join(path, missing[0]), f"missing; {cls.__name__} requires {', '.join(missing)}")
    try:
        return cls(**kwargs)
    except ValueError as error:  # a class's own invariant (e.g. Probe: exactly one kind)
        raise PlainValueError(path, str(error)) from None


def _declared(field: dataclasses.Field) -> Any:
    """A field's annotation as written (not get_type_hints: pulumi.Input's forward reference to
    Output resolves only where pulumi is imported), without its NotRequired marker."""
    typ = field.type
    return typing.get_args(typ)[0] if typing.get_origin(typ) is NotRequired else typ


def _has_default(field: dataclasses.Field) -> bool:
    return field.default is not dataclasses.MISSING or field.default_factory is not dataclasses.MISSING
