from decimal import Decimal

import pytest

from leanstack.kube.quantities import (
    QuantityError, format_bytes, format_cpu, gib, parse_quantity, rounded_mebibytes, rounded_millicores,
)


@pytest.mark.parametrize("text, expected", [
    ("250m", Decimal("0.25")),
    ("1", Decimal(1)),
    ("1.5", Decimal("1.5")),
    (2, Decimal(2)),
    ("384Mi", Decimal(384 * 2**20)),
    ("2Gi", Decimal(2 * 2**30)),
    ("1k", Decimal(1000)),
    ("1M", Decimal(10**6)),
    ("1e3", Decimal(1000)),
    ("100u", Decimal("0.0001")),
])
def test_quantities_parse_exactly(text, expected):
    assert parse_quantity(text) == expected


def test_binary_memory_converts_to_gib_exactly():
    assert gib("384Mi") == Decimal("0.375")


@pytest.mark.parametrize("text, fragment", [
    ("250x", "is not a Kubernetes quantity"),
    ("-1Gi", "is negative"),
    ("", "is not a Kubernetes quantity"),
    ("1GB", 'did you mean "1Gi"?'),
    ("Mi", "is not a Kubernetes quantity"),
    (True, "got bool"),
    (None, "got NoneType"),
])
def test_malformed_quantities_say_what_is_allowed(text, fragment):
    with pytest.raises(QuantityError, match=None) as error:
        parse_quantity(text)
    assert fragment in str(error.value)


@pytest.mark.parametrize("cores, text", [(Decimal("0.25"), "250m"), (Decimal(2), "2"), (Decimal("2.575"), "2575m")])
def test_cpu_renders_canonically(cores, text):
    assert format_cpu(cores) == text


@pytest.mark.parametrize("amount, text", [(Decimal(2 * 2**30), "2Gi"), (Decimal(4400 * 2**20), "4400Mi"), (Decimal(1000), "1000")])
def test_bytes_render_with_the_largest_exact_suffix(amount, text):
    assert format_bytes(amount) == text


def test_observed_usage_rounds_to_whole_millicores_and_mebibytes_without_changing_suffix():
    assert [rounded_millicores(c) for c in (0.1234, 1.0, 0.0)] == ["123m", "1000m", "0m"]
    assert [rounded_mebibytes(b) for b in (100.4 * 2**20, 2**30, 0.0)] == ["100Mi", "1024Mi", "0Mi"]
