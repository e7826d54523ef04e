"""Platform-aware checks of a stack before it is priced: what the sheet's platform would change or refuse.

Pure (config in, problems out) so config stays below costing: the places that load a stack for
pricing (components.platform.config_from_engine, cli `cost`) call it and print the problems like
config errors, `<stack file>: <key path>: <message>`. Errors stop the run; warnings are shown.
The pod is the one the bill prices (main container, sidecars, init containers); what each platform
refuses or changes comes from the sheet's billing model (costing.models):
- fargate: requests != limits -> warning (error with cost.strict): Fargate sizes the pod by requests,
  so limits above them buy nothing and below-limit usage can still be throttled or OOM-killed.
- autopilot: requests Autopilot raises (minimums, ratio) -> warning with the billed values.
- every platform: a pod larger than the platform's largest size -> error naming the key.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from leanstack.config.errors import Problem
from leanstack.config.schema import Resources, ServiceSpec, StackConfig
from leanstack.costing.billing import ContainerResources, PodShape, effective_requests
from leanstack.costing.models import billing_model
from leanstack.kube.quantities import RESOURCE_KEYS, format_amount, parse_quantity

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


def platform_problems(config: StackConfig) -> Checked:
    model = billing_model(config.cost.sheet())
    largest = model.largest()
    errors, warnings = [], []
    for name, spec in config.services.items():
        path = f"services.{name}.resources"
        pod = pod_of(name, spec)
        requests = effective_requests(pod)
        too_big = [(key, field) for key, field in FIELDS if largest and key in largest.ceiling and requests[key] > largest.ceiling[key]]
        for key, field in too_big:
            own = getattr(spec.resources.requests, field)
            need = own if parse_quantity(own) == requests[key] else (
                f"{format_amount(key, requests[key])} (the pod's, with its sidecars and init containers)")
            errors.append(Problem(f"{path}.requests.{field}", f"{need} does not fit {largest.description}"))
        if too_big:
            continue
        for advice in model.advice(pod):
            problem = Problem(f"{path}.{advice.field}", advice.message)
            (errors if advice.strict_error and config.cost.strict else warnings).append(problem)
    return Checked(tuple(errors), tuple(warnings))
