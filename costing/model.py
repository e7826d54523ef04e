"""Price Kubernetes objects: manifests -> usage -> money, each step a pure function.

It prices the objects, not leanstack's config, so it works for any manifest set:
- Deployment / StatefulSet: per pod, the containers' billed amounts (requests, or the larger of
  requests and limits where the sheet bills limits; a missing request defaults to its limit, as
  in Kubernetes; init containers count when they are larger, as for scheduling) x 730 hours x
  replicas. An HPA targeting the workload makes it a range: minReplicas (baseline) to maxReplicas
  (ceiling). StatefulSet volumeClaimTemplates are storage per replica.
- PersistentVolumeClaim: requested storage x its storage class's price per GiB-month.
- Service of type LoadBalancer: the sheet's hourly price x 730.
- Images (when their sizes are known): registry storage (GiB x GiB-month) and pull transfer
  (pulls per month x GiB).
Everything is exact Decimal; rounding to cents happens only when shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Iterable, Mapping, Optional

from components.quantities import parse_quantity
from costing.sheets import PriceSheet

HOURS_PER_MONTH = Decimal(730)
GIB = Decimal(2) ** 30
CATEGORIES = ("compute", "storage", "network", "registry")
WORKLOAD_KINDS = ("Deployment", "StatefulSet")


@dataclass(frozen=True)
class ImageUsage:
    name: str
    size_bytes: int
    pulls_per_month: int = 0
    service: Optional[str] = None


@dataclass(frozen=True)
class LineItem:
    """One resource's monthly cost in one category, as a baseline..ceiling range."""

    resource: str
    service: str
    category: str
    baseline: Decimal
    ceiling: Decimal
    detail: str


@dataclass(frozen=True)
class CostReport:
    sheet: str
    items: tuple[LineItem, ...] = field(default_factory=tuple)

    def total(self) -> tuple[Decimal, Decimal]:
        return (sum((i.baseline for i in self.items), Decimal(0)), sum((i.ceiling for i in self.items), Decimal(0)))

    def grouped(self, key: str) -> dict[str, tuple[Decimal, Decimal]]:
        groups: dict[str, tuple[Decimal, Decimal]] = {}
        for item in self.items:
            low, high = groups.get(getattr(item, key), (Decimal(0), Decimal(0)))
            groups[getattr(item, key)] = (low + item.baseline, high + item.ceiling)
        return groups

    def by_resource(self) -> dict[str, tuple[Decimal, Decimal]]:
        return self.grouped("resource")

    def summary(self) -> dict[str, Any]:
        """The stack output `cost`: money as strings with cents, so previews diff cleanly."""
        baseline, ceiling = self.total()
        categories = self.grouped("category")
        return {
            "sheet": self.sheet,
            "currency": "USD",
            "monthly": money_range(baseline, ceiling),
            "by_category": {c: money_range(*categories.get(c, (Decimal(0), Decimal(0)))) for c in CATEGORIES},
            "by_service": {s: money_range(*amounts) for s, amounts in sorted(self.grouped("service").items())},
        }


def cents(amount: Decimal) -> Decimal:
    return amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def money(amount: Decimal) -> str:
    return f"{cents(amount):.2f}"


def money_range(baseline: Decimal, ceiling: Decimal) -> dict[str, str]:
    return {"baseline": money(baseline), "ceiling": money(ceiling)}


def resource_id(manifest: Mapping[str, Any]) -> str:
    meta = manifest.get("metadata") or {}
    namespace = meta.get("namespace")
    return f"{manifest.get('kind')}/{namespace + '/' if namespace else ''}{meta.get('name')}"


def service_of(manifest: Mapping[str, Any]) -> str:
    meta = manifest.get("metadata") or {}
    return (meta.get("labels") or {}).get("app.kubernetes.io/name") or meta.get("name") or "?"


def price_objects(objects: Iterable[Mapping[str, Any]], sheet: PriceSheet, images: Iterable[ImageUsage] = ()) -> CostReport:
    objects = [o for o in objects if isinstance(o, Mapping)]
    replicas = replica_ranges(objects)
    items: list[LineItem] = []
    for manifest in objects:
        kind = manifest.get("kind")
        if kind in WORKLOAD_KINDS:
            items.extend(_workload_items(manifest, sheet, replicas))
        elif kind == "PersistentVolumeClaim":
            items.append(_claim_item(manifest, sheet))
        elif kind == "Service" and (manifest.get("spec") or {}).get("type") == "LoadBalancer":
            monthly = sheet.load_balancer_hour * HOURS_PER_MONTH
            items.append(LineItem(resource_id(manifest), service_of(manifest), "network", monthly, monthly, "load balancer"))
    for image in images:
        items.extend(_image_items(image, sheet))
    return CostReport(sheet.name, tuple(items))


