"""Load a stack's config and explain every problem with it.

Two sources feed the same validation: a `Pulumi.<stack>.yaml` file read directly (tests, tools,
docs) and the config the Pulumi engine hands the program at run time. Either way the result is a
`StackConfig` or a `ConfigError` whose lines read `<stack file>: <key path>: <what is allowed>`,
one per problem, sorted by key path so the output is stable.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Iterable, Mapping

import yaml
from pydantic import ValidationError

from leanstack.config import walk

from leanstack.config.errors import ConfigError, Problem, Problems
from leanstack.config.fields import HOSTNAME
from leanstack.config.schema import CONFIG_KEY, DNS_LABEL, ENV_NAME, StackConfig

PROJECT = "leanstack"
PATTERN_MEANINGS = {
    DNS_LABEL: "a lowercase DNS label: a-z, 0-9 and '-', starting with a letter",
    HOSTNAME: "a host name: lowercase labels of a-z, 0-9 and '-' joined by single dots, e.g. api.example.com",
    ENV_NAME: "an environment variable name: letters, digits and '_', not starting with a digit",
    CONFIG_KEY: "a config key name: letters, digits, '_' and '-', starting with a letter",
}


def stack_file_name(stack: str) -> str:
    return f"Pulumi.{stack}.yaml"


def load_stack_file(path: Path | str) -> StackConfig:
    """Validate the `leanstack:` keys of a stack file; secure values are checked, never decrypted."""
    path = Path(path)
    return load_stack_text(read_stack_text(path), path.name)


def read_stack_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(path.name, [Problem("", f"cannot read the stack file: {exc.strerror}")]) from None


def load_stack_text(text: str, source: str) -> StackConfig:
    """Validate a stack file's text; `source` is the file name errors give."""
    document = parse_yaml(text, source)
    if not isinstance(document, dict) or not isinstance(document.get("config", {}), dict):
        raise ConfigError(source, [Problem("", "expected a mapping with a 'config' mapping of project:key entries")])
    values, secret_keys = {}, set()
    for key, value in (document.get("config") or {}).items():
        if isinstance(value, dict) and set(value) == {"secure"}:
            secret_keys.add(str(key))
        values[str(key)] = value
    return validate_config(values, secret_keys, source)


