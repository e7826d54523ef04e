"""HardenedNamespace: a namespace that enforces Pod Security `restricted`, caps its workloads'
footprint with ResourceQuotas (one per cap), sets container defaults with a LimitRange, and denies
all traffic that no policy admits (DNS excepted).

Order around a rollout: a cap that grows (or holds) is applied before the workloads roll, one that
shrinks after they all have (`lowered_caps`), decided from the caps in force, read from the cluster
before anything is registered (`live_caps`)."""

import os

from dataclasses import dataclass, field
from typing import Any, Mapping, NotRequired, Optional, Sequence

import yaml

import pulumi
import pulumi_kubernetes as k8s

from leanstack.components.declare import declare
from leanstack.config.resolve import ContainerDefaults, Workload
from leanstack.render import namespace as render
from leanstack.render.objects import NamespaceContext, Scope


@dataclass(frozen=True)
class HardenedNamespaceArgs:
    """A namespace and the workloads it will hold (leanstack.config.resolve.Workload)."""

    name: str
    """The namespace. Required."""
    workloads: Sequence[Workload]
    """What it will hold: the quota is their peak footprint (each at max replicas plus its rollout
    surge), the limit range's maxima their largest limits. Required."""
    labels: NotRequired[Mapping[str, str]] = field(default_factory=dict)
    """Added to every object. Default none."""
    environment: Optional[str] = None
    """dev, staging or prod, written as a label the policies read. Default None: no label."""
    limit_range: NotRequired[ContainerDefaults] = field(default_factory=ContainerDefaults)
    """Requests and limits of containers that state none. Default 50m/64Mi/64Mi, 250m/256Mi/256Mi."""
    live_caps: NotRequired[Mapping[str, str]] = field(default_factory=dict)
    """The quota caps in force now (`live_caps`): a cap below its live value is lowered only by
    `lower_caps`, after the rollouts. Default none: a new namespace (or render mode), every cap first."""

    def context(self) -> NamespaceContext:
        return NamespaceContext(Scope(self.name, self.labels, self.environment), self.workloads, self.limit_range)


class HardenedNamespace(pulumi.ComponentResource):
    """Children: Namespace, a ResourceQuota per cap, LimitRange, default-deny and allow-dns NetworkPolicies.

    `ready` is what the namespace's workloads wait for. Caps that shrink are declared by `lower_caps`,
    which the caller runs once it has declared the workloads (a program that never calls it drops them)."""

    namespace: k8s.core.v1.Namespace
    name: pulumi.Output[str]
    manifests: list[dict[str, Any]]
    # `ready` (list[pulumi.Resource]) is set in __init__ but not annotated: a list of resources has no
    # schema type, and the component package (leanstack.package) infers its outputs from annotations.

    def __init__(self, name: str, args: HardenedNamespaceArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("leanstack:namespace:HardenedNamespace", name, None, opts)
        context = args.context()
        self._name = name
        self.manifests = []
        self.namespace = declare(self, self.manifests, k8s.core.v1.Namespace, f"{name}-ns", render.namespace(context))
        quotas = render.resource_quotas(context)
        lowered = render.lowered_caps(render.quota_caps(context), args.live_caps)
        self._lowered = [quota for cap, quota in quotas.items() if cap in lowered]
        self.ready = [self.namespace, *(self._quota(quota, [self.namespace]) for cap, quota in quotas.items()
                                        if cap not in lowered)]
        inside = {"depends_on": [self.namespace]}
        self.ready.append(declare(self, self.manifests, k8s.core.v1.LimitRange, f"{name}-defaults",
                                  render.limit_range(context), **inside))
        for policy, manifest in (("default-deny", render.default_deny(context)), ("allow-dns", render.allow_dns(context))):
            self.ready.append(declare(self, self.manifests, k8s.networking.v1.NetworkPolicy, f"{name}-{policy}", manifest,
                                      **inside))
        self.name = self.namespace.metadata.apply(lambda meta: meta.name)
        self.register_outputs({"name": self.name})

    def lower_caps(self, rollouts: Sequence[pulumi.Resource]) -> list[k8s.core.v1.ResourceQuota]:
        """Declare the caps that shrink, each once every resource of `rollouts` is done (e.g. the
        namespace's RightSizedServices: their workloads awaited Ready, their migrations run)."""
        return [self._quota(quota, [self.namespace, *rollouts]) for quota in self._lowered]

    def _quota(self, manifest: dict, after: Sequence[pulumi.Resource]) -> k8s.core.v1.ResourceQuota:
        return declare(self, self.manifests, k8s.core.v1.ResourceQuota, f"{self._name}-{manifest['metadata']['name']}",
                       manifest, depends_on=list(after))


def live_caps(kubeconfig: Optional[str], context: Optional[str], namespace: str) -> dict[str, str]:
    """The quota caps in force in `namespace` (render.caps_in_force of its ResourceQuotas); empty for
    a namespace that does not exist yet. `kubeconfig` is a path or the content, as the Kubernetes
    provider takes it; None: the default kubeconfig."""
    from kubernetes import client, config  # imported here: render mode and unit runs never load it

    if kubeconfig and not os.path.isfile(kubeconfig):
        api = config.new_client_from_config_dict(yaml.safe_load(kubeconfig), context=context)
    else:
        api = config.new_client_from_config(config_file=kubeconfig, context=context)
    with api:
        quotas = client.CoreV1Api(api).list_namespaced_resource_quota(namespace).items
    return render.caps_in_force(quota.spec.hard or {} for quota in quotas)