def replica_ranges(objects: list[Mapping[str, Any]]) -> dict[tuple[str, str, str], tuple[int, int]]:
    """(kind, namespace, name) of each HPA target -> (minReplicas, maxReplicas)."""
    ranges = {}
    for manifest in objects:
        if manifest.get("kind") != "HorizontalPodAutoscaler":
            continue
        spec = manifest.get("spec") or {}
        target = spec.get("scaleTargetRef") or {}
        namespace = (manifest.get("metadata") or {}).get("namespace") or ""
        low = int(spec.get("minReplicas") or 1)
        ranges[(target.get("kind"), namespace, target.get("name"))] = (low, int(spec.get("maxReplicas") or low))
    return ranges


def pod_hourly(pod_spec: Mapping[str, Any], sheet: PriceSheet) -> tuple[Decimal, str]:
    """Billed cost of one pod for an hour, and a short description of what was billed."""
    amounts = {"cpu": Decimal(0), "memory": Decimal(0), "ephemeral-storage": Decimal(0)}
    for container in pod_spec.get("containers") or []:
        for key, value in _billed(container, sheet).items():
            amounts[key] += value
    for container in pod_spec.get("initContainers") or []:
        for key, value in _billed(container, sheet).items():
            amounts[key] = max(amounts[key], value)
    hourly = (
        amounts["cpu"] * sheet.cpu_core_hour
        + amounts["memory"] / GIB * sheet.memory_gib_hour
        + amounts["ephemeral-storage"] / GIB * sheet.ephemeral_gib_hour
    )
    detail = f"{_fmt(amounts['cpu'])} cpu, {_fmt(amounts['memory'] / GIB)}Gi memory"
    return hourly, detail


def _billed(container: Mapping[str, Any], sheet: PriceSheet) -> dict[str, Decimal]:
    resources = container.get("resources") or {}
    requests, limits = resources.get("requests") or {}, resources.get("limits") or {}
    billed = {}
    for key in ("cpu", "memory", "ephemeral-storage"):
        request = requests.get(key, limits.get(key))
        amount = parse_quantity(request) if request is not None else Decimal(0)
        if sheet.bill_limits and limits.get(key) is not None:
            amount = max(amount, parse_quantity(limits[key]))
        billed[key] = amount
    return billed


def _workload_items(manifest: Mapping[str, Any], sheet: PriceSheet, ranges: Mapping) -> list[LineItem]:
    spec = manifest.get("spec") or {}
    meta = manifest.get("metadata") or {}
    fixed = int(spec["replicas"]) if spec.get("replicas") is not None else 1
    low, high = ranges.get((manifest.get("kind"), meta.get("namespace") or "", meta.get("name")), (fixed, fixed))
    hourly, detail = pod_hourly((spec.get("template") or {}).get("spec") or {}, sheet)
    pods = f"{low}" if low == high else f"{low}-{high}"
    items = [LineItem(resource_id(manifest), service_of(manifest), "compute",
                      hourly * HOURS_PER_MONTH * low, hourly * HOURS_PER_MONTH * high, f"{pods} pods x ({detail})")]
    for template in spec.get("volumeClaimTemplates") or []:
        per_replica = _claim_monthly(template, sheet)
        items.append(LineItem(resource_id(manifest), service_of(manifest), "storage", per_replica * low,
                              per_replica * high, f"{pods} x {claim_size(template)} {_claim_class(template) or 'default'}"))
    return items


def claim_size(claim: Mapping[str, Any]) -> str:
    """Requested storage of a claim (or claim template), "0" when it states none."""
    return str((((claim.get("spec") or {}).get("resources") or {}).get("requests") or {}).get("storage", "0"))


def _claim_class(claim: Mapping[str, Any]) -> Optional[str]:
    return (claim.get("spec") or {}).get("storageClassName")


def _claim_monthly(claim: Mapping[str, Any], sheet: PriceSheet) -> Decimal:
    return parse_quantity(claim_size(claim)) / GIB * sheet.storage_price(_claim_class(claim))


def _claim_item(manifest: Mapping[str, Any], sheet: PriceSheet) -> LineItem:
    monthly = _claim_monthly(manifest, sheet)
    detail = f"{claim_size(manifest)} {_claim_class(manifest) or 'default'}"
    return LineItem(resource_id(manifest), service_of(manifest), "storage", monthly, monthly, detail)


def _image_items(image: ImageUsage, sheet: PriceSheet) -> list[LineItem]:
    size = Decimal(image.size_bytes) / GIB
    service = image.service or image.name
    storage = size * sheet.registry_gib_month
    transfer = size * image.pulls_per_month * sheet.egress_gib
    return [
        LineItem(f"Image/{image.name}", service, "registry", storage, storage, f"{_fmt(size)}Gi stored"),
        LineItem(f"Image/{image.name}", service, "network", transfer, transfer, f"{image.pulls_per_month} pulls/month"),
    ]


def _fmt(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.001'), rounding=ROUND_HALF_UP).normalize():f}"
