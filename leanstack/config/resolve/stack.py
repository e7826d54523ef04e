"""What a stack binds besides its workloads: namespace defaults, the ingress controller, placement,
image builds (with their dive rules), and the Stack itself."""

from dataclasses import dataclass, field
from typing import Any, Mapping, NotRequired, Optional, Sequence

from leanstack.config import image_rules, schema
from leanstack.config.resolve.parts import Amounts, amounts, default_of
from leanstack.config.resolve.workload import Workload


@dataclass(frozen=True)
class ContainerDefaults:
    """A LimitRange's defaults for containers that state nothing (e.g. injected sidecars)."""

    default_request: NotRequired[Amounts] = field(default_factory=lambda: amounts(schema.LimitRangeDefaults().default_request))
    """Default 50m / 64Mi / 64Mi."""
    default_limit: NotRequired[Amounts] = field(default_factory=lambda: amounts(schema.LimitRangeDefaults().default_limit))
    """Default 250m / 256Mi / 256Mi."""


@dataclass(frozen=True)
class Ingress:
    """The cluster's ingress controller: public services admit its namespace and use its class."""

    namespace: NotRequired[str] = default_of(schema.StackConfig, "ingress_namespace")
    """Its namespace. Default ingress-nginx."""
    class_name: NotRequired[str] = default_of(schema.StackConfig, "ingress_class")
    """Its IngressClass. Default nginx."""
    publishes_status: NotRequired[bool] = default_of(schema.StackConfig, "ingress_publishes_status")
    """It writes an address to the Ingress status, so `up` may await it. Default False."""


@dataclass(frozen=True)
class Toleration:
    """A node taint the pods tolerate (Kubernetes' toleration fields)."""

    key: str
    """The taint's key, e.g. kwok.x-k8s.io/node. Required."""
    operator: NotRequired[str] = default_of(schema.Toleration, "operator")
    """Equal (matches value) or Exists (any value). Default Equal."""
    value: Optional[str] = None
    """The taint's value, with Equal. Default None."""
    effect: Optional[str] = None
    """The effect tolerated. Default None: every effect."""


@dataclass(frozen=True)
class Placement:
    """The nodes a service's pods may run on."""

    node_selector: NotRequired[Mapping[str, str]] = field(default_factory=dict)
    """Node labels they require. Default none."""
    tolerations: NotRequired[Sequence[Toleration]] = ()
    """Taints they tolerate. Default none, so no pod lands on a tainted node."""


@dataclass(frozen=True)
class ImageRules:
    """dive's CI rules a pushed image is held to (as `dive --ci`); None turns a rule off."""

    lowest_efficiency: Optional[float] = default_of(image_rules.ImageRules, "lowest_efficiency")
    """Fail below this efficiency, a ratio 0..1 (dive's lowestEfficiency). Default 0.9."""
    highest_wasted_bytes: Optional[str] = default_of(image_rules.ImageRules, "highest_wasted_bytes")
    """Fail above these wasted bytes, a quantity, e.g. 20Mi (dive's highestWastedBytes). Default None: off."""
    highest_user_wasted_percent: Optional[float] = default_of(image_rules.ImageRules, "highest_user_wasted_percent")
    """Fail above this ratio of wasted bytes to the bytes of every layer but the first, 0..1
    (dive's highestUserWastedPercent). Default 0.1."""


@dataclass(frozen=True)
class ImageBuild:
    """A BuildKit build of a Dockerfile (OptimizedImage), with what it may read bound."""

    context: str
    """Build context directory. Required."""
    dockerfile: NotRequired[str] = default_of(schema.ImageBuild, "dockerfile")
    """Dockerfile, relative to the context. Default Dockerfile."""
    target: Optional[str] = default_of(schema.ImageBuild, "target")
    """Multi-stage target. Default runtime (the lean stage)."""
    args: NotRequired[Mapping[str, str]] = field(default_factory=dict)
    """Build args. Default none."""
    platform: NotRequired[str] = default_of(schema.ImageBuild, "platform")
    """Target platform. Default linux/amd64."""
    size_budget: Optional[str] = None
    """Largest allowed image size, e.g. 150Mi; a larger image fails `up`. Default None: no budget."""
    budget_setting: NotRequired[str] = "size_budget"
    """How the over-budget error names the budget's setting. Default size_budget."""
    cache_from_registry: NotRequired[bool] = default_of(schema.ImageBuild, "cache_from_registry")
    """Reuse the last pushed image's layers as build cache. Default True."""
    build_on_preview: NotRequired[bool] = default_of(schema.ImageBuild, "build_on_preview")
    """Build during previews too. Default False."""
    secrets: NotRequired[Mapping[str, str]] = field(default_factory=dict)
    """BuildKit secret id -> its content (RUN --mount=type=secret), never stored in a layer. Default none."""
    rules: NotRequired[ImageRules] = field(default_factory=ImageRules)
    """dive's rules the pushed image is held to; one it breaks fails `up`. Default dive's defaults."""
    rules_setting: NotRequired[str] = "rules"
    """How a broken rule's error names the rules' setting (the rule's name appended). Default rules."""


@dataclass(frozen=True)
class Service:
    """One service of a stack, bound."""

    name: str
    """Its name in the stack file (and of its objects)."""
    workload: Workload
    """Its bound workload."""
    image: Any
    """What its main container runs: a pinned ref, or the Output of a build."""
    image_owner: Optional[str] = None
    """The service whose build it runs when not its own: that service's migration gates this rollout."""


@dataclass(frozen=True)
class Stack:
    """A stack's namespace and services, bound."""

    namespace: str
    """The namespace holding every object."""
    labels: Mapping[str, str]
    """Added to every object."""
    environment: str
    """dev, staging or prod."""
    limit_range: ContainerDefaults
    """The namespace's container defaults."""
    ingress: Ingress
    """The ingress controller public services admit."""
    await_timeout_seconds: Optional[int]
    """How long `up` awaits a workload (None: the provider's default)."""
    placement: Placement
    """The nodes every pod of the stack may run on."""
    services: Sequence[Service]
    """Every service, in stack-file order."""
