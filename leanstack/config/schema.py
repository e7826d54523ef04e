"""The stack config schema: the single source of truth for what a stack may say.

Every `leanstack:<key>` in `Pulumi.<stack>.yaml` is one top-level field of `StackConfig`. Models
forbid unknown keys and are frozen. Sizes are Kubernetes quantities, kept as the user wrote them
(so manifests show "384Mi", not bytes) and checked by `leanstack.kube.quantities`. Cross-field rules
(limits >= requests, min <= max replicas, references between services) fail here, before a single
resource is registered; `config.stack_file` turns the failures into one message per problem.

Secure defaults live next to each field; loosening them takes a named key.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal, Optional

from pydantic import Field, model_validator

from leanstack.config.errors import Problem, Problems
from leanstack.config.fields import (  # noqa: F401  re-exported: callers import the schema alone
    CONFIG_KEY, DIGEST_REF, DNS_LABEL, ENV_NAME, TMP, WRITABLE_PATH_SIZE, AbsolutePath, Autoscaling, Cache, DnsLabel,
    EnvName, HttpPath, ImageBuild, ImageSpec, Limits, PodsMetric, Port, ProbeKind, Probes, Quantity, Requests,
    ResourceAmounts, Resources, SecurityOverrides, ServiceName, Storage, Strict)
from leanstack.config.processes import ExtraContainer, Migration, Schedule  # noqa: F401
from leanstack.config.workload import ServiceSpec, WorkloadSpec  # noqa: F401
from leanstack.config.price_sheets import DEFAULT_SHEET, SHEETS, PriceSheet
from leanstack.kube import labels as label_keys
from leanstack.kube import names


class Registry(Strict):
    """Where built images are pushed; the local registry on loopback by default."""

    server: str = Field("127.0.0.1:5000", min_length=1, description="Registry host[:port].")
    prefix: str = Field("leanstack", pattern=r"^[a-z0-9]+([._/-][a-z0-9]+)*$", description="Repository path before the service name.")


class Toleration(Strict):
    """A node taint the stack's pods tolerate (Kubernetes' own toleration fields)."""

    key: str = Field(..., min_length=1, max_length=317, description="The taint's key, e.g. kwok.x-k8s.io/node.")
    operator: Literal["Equal", "Exists"] = Field("Equal", description="Equal matches `value`; Exists any value.")
    value: Optional[str] = Field(None, max_length=63, description="The taint's value (with operator Equal).")
    effect: Optional[Literal["NoSchedule", "PreferNoSchedule", "NoExecute"]] = Field(
        None, description="The taint effect tolerated; every effect when absent.")

    @model_validator(mode="after")
    def _value_only_when_equal(self) -> "Toleration":
        if self.operator == "Exists" and self.value is not None:
            raise ValueError("operator Exists takes no value")
        return self


class Kubernetes(Strict):
    """Deploy to a cluster (kubeconfig/context) or, with neither, render manifests to a directory."""

    kubeconfig: Optional[str] = Field(None, description="Path or content of a kubeconfig to deploy with.")
    context: Optional[str] = Field(None, description="Kubeconfig context to deploy to.")
    render_dir: Optional[str] = Field(None, description="Default rendered/<stack> when no cluster is named.")
    await_timeout_seconds: Optional[int] = Field(
        None, ge=10, le=3600, description="How long `up` waits for a workload to become ready before it fails "
                                          "naming it (the provider's default: 600).")
    node_selector: dict[str, str] = Field(
        default_factory=dict, description="Node labels every pod of the stack requires (its nodeSelector), e.g. a node pool.")
    tolerations: list[Toleration] = Field(
        default_factory=list, description="Node taints every pod of the stack tolerates; none by default, so no pod "
                                          "lands on a tainted node (the local cluster's kwok nodes are tainted).")

    @model_validator(mode="after")
    def _cluster_or_render(self) -> "Kubernetes":
        if self.render_dir and (self.kubeconfig or self.context):
            raise ValueError("render_dir cannot be combined with kubeconfig or context")
        return self

    @property
    def renders(self) -> bool:
        return not (self.kubeconfig or self.context)


class LimitRangeDefaults(Strict):
    """Defaults for containers that state nothing (e.g. injected sidecars); each is capped at the
    largest limit the stack's own containers set (the LimitRange's max)."""

    default_request: Requests = Requests(cpu="50m", memory="64Mi", ephemeral_storage="64Mi")
    default_limit: Limits = Limits(cpu="250m", memory="256Mi", ephemeral_storage="256Mi")


class CostSettings(Strict):
    """How previews price the stack: a shipped price sheet by name, or `custom` with custom_sheet."""

    price_sheet: str = Field(DEFAULT_SHEET, description="A shipped sheet name, or custom.")
    custom_sheet: Optional[PriceSheet] = Field(None, description="Your own unit prices (with price_sheet: custom).")
    image_pulls_per_month: int = Field(0, ge=0, description="Pulls of each built image, for transfer cost.")
    cluster_fee_share: Decimal = Field(
        Decimal(0), ge=0, le=1,
        description="Share of the sheet's per-cluster fee (GKE/EKS $0.10/h) charged to this stack; 0 hides the line.")
    strict: bool = Field(False, description="Platform warnings that change what is billed (Fargate requests != limits) stop the preview.")

    @model_validator(mode="after")
    def _known_sheet(self) -> "CostSettings":
        if self.price_sheet == "custom":
            if self.custom_sheet is None:
                raise ValueError("price_sheet custom needs custom_sheet with your unit prices")
        elif self.price_sheet not in SHEETS:
            raise ValueError(
                f"unknown price sheet {self.price_sheet!r}; use one of {', '.join(sorted(SHEETS))}, "
                "or custom with custom_sheet"
            )
        elif self.custom_sheet is not None:
            raise ValueError("custom_sheet is only used with price_sheet: custom")
        return self

    def sheet(self) -> PriceSheet:
        return self.custom_sheet if self.custom_sheet is not None else SHEETS[self.price_sheet]


Environment = Literal[label_keys.ENVIRONMENTS]
# A CronJob's Jobs are named <cronjob>-<11 characters>, within a label value's 63.
CRONJOB_NAME_MAX = 52


class StackConfig(Strict):
    """One stack (environment): its namespace, where images go, where manifests go, and its services."""

    environment: Environment = Field(description="Prod adds topology spread.")
    namespace: DnsLabel = Field(description="Namespace holding every object of the stack.")
    labels: dict[str, str] = Field(default_factory=dict, description="Added to every object.")
    registry: Registry = Field(default_factory=Registry)
    image_builder: Optional[str] = Field(
        None, min_length=1,
        description="buildx builder for image builds (docker-container, remote or kubernetes driver); "
                    "scripts/buildkit.sh registers `leanstack`. None: the provider starts its own.",
    )
    kubernetes: Kubernetes = Field(default_factory=Kubernetes)
    ingress_namespace: DnsLabel = Field("ingress-nginx", description="Namespace of the ingress controller.")
    ingress_class: str = Field("nginx", min_length=1, description="IngressClass of public services' Ingresses.")
    ingress_publishes_status: bool = Field(
        False, description="The ingress controller writes an address to .status.loadBalancer, so `up` may await "
                           "each Ingress; without one that does, awaiting never ends.")
    limit_range: LimitRangeDefaults = Field(default_factory=LimitRangeDefaults)
    cost: CostSettings = Field(default_factory=CostSettings, description="Price sheet for the `cost` output and previews.")
    services: dict[ServiceName, ServiceSpec] = Field(min_length=1, description="The workloads, by name (a DNS label, at most 40 long).")

    @model_validator(mode="after")
    def _references(self) -> "StackConfig":
        problems = []
        for name, service in self.services.items():
            for field in ("allow_from", "depends_on"):
                path = f"services.{name}.{field}"
                for ref in getattr(service, field):
                    if ref == name:
                        problems.append(Problem(path, "a service cannot name itself"))
                    elif ref not in self.services:
                        problems.append(Problem(path, f"unknown service {ref!r}; declared services: {', '.join(sorted(self.services))}"))
            for dependency in service.depends_on:
                target = self.services.get(dependency)
                path = f"services.{name}.depends_on"
                if target is not None and name not in target.allow_from:
                    problems.append(Problem(path, f"{dependency} does not admit {name}; add {name} to services.{dependency}.allow_from"))
                if target is not None and target.port is None:
                    problems.append(Problem(path, f"{dependency} has no port to connect to"))
            for caller in service.allow_from:
                if caller in self.services and service.port is None:
                    problems.append(Problem(f"services.{name}.allow_from", f"{name} has no port, so no one can call it"))
            problems.extend(self._image_source_problems(f"services.{name}.image.from", name, service.image.from_))
            problems.extend(self._container_problems(name, service))
            for schedule in service.schedules:
                cron_job = names.cron_job(name, schedule)
                if len(cron_job) > CRONJOB_NAME_MAX:
                    problems.append(Problem(f"services.{name}.schedules.{schedule}",
                                            f"the CronJob name {cron_job} is over {CRONJOB_NAME_MAX} characters "
                                            "(its Jobs add 11); use a shorter schedule name"))
        if problems:
            raise Problems(problems)
        return self

    def _image_source_problems(self, path: str, name: str, source: Optional[str]) -> list[Problem]:
        """`from` names a service that builds its image: one build, one digest, any number of users."""
        if source is None:
            return []
        target = self.services.get(source)
        if source == name:
            return [Problem(path, "a service cannot take its image from itself")]
        if target is None:
            return [Problem(path, f"unknown service {source!r}; declared services: {', '.join(sorted(self.services))}")]
        if target.image.build is None:
            return [Problem(path, f"{source} builds no image; name a service with image.build (or repeat its ref)")]
        return []

    def _container_problems(self, name: str, service: ServiceSpec) -> list[Problem]:
        """Sidecars and init containers share every pod of the service: its own, its migration's and
        its schedules', whose main containers are named after the service, `migrate` and the schedule."""
        taken = {name, names.MIGRATION, *service.schedules}
        problems = []
        for field in ("sidecars", "init_containers"):
            for index, container in enumerate(getattr(service, field)):
                path = f"services.{name}.{field}.{index}"
                if container.name in taken:
                    problems.append(Problem(f"{path}.name", f"{container.name!r} is taken by a container of the "
                                                            f"service's pods; use another name"))
                if container.image is not None:
                    problems.extend(self._image_source_problems(f"{path}.image.from", name, container.image.from_))
        return problems

    def built_image_of(self, service: str) -> str:
        """The service whose build runs in `service`'s container: itself, or its image's `from`."""
        return self.services[service].image.from_ or service

    def secret_keys(self) -> set[str]:
        return {key for service in self.services.values()
                for key in (*service.secret_env.values(), *service.secret_files.values())}
