"""Usage: Kubernetes objects -> what the platform bills, as cost components per resource.

It reads the objects, not leanstack's config, so it works for any manifest set:
- Deployment / StatefulSet: one pod as the sheet's billing model bills it (requests, Fargate pod
  sizes, Autopilot request rules; leanstack.costing.billing), x replicas. An HPA targeting the
  workload makes the replicas a range: minReplicas (baseline) to maxReplicas (ceiling).
  StatefulSet volumeClaimTemplates are storage per replica.
- PersistentVolumeClaim: requested storage in its storage class.
- Service of type LoadBalancer: one load balancer.
- CronJob: its pod for the hours its runs take per month (costing.schedules; a node pool's gaps are
  where they would run, so they are priced per unit, not packed).
- Images (when their sizes are known): registry storage and pull transfer.
Quantities are per month and per counted unit (a pod, a claim); prices come later (costing.price).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Iterable, Mapping, Optional

from leanstack.config.price_sheets import PriceSheet
from leanstack.costing.billing import BilledPod, effective_requests, pod_shape
from leanstack.costing.models import BillingModel
from leanstack.costing.money import HOURS_PER_MONTH
from leanstack.costing.schedules import monthly_hours
from leanstack.kube.manifest import POD_SPEC_PATHS, WORKLOAD_KINDS, claim_size, dig, items, mapping, resource_id, service_of
from leanstack.kube.quantities import GIB, parse_quantity



@dataclass(frozen=True)
class PriceKey:
    """Which of a sheet's unit prices a quantity is billed at: a PriceSheet price field and, for
    storage, the storage class (the sheet's `default` price when it lists no such class)."""

    field: str
    storage_class: Optional[str] = None

    def __post_init__(self) -> None:
        if self.field not in PriceSheet.model_fields or (self.storage_class is not None) != (self.field == STORAGE):
            raise ValueError(f"no sheet price {self.field!r} (storage class {self.storage_class!r})")

    def of(self, sheet: PriceSheet) -> Decimal:
        return sheet.storage_price(self.storage_class) if self.field == STORAGE else getattr(sheet, self.field)

    @classmethod
    def storage(cls, storage_class: str) -> "PriceKey":
        return cls(STORAGE, storage_class)


STORAGE = "storage_gib_month"
CPU_HOUR, MEMORY_HOUR, EPHEMERAL_HOUR = PriceKey("cpu_core_hour"), PriceKey("memory_gib_hour"), PriceKey("ephemeral_gib_hour")
LOAD_BALANCER_HOUR, REGISTRY_MONTH, EGRESS = PriceKey("load_balancer_hour"), PriceKey("registry_gib_month"), PriceKey("egress_gib")
CLUSTER_FEE_HOUR = PriceKey("cluster_fee_hour")


@dataclass(frozen=True)
class ImageUsage:
    name: str
    size_bytes: int
    pulls_per_month: int = 0
    service: Optional[str] = None


@dataclass(frozen=True)
class Usage:
    """One resource's billed quantities in one category.

    `quantities` maps a sheet price (PriceKey: CPU_HOUR, MEMORY_HOUR, PriceKey.storage(<class>), ...)
    to the monthly amount for one counted unit; `count` is how many units at the baseline and the
    ceiling. `pod` is the billed size of one pod, for the resource delta behind the money.
    """

    resource: str
    service: str
    category: str
    quantities: Mapping[PriceKey, Decimal]
    count: tuple[int, int]
    detail: str
    pod: Optional[BilledPod] = None
    requested: Optional[Mapping[str, Decimal]] = None


def usage_of(objects: Iterable[Mapping[str, Any]], model: BillingModel = BillingModel(),
             images: Iterable[ImageUsage] = ()) -> list[Usage]:
    objects = [o for o in objects if isinstance(o, Mapping)]
    replicas = replica_ranges(objects)
    usages: list[Usage] = []
    for manifest in objects:
        kind = manifest.get("kind")
        if kind in WORKLOAD_KINDS.values():
            usages.extend(_workload(manifest, model, replicas))
        elif kind == "PersistentVolumeClaim":
            usages.append(_claim(manifest, resource_id(manifest), (1, 1), claim_size(manifest)))
        elif kind == "CronJob":
            usages.append(_scheduled(manifest, model))
        elif kind == "Service" and dig(manifest, "spec", "type") == "LoadBalancer":
            usages.append(Usage(resource_id(manifest), service_of(manifest), "network",
                                {LOAD_BALANCER_HOUR: HOURS_PER_MONTH}, (1, 1), "load balancer"))
    for image in images:
        usages.extend(_image(image))
    return usages


def replica_ranges(objects: list[Mapping[str, Any]]) -> dict[tuple[str, str, str], tuple[int, int]]:
    """(kind, namespace, name) of each HPA target -> (minReplicas, maxReplicas)."""
    ranges = {}
    for manifest in objects:
        if manifest.get("kind") != "HorizontalPodAutoscaler":
            continue
        target = mapping(dig(manifest, "spec", "scaleTargetRef"))
        low = int(dig(manifest, "spec", "minReplicas") or 1)
        key = (target.get("kind"), dig(manifest, "metadata", "namespace") or "", target.get("name"))
        ranges[key] = (low, int(dig(manifest, "spec", "maxReplicas") or low))
    return ranges


def pods_text(count: tuple[int, int]) -> str:
    low, high = count
    return f"{low}" if low == high else f"{low}-{high}"


def _workload(manifest: Mapping[str, Any], model: BillingModel, ranges: Mapping) -> list[Usage]:
    fixed = dig(manifest, "spec", "replicas")
    fixed = int(fixed) if fixed is not None else 1
    key = (manifest.get("kind"), dig(manifest, "metadata", "namespace") or "", dig(manifest, "metadata", "name"))
    count = ranges.get(key, (fixed, fixed))
    resource, service = resource_id(manifest), service_of(manifest)
    shape = pod_shape(mapping(dig(manifest, "spec", "template", "spec")), resource)
    pod = model.bill(shape)
    detail = f"{pods_text(count)} pods x ({pod.size})"
    result = [Usage(resource, service, "compute", _pod_hours(pod, HOURS_PER_MONTH), count, detail, pod, effective_requests(shape))]
    for template in items(dig(manifest, "spec", "volumeClaimTemplates")):
        result.append(_claim(template, resource, count, f"{pods_text(count)} x {claim_size(template)}", service))
    return result


def _pod_hours(pod: BilledPod, hours: Decimal) -> dict[PriceKey, Decimal]:
    return {
        CPU_HOUR: pod.cpu * hours,
        MEMORY_HOUR: pod.memory / GIB * hours,
        EPHEMERAL_HOUR: pod.ephemeral_storage / GIB * hours,
    }


def _scheduled(manifest: Mapping[str, Any], model: BillingModel) -> Usage:
    hours, runs, seconds = monthly_hours(manifest)
    resource = resource_id(manifest)
    shape = pod_shape(mapping(dig(manifest, *POD_SPEC_PATHS["CronJob"])), resource)
    pod = model.bill(shape)
    return Usage(resource, service_of(manifest), "compute", _pod_hours(pod, hours), (1, 1),
                 f"{runs:.2f} runs x {seconds}s x ({pod.size})")


def _claim(claim: Mapping[str, Any], resource: str, count: tuple[int, int], size_text: str,
           service: Optional[str] = None) -> Usage:
    storage_class = dig(claim, "spec", "storageClassName") or "default"
    gib = parse_quantity(claim_size(claim)) / GIB
    return Usage(resource, service or service_of(claim), "storage", {PriceKey.storage(storage_class): gib}, count,
                 f"{size_text} {storage_class}")


def _image(image: ImageUsage) -> list[Usage]:
    size = Decimal(image.size_bytes) / GIB
    resource, service = f"Image/{image.name}", image.service or image.name
    return [
        Usage(resource, service, "registry", {REGISTRY_MONTH: size}, (1, 1), f"{_short(size)}Gi stored"),
        Usage(resource, service, "network", {EGRESS: size * image.pulls_per_month}, (1, 1),
              f"{image.pulls_per_month} pulls/month"),
    ]


def _short(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.001')).normalize():f}"
