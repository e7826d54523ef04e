"""Platform-aware checks of a stack before it is priced: what the sheet's platform would change or refuse.

Pure (config in, problems out) so config stays below costing: the places that load a stack for
pricing (components.platform.config_from_engine, cli `cost`) call it and print the problems like
config errors, `<stack file>: <key path>: <message>`. Errors stop the run; warnings are shown.
- fargate: requests != limits -> warning (error with cost.strict): Fargate sizes the pod by requests,
  so limits above them buy nothing and below-limit usage can still be throttled or OOM-killed.
- autopilot: requests Autopilot raises (minimums, ratio) -> warning with the billed values.
- every platform: a pod larger than the platform's largest size -> error naming the key.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from leanstack.config.errors import Problem
from leanstack.config.price_sheets import PriceSheet
from leanstack.config.schema import Resources, ServiceSpec, StackConfig
from leanstack.costing.billing import (FARGATE_MAX_EPHEMERAL, FARGATE_SIZES, FARGATE_SYSTEM_MEMORY, GENERAL_PURPOSE,
                                       ContainerResources, PodShape, bill_autopilot, effective_requests)
from leanstack.costing.nodes import allocatable
from leanstack.costing.pool import daemonset_load, node_types
from leanstack.kube.quantities import GIB, RESOURCE_KEYS, format_amount, format_bytes, format_cpu, parse_quantity

# (Kubernetes resource name, stack-file field)
FIELDS = tuple((key, field) for field, key in RESOURCE_KEYS.items())


@dataclass(frozen=True)
class Checked:
    errors: tuple[Problem, ...] = ()
    warnings: tuple[Problem, ...] = ()


def _amounts(section) -> dict[str, Decimal]:
    return {key: parse_quantity(getattr(section, field)) for key, field in FIELDS}


def _container(name: str, resources: Resources) -> ContainerResources:
    return ContainerResources(name, _amounts(resources.requests), _amounts(resources.limits))


def pod_of(name: str, spec: ServiceSpec) -> PodShape:
    """The service's pod as the platform sees it and bills it: the main container, the sidecars
    (listed first, as render.pod lays them out) and the init containers."""
    return PodShape((_container(name, spec.resources),),
                    tuple(_container(extra.name, extra.resources) for extra in spec.init_containers),
                    tuple(_container(extra.name, extra.resources) for extra in spec.sidecars), name=name)


def _largest(sheet: PriceSheet) -> tuple[str, dict[str, Decimal]]:
    """The platform's largest pod, as (description, per-resource amount a pod's requests may reach)."""
    if sheet.billing == "fargate":
        cpu, memory = FARGATE_SIZES[-1][0], FARGATE_SIZES[-1][1][-1]
        return (f"the largest Fargate size {cpu:f} vCPU / {memory:f} GB",
                {"cpu": cpu, "memory": memory * GIB - FARGATE_SYSTEM_MEMORY, "ephemeral-storage": FARGATE_MAX_EPHEMERAL})
    if sheet.billing == "autopilot":
        rules = GENERAL_PURPOSE
        limits = {k: v for k, v in (("cpu", rules.max_cpu), ("memory", rules.max_memory)) if v is not None}
        return "Autopilot's general-purpose maximum", limits
    if sheet.billing == "nodes":
        rooms = [(t.name, allocatable(t, sheet.node_pool.provider, daemonset_load(sheet))) for t in node_types(sheet)]
        name, room = max(rooms, key=lambda item: (item[1].memory, item[1].cpu))
        return (f"the largest node allocatable ({name}: {format_cpu(room.cpu)} cpu, {format_bytes(room.memory)})",
                {"cpu": max(r.cpu for _, r in rooms), "memory": max(r.memory for _, r in rooms)})
    return "", {}


def platform_problems(config: StackConfig) -> Checked:
    sheet = config.cost.sheet()
    largest, ceiling = _largest(sheet)
    errors, warnings = [], []
    for name, spec in config.services.items():
        path = f"services.{name}.resources"
        pod = pod_of(name, spec)
        requests = effective_requests(pod)
        too_big = [(key, field) for key, field in FIELDS if key in ceiling and requests[key] > ceiling[key]]
        for key, field in too_big:
            own = getattr(spec.resources.requests, field)
            need = own if parse_quantity(own) == requests[key] else (
                f"{format_amount(key, requests[key])} (the pod's, with its sidecars and init containers)")
            errors.append(Problem(f"{path}.requests.{field}", f"{need} does not fit {largest}"))
        if too_big:
            continue
        if sheet.billing == "fargate":
            differ = [field for key, field in FIELDS[:2] if requests[key] != pod.containers[0].limits[key]]
            if differ:
                problem = Problem(f"{path}.limits", (
                    f"{', '.join(differ)} limits differ from requests: Fargate sizes and bills the pod by requests, "
                    "so capacity above them is not reserved; set limits equal to requests"))
                (errors if config.cost.strict else warnings).append(problem)
        elif sheet.billing == "autopilot":
            billed = bill_autopilot(pod)
            if billed.adjustments:
                warnings.append(Problem(f"{path}.requests", f"Autopilot bills {billed.size}: " + "; ".join(billed.adjustments)))
    return Checked(tuple(errors), tuple(warnings))
