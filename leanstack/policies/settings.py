"""Per-stack policy settings, read from the policy pack config (`--policy-pack-config`).

The engine hands each policy its own config object (policies/config/<stack>.json holds one per
policy). A missing setting means the strictest reading: an unknown stack is treated as prod and
claims are capped at DEFAULT_MAX_CLAIM, so forgetting the config file never loosens a rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from leanstack.kube import labels as label_keys
from leanstack.kube.quantities import QuantityError, parse_quantity

ENVIRONMENTS = label_keys.ENVIRONMENTS
DEFAULT_ENVIRONMENT = ENVIRONMENTS[-1]
DEFAULT_MAX_CLAIM = "10Gi"

ENVIRONMENT_SCHEMA = {
    "type": "string",
    "enum": list(ENVIRONMENTS),
    "default": DEFAULT_ENVIRONMENT,
    "description": "The stack's environment; prod requires images pinned by digest and HPAs from 2 replicas.",
}
MAX_CLAIM_SCHEMA = {
    "type": "string",
    "pattern": r"^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$",
    "default": DEFAULT_MAX_CLAIM,
    "description": "Largest storage a PersistentVolumeClaim may request in this stack, e.g. 2Gi.",
}


@dataclass(frozen=True)
class Settings:
    environment: str = DEFAULT_ENVIRONMENT
    max_claim: str = DEFAULT_MAX_CLAIM

    @classmethod
    def from_config(cls, config: Mapping[str, Any] | None) -> "Settings":
        """Settings from one policy's config; a bad value is an error, never a silent default."""
        config = config or {}
        environment = config.get("environment", DEFAULT_ENVIRONMENT)
        if environment not in ENVIRONMENTS:
            raise ValueError(f"policy config environment {environment!r} is not one of {', '.join(ENVIRONMENTS)}")
        max_claim = str(config.get("maxClaimSize", DEFAULT_MAX_CLAIM))
        try:
            parse_quantity(max_claim)
        except QuantityError as exc:
            raise ValueError(f"policy config maxClaimSize: {exc}") from None
        return cls(environment=environment, max_claim=max_claim)

    def environment_of(self, labels: Any) -> str:
        """The stricter of the configured environment and the object's own environment label.

        A dev config applied by mistake to prod objects (labelled by the program) still gets the
        prod rules; a label can tighten the rules, never loosen them.
        """
        labelled = labels.get(label_keys.ENVIRONMENT) if isinstance(labels, Mapping) else None
        candidates = [self.environment] + ([labelled] if labelled in ENVIRONMENTS else [])
        return max(candidates, key=ENVIRONMENTS.index)
