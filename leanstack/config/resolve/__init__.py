"""Resolve: a validated StackConfig -> frozen, fully bound inputs of the renderers and components.

The stack file names things by reference: a peer by its service name, a file by its source, a
secret by its config key, an image by the service that builds it. `resolve` binds every reference
once (a peer's port, a file's content, a secret's value, an image), so what comes out is complete
by construction: nothing downstream looks a name up, re-checks a table or speaks of key paths
(every stack-file wording stays in config, raised before any resource exists).

The classes are plain frozen dataclasses, one documented field each with its default, so a program
of your own (or Pulumi's component provider host, which infers a schema from them) can build them
without a stack file: no unions but `X | None`, no callables, and a field with a default is annotated
`NotRequired[X]`, the one marker besides `X | None` that the host reads as "may be left out" (its
schema would otherwise require it; leanstack.config.resolve.plain strips it again). Values known only at deploy time (an
image digest, a secret read with `pulumi.Config().require_secret`) are typed `Any`: config and
render stay free of Pulumi.
"""

from typing import Any, Callable, Mapping

from leanstack.config import image_rules, schema
from leanstack.config.fields import WRITABLE_PATH_SIZE  # noqa: F401  what the renderers mount, re-exported
from leanstack.config.files import SECRET_FILES_DIR  # noqa: F401
from leanstack.config.resolve.parts import (  # noqa: F401  the bound inputs, importable from here
    Amounts, Autoscaling, Cache, ConfigFile, Peer, PodsMetric, Resources, SecretEnv, SecretFile, Security, Storage, amounts,
    resources)
from leanstack.config.resolve.probes import ExecProbe, HttpProbe, Probe, Probes, TcpProbe, probe, probes  # noqa: F401
from leanstack.config.resolve.stack import (  # noqa: F401
    ContainerDefaults, ImageBuild, ImageRules, Ingress, Placement, Service, Stack, Toleration)
from leanstack.config.resolve.workload import ExtraContainer, Migration, Schedule, Workload  # noqa: F401


def _task_fields(task: schema.Migration | schema.Schedule, main: schema.Resources) -> dict[str, Any]:
    values = {key: getattr(task, key) for key in type(task).model_fields if key != "resources"}
    return {**values, "resources": resources(task.resources or main)}


def bind_workload(spec: schema.WorkloadSpec, peer_ports: Mapping[str, int], images: Mapping[str, Any],
                  files: Mapping[str, str], secret: Callable[[str], Any]) -> Workload:
    """Bind one workload: `peer_ports` of its depends_on, `images` of the services its containers
    take an image `from`, the content of its config files, `secret(key)` the value of a secret key."""

    def extra(container: schema.ExtraContainer) -> ExtraContainer:
        source = container.image
        image = None if source is None else (source.ref if source.ref is not None else images[source.from_])
        return ExtraContainer(container.name, resources(container.resources), image, container.command,
                              container.args, container.inherit_main)

    autoscaling = spec.autoscaling
    return Workload(
        resources=resources(spec.resources),
        probes=probes(spec.probes, spec.probe_port),
        role=spec.role,
        kind=spec.workload,
        port=spec.port,
        command=spec.command,
        args=spec.args,
        replicas=spec.replicas,
        autoscaling=None if autoscaling is None else Autoscaling(
            autoscaling.min_replicas, autoscaling.max_replicas, autoscaling.cpu_utilization,
            autoscaling.memory_utilization,
            autoscaling.pods_metric and PodsMetric(autoscaling.pods_metric.name, autoscaling.pods_metric.average_value),
            autoscaling.scale_down_stabilization_seconds),
        storage=spec.storage and Storage(spec.storage.size, spec.storage.mount_path, spec.storage.storage_class),
        cache=spec.cache and Cache(spec.cache.mount_path, spec.cache.size_limit, spec.cache.medium),
        exposure=spec.exposure,
        host=spec.host,
        load_balancer=spec.load_balancer,
        allow_from=tuple(spec.allow_from),
        peers=tuple(Peer(name, peer_ports[name]) for name in spec.depends_on),
        egress_cidrs=tuple(spec.egress_cidrs),
        env=dict(spec.env),
        secret_env=tuple(SecretEnv(env, secret(key)) for env, key in spec.secret_env.items()),
        config_files=tuple(ConfigFile(name, file.mount_path, files[name]) for name, file in spec.config_files.items()),
        secret_files=tuple(SecretFile(name, secret(key)) for name, key in spec.secret_files.items()),
        security=Security(spec.security.run_as_user, spec.security.run_as_group, spec.security.fs_group,
                          tuple(spec.writable_paths)),
        sidecars=tuple(extra(container) for container in spec.sidecars),
        init_containers=tuple(extra(container) for container in spec.init_containers),
        migrate=spec.migrate and Migration(**_task_fields(spec.migrate, spec.resources)),
        schedules=tuple(Schedule(name=name, **_task_fields(schedule, spec.resources))
                        for name, schedule in spec.schedules.items()),
        disruption_min_available=spec.disruption_min_available,
    )


def bind_rules(rules: image_rules.ImageRules) -> ImageRules:
    """The dive rules of a build, as `image.build.rules` states them (a disabled rule is None)."""
    return ImageRules(rules.lowest_efficiency, rules.highest_wasted_bytes, rules.highest_user_wasted_percent)


def builds(config: schema.StackConfig, secrets: Mapping[str, Mapping[str, str]]) -> dict[str, ImageBuild]:
    """The image build of each service with image.build; `secrets` holds the content of its build
    secret files (config.files.read_build_secrets)."""
    found = {}
    for name, spec in config.services.items():
        build = spec.image.build
        if build is not None:
            found[name] = ImageBuild(
                context=build.context, dockerfile=build.dockerfile, target=build.target, args=dict(build.args),
                platform=build.platform, size_budget=build.size_budget,
                budget_setting=f"services.{name}.image.build.size_budget", cache_from_registry=build.cache_from_registry,
                build_on_preview=build.build_on_preview, secrets=dict(secrets.get(name, {})),
                rules=bind_rules(build.rules),
                rules_setting=f"services.{name}.image.build.rules")
    return found


def resolve(config: schema.StackConfig, built: Mapping[str, Any], files: Mapping[str, Mapping[str, str]],
            secret: Callable[[str], Any]) -> Stack:
    """Bind a validated stack: `built` holds the image of every service with image.build, `files`
    the content of every service's config files (config.files.read_config_files), `secret(key)`
    the value of a secret config key. Nothing here can fail: validation already checked every reference."""
    services = config.services
    images = {name: spec.image.ref if spec.image.ref is not None else built[config.built_image_of(name)]
              for name, spec in services.items()}
    ports = {name: spec.port for name, spec in services.items() if spec.port is not None}
    return Stack(
        namespace=config.namespace,
        labels=dict(config.labels),
        environment=config.environment,
        limit_range=ContainerDefaults(amounts(config.limit_range.default_request), amounts(config.limit_range.default_limit)),
        ingress=Ingress(config.ingress_namespace, config.ingress_class, config.ingress_publishes_status),
        await_timeout_seconds=config.kubernetes.await_timeout_seconds,
        placement=Placement(dict(config.kubernetes.node_selector),
                            tuple(Toleration(t.key, t.operator, t.value, t.effect) for t in config.kubernetes.tolerations)),
        services=tuple(Service(name, bind_workload(spec, ports, images, files.get(name, {}), secret), images[name],
                               spec.image.from_) for name, spec in services.items()),
    )
