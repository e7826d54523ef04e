"""dive's CI rules for a built image (`image.build.rules`), with dive's key names and defaults, so a
`.dive-ci` file's `rules:` block can be copied here unchanged. `disabled` turns a rule off.

The image is read after it is pushed (leanstack.images); a rule it breaks fails `pulumi up` for that
image before any workload that runs it changes, as `size_budget` does. This module imports no other
config module, so `fields.ImageBuild` can hold it.
"""

from __future__ import annotations

from typing import Annotated, Optional

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from leanstack.kube.quantities import QuantityError, parse_quantity

DISABLED = "disabled"


def _ratio(value: object) -> Optional[float]:
    if value == DISABLED or value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{value!r} is not a number; use a ratio from 0 to 1 (0.9 means 90%) or {DISABLED}")
    if not 0 <= value <= 1:
        raise ValueError(f"{value} is out of range; use a ratio from 0 to 1 (0.9 means 90%) or {DISABLED}")
    return float(value)


def _bytes(value: object) -> Optional[str]:
    if value == DISABLED or value is None:
        return None
    try:
        amount = parse_quantity(str(value))
    except QuantityError:
        raise ValueError(f"{value!r} is not a byte count; use e.g. 20Mi or 20M, or {DISABLED}") from None
    if amount < 0 or amount != amount.to_integral_value():
        raise ValueError(f"{value!r} is not a whole number of bytes; use e.g. 20Mi, or {DISABLED}")
    return str(value).strip()


Ratio = Annotated[Optional[float], BeforeValidator(_ratio)]
Bytes = Annotated[Optional[str], BeforeValidator(_bytes)]


class ImageRules(BaseModel):
    """dive's rules (`rules.*` of `.dive-ci`), with dive's defaults; efficiency and wasted bytes as
    dive computes them (`leanstack images` prints both)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    lowest_efficiency: Ratio = Field(0.9, alias="lowestEfficiency",
                                     description="Fail below this efficiency: a ratio 0..1, or disabled.")
    highest_wasted_bytes: Bytes = Field(None, alias="highestWastedBytes",
                                        description="Fail above these wasted bytes (e.g. 20Mi), or disabled.")
    highest_user_wasted_percent: Ratio = Field(
        0.1, alias="highestUserWastedPercent",
        description="Fail above this ratio of wasted bytes to the bytes of every layer but the first: 0..1, or disabled.")
