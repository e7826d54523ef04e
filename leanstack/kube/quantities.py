"""Kubernetes resource quantities as exact numbers.

Kubernetes writes quantities as a decimal number with an optional suffix: binary (Ki, Mi, Gi, Ti,
Pi, Ei), decimal (n, u, m, k, M, G, T, P, E) or an exponent (1e3). We parse them into `Decimal` so
sums and comparisons are exact ("0.1" + "0.2" cores is 0.3, not 0.30000000000000004), and
render them back in the shortest canonical form for manifests.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

BINARY_SUFFIXES = {
    "Ki": Decimal(2) ** 10,
    "Mi": Decimal(2) ** 20,
    "Gi": Decimal(2) ** 30,
    "Ti": Decimal(2) ** 40,
    "Pi": Decimal(2) ** 50,
    "Ei": Decimal(2) ** 60,
}
MIB, GIB = BINARY_SUFFIXES["Mi"], BINARY_SUFFIXES["Gi"]
# The resources every container states: stack-file field -> Kubernetes resource name.
RESOURCE_KEYS = {"cpu": "cpu", "memory": "memory", "ephemeral_storage": "ephemeral-storage"}
DECIMAL_SUFFIXES = {
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "": Decimal(1),
    "k": Decimal("1e3"),
    "M": Decimal("1e6"),
    "G": Decimal("1e9"),
    "T": Decimal("1e12"),
    "P": Decimal("1e15"),
    "E": Decimal("1e18"),
}
_QUANTITY = re.compile(r"^(?P<number>[+]?(\d+\.?\d*|\.\d+))(?P<suffix>[KMGTPE]i|[numkMGTPE]|[eE][+-]?\d+)?$")


# Kubernetes itself caps quantities far below this; it only keeps Decimal arithmetic finite.
MAX_EXPONENT = 30


class QuantityError(ValueError):
    """A string that is not a Kubernetes quantity; the message says what is allowed."""


def parse_quantity(text: object) -> Decimal:
    """Parse a Kubernetes quantity ("250m", "384Mi", "2Gi", "1.5", 2) into an exact Decimal.

    Negative and malformed quantities are rejected with a message naming the accepted forms.
    """
    if isinstance(text, bool) or not isinstance(text, (str, int, float, Decimal)):
        raise QuantityError(f"expected a Kubernetes quantity such as 250m or 384Mi, got {type(text).__name__}")
    raw = str(text).strip()
    if raw.startswith("-"):
        raise QuantityError(f"{raw!r} is negative; quantities here must be positive (e.g. 250m, 384Mi)")
    match = _QUANTITY.match(raw)
    if match is None:
        hint = ""
        suffix_guess = re.sub(r"^[\d.+]+", "", raw)
        if suffix_guess.lower() in {"kb", "mb", "gb", "tb", "kib", "mib", "gib", "tib"}:
            hint = f'; did you mean "{raw[: len(raw) - len(suffix_guess)]}{suffix_guess[0].upper()}i"?'
        raise QuantityError(
            f"{raw!r} is not a Kubernetes quantity: use a number with an optional suffix "
            f"(m for milli, Ki/Mi/Gi/Ti binary, k/M/G/T decimal), e.g. 250m, 384Mi, 2Gi{hint}"
        )
    try:
        number = Decimal(match["number"])
    except InvalidOperation as exc:  # pragma: no cover - the regex admits only valid decimals
        raise QuantityError(f"{raw!r} is not a number") from exc
    suffix = match["suffix"] or ""
    if suffix in BINARY_SUFFIXES:
        return number * BINARY_SUFFIXES[suffix]
    if suffix in DECIMAL_SUFFIXES:
        return number * DECIMAL_SUFFIXES[suffix]
    exponent = int(suffix[1:])
    if abs(exponent) > MAX_EXPONENT:
        raise QuantityError(f"{raw!r} is out of range; exponents go up to e{MAX_EXPONENT} (use E, P or T suffixes)")
    return number * (Decimal(10) ** exponent)


def cpu_cores(text: object) -> Decimal:
    """CPU quantity in cores: "250m" -> 0.25."""
    return parse_quantity(text)


def bytes_of(text: object) -> Decimal:
    """Memory or storage quantity in bytes: "384Mi" -> 402653184."""
    return parse_quantity(text)


def gib(text: object) -> Decimal:
    """Memory or storage quantity in GiB, the unit price sheets use: "384Mi" -> 0.375."""
    return parse_quantity(text) / BINARY_SUFFIXES["Gi"]


def format_cpu(cores: Decimal) -> str:
    """Render cores canonically: whole cores as "2", otherwise millicores ("250m")."""
    if cores == cores.to_integral_value():
        return str(int(cores))
    millis = cores * 1000
    if millis == millis.to_integral_value():
        return f"{int(millis)}m"
    return f"{cores.normalize()}"


def format_bytes(amount: Decimal) -> str:
    """Render bytes with the largest binary suffix that divides them exactly ("1536Mi", "2Gi")."""
    for suffix in ("Ei", "Pi", "Ti", "Gi", "Mi", "Ki"):
        unit = BINARY_SUFFIXES[suffix]
        if amount >= unit and amount % unit == 0:
            return f"{int(amount / unit)}{suffix}"
    if amount == amount.to_integral_value():
        return str(int(amount))
    return f"{amount.normalize()}"


def rounded_millicores(cores: float) -> str:
    """An observed CPU rate rounded to whole millicores, always in m ("0.1234" -> "123m", 1 -> "1000m")."""
    return f"{cores * 1000:.0f}m"


def rounded_mebibytes(amount: float) -> str:
    """Observed bytes rounded to whole MiB, always in Mi (1 GiB -> "1024Mi")."""
    return f"{amount / float(MIB):.0f}Mi"


def human_bytes(size: float) -> str:
    """Decimal units, as `docker images` prints sizes."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if abs(size) >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size:.0f} B"


def format_amount(resource: str, amount: Decimal) -> str:
    """An amount of a resource in its own notation: cores for cpu, bytes for everything else."""
    return format_cpu(amount) if resource == "cpu" else format_bytes(amount)
