"""Fuzzing the config loader: whatever a stack file or the engine says, the answer is a StackConfig or
a ConfigError naming the stack file, never a traceback.

Inputs: arbitrary JSON-like values under arbitrary (unicode) keys; the shop fixture dev stack with one value
at a random path replaced by a wrong type, a huge number or string, or a unicode key; object values
as the JSON text the engine passes; arbitrary text and mangled YAML for the parser and the file loader.
What it found once is pinned in FOUND_BY_FUZZING. `INPUTS` counts what was tried (`pytest -s` prints it).
"""

from __future__ import annotations

import json
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings, strategies as st

from leanstack.config.schema import StackConfig
from leanstack.config.stack_file import ConfigError, load_stack_file, parse_yaml, validate_config
from tests.unit.conftest import shop_file

SOURCE = "Pulumi.fuzz.yaml"
INPUTS: Counter = Counter()
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
DEV_FILE = yaml.safe_load(shop_file("dev").read_text())["config"]
DEV_VALUES = dict(DEV_FILE)  # as load_stack_file passes them: secure values stay {"secure": ...}
DEV_SECRETS = {key for key, value in DEV_FILE.items() if isinstance(value, dict) and "secure" in value}
FIELDS = sorted(StackConfig.model_fields)

unicode_text = st.text(max_size=12)
scalars = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True) | unicode_text
           | st.sampled_from(["", "250m", "384Mi", "-1", "0", "1.5Gi", "9" * 40 + "Ei", "latest", "public", "🙂", "a" * 300]))
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(unicode_text, inner, max_size=4), max_leaves=16)
huge = st.sampled_from([10**100, -(10**100), 2**63, 1e308, "x" * 100_000, "9" * 5000, ["a"] * 2000, {f"k{i}": i for i in range(500)}])
keys = st.sampled_from(FIELDS) | unicode_text


def expect_config_or_error(entry: str, call) -> None:
    """The loader's contract: a StackConfig, or a ConfigError whose text names the stack file."""
    INPUTS[entry] += 1
    try:
        result = call()
    except ConfigError as error:
        assert str(error).startswith(SOURCE), str(error)
        return
    assert isinstance(result, StackConfig)


def as_engine_text(value: Any) -> Any:
    """The engine hands object-valued config to the program as JSON text."""
    return json.dumps(value) if isinstance(value, (dict, list)) else value


@FAST
@given(values=st.dictionaries(keys.map(lambda k: f"leanstack:{k}") | unicode_text, json_values, max_size=6),
       secrets=st.sets(unicode_text, max_size=3), engine=st.booleans())
def test_arbitrary_values_under_arbitrary_keys(values, secrets, engine):
    values = {key: as_engine_text(value) for key, value in values.items()} if engine else values
    expect_config_or_error("validate_config", lambda: validate_config(values, secrets, SOURCE))


def paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path into nested dicts and lists, the empty path (the whole value) included."""
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += paths(item, prefix + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += paths(item, prefix + (index,))
    return found


@st.composite
def mutated_dev_stack(draw) -> dict:
    """The shop fixture dev stack with one change at a random depth: a new value, a deletion or a unicode key."""
    values = json.loads(json.dumps(DEV_VALUES))
    path = draw(st.sampled_from(paths(values)[1:]))
    *parents, last = path
    target = values
    for step in parents:
        target = target[step]
    change = draw(st.sampled_from(["replace", "huge", "delete", "unicode-key"]))
    if change == "replace":
        target[last] = draw(json_values)
    elif change == "huge":
        target[last] = draw(huge)
    elif change == "delete":
        del target[last]
    elif isinstance(target[last], dict):
        target[last][draw(unicode_text)] = draw(json_values)
    return values


@FAST
@given(values=mutated_dev_stack(), engine=st.booleans(), secret=st.booleans())
def test_the_real_stack_with_one_thing_wrong(values, engine, secret):
    values = {key: as_engine_text(value) for key, value in values.items()} if engine else values
    expect_config_or_error("validate_config", lambda: validate_config(values, DEV_SECRETS if secret else set(), SOURCE))


def test_the_unchanged_dev_stack_still_loads():
    assert isinstance(validate_config(DEV_VALUES, DEV_SECRETS, SOURCE), StackConfig)


yaml_noise = st.sampled_from(["\t", ": ", "- ", "&a ", "*a ", "!!str ", "!!python/object:os.system ", "? ", "{", "}", "[", "]",
                              "<<: *a\n", "\n  ", "'", '"', "#", "%YAML 1.1\n", "---\n", "...\n", "\ufeff", "🙂",
                              "2001-13-45", "2024-02-30T25:00:00", "[" * 400, "{a: " * 300])


@st.composite
def yaml_texts(draw) -> str:
    """YAML of a JSON-like document, often the shape of a stack file, with noise spliced in."""
    document = draw(json_values | st.builds(lambda c: {"config": c},
                                            st.dictionaries(keys.map(lambda k: f"leanstack:{k}"), json_values, max_size=4)))
    text = yaml.safe_dump(document, allow_unicode=draw(st.booleans()))
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(yaml_noise) + text[at:]
    return text


texts = st.text(max_size=200) | yaml_texts()


@FAST
@given(text=texts)
def test_the_parser_on_arbitrary_text(text):
    INPUTS["parse_yaml"] += 1
    try:
        parse_yaml(text, SOURCE)
    except ConfigError as error:
        assert str(error).startswith(SOURCE)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=texts | mutated_dev_stack().map(lambda v: yaml.safe_dump({"config": v}, allow_unicode=True)))
def test_the_file_loader_on_arbitrary_files(text):
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / SOURCE
        path.write_text(text, encoding="utf-8")
        expect_config_or_error("load_stack_file", lambda: load_stack_file(path))


def test_a_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot read the stack file"):
        load_stack_file(tmp_path / SOURCE)


# Found by this fuzzing, fixed in components/ (stack_file.py, quantities.py): kept as regressions.
FOUND_BY_FUZZING = [
    pytest.param(lambda: validate_config({"leanstack:services": "[" * 100_000}, set(), SOURCE), id="deep JSON text from the engine"),
    pytest.param(lambda: parse_yaml("[" * 5_000, SOURCE), id="deeply nested YAML"),
    pytest.param(lambda: parse_yaml("when: 2001-13-45\n", SOURCE), id="impossible YAML timestamp"),
    pytest.param(lambda: validate_config({"leanstack:services": {"api": {"resources": {"requests": {"cpu": "1e99999999999"}}}}}, set(), SOURCE),
                 id="quantity with a huge exponent"),
]


@pytest.mark.parametrize("call", FOUND_BY_FUZZING)
def test_inputs_that_once_escaped(call):
    expect_config_or_error("regression", call)


def test_every_line_of_an_error_names_the_stack_file():
    with pytest.raises(ConfigError) as error:
        parse_yaml("name: \x07\n", SOURCE)
    assert all(line.startswith(f"{SOURCE}: ") for line in str(error.value).splitlines()), str(error.value)


def test_report_how_many_inputs_were_tried():
    # Runs last in this module (pytest keeps file order); `pytest -s` shows the count.
    if not INPUTS:
        pytest.skip("counts only when the fuzz tests above ran in the same session")
    print(f"\nconfig fuzz: {sum(INPUTS.values())} inputs tried {dict(INPUTS)}")
