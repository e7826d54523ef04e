"""Platform: one stack, built from its validated stack file.

This is the one place that maps the stack file onto the components: it builds the images the stack
file names, binds the rest with `leanstack.config.resolve` and loops over the bound services
(`namespace_args`, `service_args`). Providers are explicit (Pulumi.yaml disables the default ones): Kubernetes targets
the cluster the config names or, with none, renders manifests to `rendered/<stack>/`; images build
with BuildKit. Order: providers -> an OptimizedImage per built service -> HardenedNamespace (with
the quota caps that grow or hold) -> a RightSizedService per service, each depending on the
namespace -> the quota caps that shrink, once every service has rolled (HardenedNamespace.lower_caps).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping, Optional, Sequence

import pulumi
import pulumi_docker_build as docker_build
import pulumi_kubernetes as k8s

from leanstack.components.image import OptimizedImage, OptimizedImageArgs, local_image_size
from leanstack.components.namespace import HardenedNamespace, HardenedNamespaceArgs, live_caps
from leanstack.components.service import RightSizedService, RightSizedServiceArgs
from leanstack.config.errors import ConfigError
from leanstack.config.files import read_build_secrets, read_config_files
from leanstack.config.lint import warnings as config_warnings
from leanstack.config.resolve import Service, Stack, resolve
from leanstack.config.resolve import builds as resolve_builds
from leanstack.config.schema import StackConfig
from leanstack.config.stack_file import PROJECT, stack_file_name, validate_config
from leanstack.costing.checks import platform_problems
from leanstack.costing.price import price_objects
from leanstack.costing.usage import ImageUsage
from leanstack.images.source import ImageContents, read_image


def config_from_engine() -> StackConfig:
    """Validate the config the engine handed this program; a bad config stops it cleanly.

    `pulumi.RunError` ends the program with the message alone (no traceback), before any
    resource has been registered.
    """
    runtime = pulumi.runtime.config
    values = {**runtime.get_config_env(), **runtime.CONFIG.get()}
    secret_keys = {key for key in values if key.startswith(f"{PROJECT}:") and runtime.is_config_secret(key)}
    secret_keys |= set(runtime.get_config_secret_keys_env())
    source = stack_file_name(pulumi.get_stack())
    try:
        config = validate_config(values, secret_keys, source)
    except ConfigError as error:
        raise pulumi.RunError(str(error)) from None
    # What works but is probably not meant, and what the sheet's platform would raise, round or
    # refuse: said before anything is registered.
    checked = platform_problems(config)
    for problem in [*config_warnings(config), *checked.warnings]:
        pulumi.log.warn(str(ConfigError(source, [problem])))
    if checked.errors:
        raise pulumi.RunError(str(ConfigError(source, checked.errors)))
    return config


def first_line(error: Exception) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def render_directory(config: StackConfig, stack: str) -> Optional[str]:
    if not config.kubernetes.renders:
        return None
    return config.kubernetes.render_dir or f"rendered/{stack}"


def namespace_args(stack: Stack, live: Mapping[str, str]) -> HardenedNamespaceArgs:
    return HardenedNamespaceArgs(name=stack.namespace, workloads=[service.workload for service in stack.services],
                                 labels=stack.labels, environment=stack.environment, limit_range=stack.limit_range,
                                 live_caps=live)


def service_args(stack: Stack, service: Service, rollout_after: Sequence[k8s.batch.v1.Job] = ()) -> RightSizedServiceArgs:
    return RightSizedServiceArgs(namespace=stack.namespace, workload=service.workload, image=service.image,
                                 labels=stack.labels, environment=stack.environment, ingress=stack.ingress,
                                 await_timeout_seconds=stack.await_timeout_seconds, placement=stack.placement,
                                 rollout_after=rollout_after)


@dataclass(frozen=True)
class PlatformArgs:
    config: StackConfig
    stack: str
    # How built images are measured for their size budget; the local Docker engine by default.
    measure_image_size: Callable[[str], int] = local_image_size
    # How built images are read for their dive rules; the registry API by default.
    read_image: Callable[[str], ImageContents] = read_image
    # Where config_files sources and relative build secret files are read from: the project directory
    # (the engine runs the program there).
    project_dir: Path = field(default_factory=Path.cwd)
    # The quota caps in force (kubeconfig, context, namespace -> cap -> value), read before anything
    # is registered; the cluster's by default. Render mode reads nothing.
    read_live_caps: Callable[[Optional[str], Optional[str], str], Mapping[str, str]] = live_caps


class Platform(pulumi.ComponentResource):
    namespace: pulumi.Output[str]
    services: dict[str, RightSizedService]
    images: dict[str, OptimizedImage]
    cost: dict
    image_cost: pulumi.Output[dict]

    def __init__(self, name: str, args: PlatformArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("leanstack:platform:Platform", name, None, opts)
        config = args.config
        cluster = config.kubernetes
        try:  # read before anything is registered: a missing file stops the program like bad config
            source = stack_file_name(args.stack)
            contents = read_config_files(config.services, args.project_dir, source)
            builds = resolve_builds(config, read_build_secrets(config.services, args.project_dir, source))
        except ConfigError as error:
            raise pulumi.RunError(str(error)) from None
        kubernetes = k8s.Provider(
            f"{name}-kubernetes",
            render_yaml_to_directory=render_directory(config, args.stack),
            kubeconfig=cluster.kubeconfig,
            context=cluster.context,
            opts=pulumi.ResourceOptions(parent=self),
        )
        in_cluster = pulumi.ResourceOptions(parent=self, providers=[kubernetes])
        self.images = {}
        if builds:
            engine = docker_build.Provider(f"{name}-docker-build", opts=pulumi.ResourceOptions(parent=self))
            for service, build in builds.items():
                self.images[service] = OptimizedImage(
                    service,
                    OptimizedImageArgs(
                        service=service,
                        build=build,
                        repository=f"{config.registry.server}/{config.registry.prefix}/{service}",
                        tag=args.stack,
                        builder=config.image_builder,
                    ),
                    opts=pulumi.ResourceOptions(parent=self, providers=[engine]),
                    measure_size=args.measure_image_size,
                    read_image=args.read_image,
                )
        stack = resolve(config, {service: image.ref for service, image in self.images.items()}, contents,
                        pulumi.Config().require_secret)
        try:
            live = {} if cluster.renders else args.read_live_caps(cluster.kubeconfig, cluster.context, stack.namespace)
        except Exception as error:  # noqa: BLE001  any client failure: one line, before anything is applied
            raise pulumi.RunError(f"{source}: kubernetes: cannot read the quota in force in namespace {stack.namespace} "
                                  f"(the rollout order depends on it): {first_line(error)}") from None
        namespace = HardenedNamespace(name, namespace_args(stack, live), opts=in_cluster)
        services: dict[str, RightSizedService] = {}
        # A service running another's image comes after it: it rolls only once that image's migration ran.
        for service in sorted(stack.services, key=lambda bound: bound.image_owner is not None):
            owner = services.get(service.image_owner or "")
            services[service.name] = RightSizedService(
                service.name,
                service_args(stack, service, rollout_after=[owner.migration] if owner and owner.migration else []),
                opts=pulumi.ResourceOptions(parent=self, providers=[kubernetes], depends_on=namespace.ready),
            )
        namespace.lower_caps(list(services.values()))
        self.services = {service.name: services[service.name] for service in stack.services}
        self.namespace = namespace.name
        declared = namespace.manifests + [m for component in self.services.values() for m in component.manifests]
        # Priced from the objects themselves, so `pulumi preview` shows `cost` change before apply.
        self.cost = price_objects(declared, config.cost.sheet(), cluster_fee_share=config.cost.cluster_fee_share).summary()
        # Built images cost registry storage and pull transfer, known once they are built and measured.
        sizes = {service: image.size_bytes for service, image in self.images.items()}
        self.image_cost = pulumi.Output.from_input(sizes).apply(lambda measured: price_objects([], config.cost.sheet(), [
            ImageUsage(name, size, config.cost.image_pulls_per_month, name) for name, size in sorted(measured.items())
        ]).summary())
        self.register_outputs({
            "namespace": self.namespace,
            "images": {service: component.image for service, component in self.services.items()},
            "cost": self.cost,
            "image_cost": self.image_cost,
        })
