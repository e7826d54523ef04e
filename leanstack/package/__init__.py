"""The components as a Pulumi component package, for programs in other languages (YAML, TypeScript, Go).

plugin/PulumiPlugin.yaml runs `main()` through Pulumi's component provider host, which infers the
package schema (the `leanstack` package: `leanstack:index:<Component>`) from the annotations of
these classes and their args (docstrings become its descriptions; docs/package-schema.json holds it).
The host hands each component its args as plain data; the subclasses here bind that into the
component's frozen args class (leanstack.config.resolve.plain, every value checked: a misfit ends
the caller's preview with the property path and what is allowed) and are otherwise the components themselves: the same type tokens, children and outputs as from Python.
"""

from typing import Optional

import pulumi
from pulumi.provider.experimental import component_provider_host

from leanstack.components import image, namespace, service
from leanstack.config.resolve.plain import bind

NAME = "leanstack"
VERSION = "0.1.0"


class HardenedNamespace(namespace.HardenedNamespace):
    """A namespace that enforces Pod Security `restricted`, caps its workloads' footprint with
    ResourceQuotas (one per cap), sets container defaults with a LimitRange, and denies all traffic
    that no policy admits (DNS excepted)."""

    def __init__(self, name: str, args: namespace.HardenedNamespaceArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__(name, bind(namespace.HardenedNamespaceArgs, args), opts)
        # Another language's program cannot call lower_caps once its services are declared: the caps
        # that shrink below `liveCaps` are declared now, with the others (no ordering around a rollout).
        self.lower_caps([])


class RightSizedService(service.RightSizedService):
    """One service's hardened workload (Deployment or StatefulSet) and everything around it: its
    ServiceAccount, Secrets, NetworkPolicy, storage, migration Job, CronJobs, Service, Ingress, HPA
    and PodDisruptionBudget."""

    def __init__(self, name: str, args: service.RightSizedServiceArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__(name, bind(service.RightSizedServiceArgs, args), opts)


class OptimizedImage(image.OptimizedImage):
    """A service image built with BuildKit, pushed, held to its size budget and dive rules, and
    handed back as a digest reference."""

    def __init__(self, name: str, args: image.OptimizedImageArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__(name, bind(image.OptimizedImageArgs, args), opts)


COMPONENTS = [HardenedNamespace, RightSizedService, OptimizedImage]


def main() -> None:
    """Serve the package to the engine (the plugin's entry point)."""
    component_provider_host(COMPONENTS, NAME, version=VERSION)