def parse_yaml(text: str, source: str) -> Any:
    """Parse YAML, rejecting duplicate keys (PyYAML would silently keep the last one)."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        duplicates = list(_duplicate_keys(root, ()))
        if duplicates:
            raise ConfigError(source, duplicates)
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f"line {where.line + 1}: " if where else ""
        problem = " ".join(str(getattr(exc, "problem", None) or exc).split())  # one line, even for reader errors
        raise ConfigError(source, [Problem("", f"{line}not valid YAML: {problem}")]) from None
    except ConfigError:
        raise
    except ValueError as exc:  # a scalar YAML resolves but can't construct, e.g. the date 2024-13-45
        raise ConfigError(source, [Problem("", f"not valid YAML: {exc}")]) from None
    except RecursionError:
        raise ConfigError(source, [Problem("", f"nested deeper than {sys.getrecursionlimit() // 10} levels; not a stack config")]) from None


def _duplicate_keys(node: Any, path: tuple[str, ...]) -> Iterable[tuple[str, str]]:
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in seen:
                yield Problem(_key_path(path + (key,)), f"duplicate key {key!r} (line {key_node.start_mark.line + 1}); each key may appear once")
            seen.add(key)
            yield from _duplicate_keys(value_node, path + (key,))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield from _duplicate_keys(item, path + (str(index),))


def _key_path(path: tuple[str, ...]) -> str:
    """A YAML path as the key path users know: config.leanstack:services.api -> services.api."""
    if len(path) >= 2 and path[0] == "config" and path[1].startswith(f"{PROJECT}:"):
        path = (path[1].split(":", 1)[1], *path[2:])
    return ".".join(path)


def validate_config(values: Mapping[str, Any], secret_keys: set[str], source: str) -> StackConfig:
    """Turn `project:key` config values into a StackConfig, or raise ConfigError listing every problem.

    Keys of other namespaces (kubernetes:, pulumi:) are not ours and are ignored. A `leanstack:` key
    is either a StackConfig field or a secret that some service's secret_env names.
    """
    try:
        return _validate(values, secret_keys, source)
    except RecursionError:
        raise ConfigError(source, [Problem("", "config nested too deeply to be a stack config")]) from None


def _validate(values: Mapping[str, Any], secret_keys: set[str], source: str) -> StackConfig:
    ours = {key.split(":", 1)[1]: value for key, value in values.items() if key.startswith(f"{PROJECT}:")}
    ours = {key: _decode(value) for key, value in ours.items()}
    referenced = _referenced_secrets(ours.get("services"))
    fields = set(StackConfig.model_fields)
    problems = []
    data = {}
    for key, value in ours.items():
        if key in fields:
            data[key] = value
        elif key not in referenced:
            problems.append(Problem(key, f"unknown key {key!r}; allowed keys: {', '.join(sorted(fields))}, "
                                  f"or secrets named by a service's secret_env or secret_files"))
    for key, (path) in sorted(referenced.items()):
        full = f"{PROJECT}:{key}"
        if key not in ours:
            problems.append(Problem(path, f"secret config key {key!r} is not set; run: pulumi config set --secret {full} <value>"))
        elif full not in secret_keys:
            problems.append(Problem(path, f"config key {key!r} is stored in plain text; set it with pulumi config set --secret {full}"))
    try:
        config = StackConfig.model_validate(data)
    except ValidationError as exc:
        explained = [problem for error in exc.errors() for problem in _explain(error)]
        raise ConfigError(source, problems + explained) from None
    if problems:
        raise ConfigError(source, problems)
    return config


def _decode(value: Any) -> Any:
    """The engine passes object-valued config as JSON text; files give it parsed."""
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _referenced_secrets(services: Any) -> dict[str, str]:
    """Secret config keys named by secret_env and secret_files, each with the key path that names it."""
    found = {}
    if isinstance(services, dict):
        for name, service in services.items():
            for field in ("secret_env", "secret_files"):
                named = service.get(field) if isinstance(service, dict) else None
                if isinstance(named, dict):
                    for entry, key in named.items():
                        if isinstance(key, str):
                            found.setdefault(key, f"services.{name}.{field}.{entry}")
    return found


def _explain(error: Mapping[str, Any]) -> list[Problem]:
    """One pydantic error as problems, each with its key path and a plain message saying what is allowed.

    A validator that sees several fields raises `Problems` with paths relative to its model; they
    are placed under the error's location.
    """
    raised = (error.get("ctx") or {}).get("error")
    if error["type"] == "value_error" and isinstance(raised, Problems):
        location = ".".join(str(part) for part in error["loc"])
        return [problem.under(location) for problem in raised.problems]
    return [_explain_one(error)]


def _explain_one(error: Mapping[str, Any]) -> Problem:
    loc = tuple(str(part) for part in error["loc"])
    kind, value, ctx = error["type"], error.get("input"), error.get("ctx") or {}
    if loc and loc[-1] == "[key]":
        loc = loc[:-1]
    path = ".".join(loc)
    if kind == "extra_forbidden":
        allowed = _allowed_keys(loc[:-1])
        return Problem(path, f"unknown key {loc[-1]!r}; allowed keys: {', '.join(allowed)}")
    if kind == "missing":
        return Problem(path, "required key is missing")
    if kind == "value_error":
        return Problem(path, str(ctx.get("error", error["msg"])))
    if kind == "string_pattern_mismatch":
        meaning = PATTERN_MEANINGS.get(ctx.get("pattern"), f"a string matching {ctx.get('pattern')}")
        return Problem(path, f"{value!r} is not allowed; use {meaning}")
    if kind == "literal_error":
        return Problem(path, f"{value!r} is not allowed; use one of {ctx.get('expected')}")
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        bound = {"greater_than_equal": ">=", "greater_than": ">", "less_than_equal": "<=", "less_than": "<"}[kind]
        limit = next(iter(ctx.values()))
        return Problem(path, f"{value!r} is out of range; must be {bound} {limit}")
    if kind in ("too_short", "string_too_short"):
        return Problem(path, "must not be empty")
    if kind == "string_too_long":
        return Problem(path, f"{value!r} is too long; at most {ctx.get('max_length')} characters")
    expected = {
        "int_parsing": "an integer", "int_type": "an integer", "int_from_float": "a whole number",
        "string_type": "a string", "bool_parsing": "true or false", "bool_type": "true or false",
        "dict_type": "a mapping", "model_type": "a mapping", "model_attributes_type": "a mapping",
        "list_type": "a list", "decimal_parsing": "a decimal number", "decimal_type": "a decimal number",
    }.get(kind)
    if expected:
        return Problem(path, f"expected {expected}, got {type(value).__name__} {value!r}")
    return Problem(path, error["msg"])


def _allowed_keys(loc: tuple[str, ...]) -> list[str]:
    """The field names of the model found at `loc` inside StackConfig."""
    current: Any = StackConfig
    for part in loc:
        current = walk.step(current, part)
        if current is None:
            return []
    model = walk.model_of(current)
    return sorted(walk.keys(model)) if model else []
