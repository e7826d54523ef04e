"""The guardrails as pure functions: (resource type, properties, settings) -> violation messages.

Each rule reads one Kubernetes object as the policy engine hands it over (see leanstack.kube.manifest) and
returns one message per problem, naming the object and the field that fixes it; an empty list
means compliant, and objects a rule does not govern always pass. policies.pack turns every entry
of RULES into a mandatory CrossGuard policy; the unit tests call the functions directly.

Container rules cover init containers too: they run in the same pod with the same privileges.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Callable, Optional

from leanstack.config.fields import SHA256_DIGEST
from leanstack.kube import labels
from leanstack.kube.manifest import LONG_RUNNING, containers, describe, dig, items, kind_of, mapping, pod_spec
from leanstack.kube.quantities import QuantityError, parse_quantity
from leanstack.policies.settings import Settings

DEFAULTS = Settings()
DIGEST = re.compile(rf"@{SHA256_DIGEST}$")
# Restricted Pod Security admits this one added capability; everything else stays dropped.
ALLOWED_ADDED_CAPABILITIES = {"NET_BIND_SERVICE"}

Check = Callable[[str, Mapping, Settings], list[str]]


def _each_container(resource_type: str, props: Mapping, include_init: bool = True):
    pod, path = pod_spec(resource_type, props)
    if pod is None:
        return
    for name, container, where in containers(pod, path, include_init):
        yield pod, path, name, container, where


def container_resources(resource_type: str, props: Mapping, settings: Settings = DEFAULTS) -> list[str]:
    """cpu and memory requests and limits on every container, each limit >= its request."""
    who, problems = describe(resource_type, props), []
    for _, _, name, container, where in _each_container(resource_type, props):
        resources = mapping(container.get("resources"))
        for kind in ("requests", "limits"):
            for resource in ("cpu", "memory"):
                if dig(resources, kind, resource) in (None, ""):
                    problems.append(f"{who}: container {name} has no {resource} {kind[:-1]}; set {where}.resources.{kind}.{resource}")
        requests, limits = mapping(resources.get("requests")), mapping(resources.get("limits"))
        for resource in sorted(set(requests) & set(limits)):
            try:
                too_low = parse_quantity(limits[resource]) < parse_quantity(requests[resource])
            except QuantityError as exc:
                problems.append(f"{who}: container {name} {resource}: {exc}")
                continue
            if too_low:
                problems.append(
                    f"{who}: container {name} limits.{resource} {limits[resource]} is below requests.{resource} "
                    f"{requests[resource]}; raise {where}.resources.limits.{resource} to at least the request"
                )
    return problems


def effective(container: Mapping, pod: Mapping, *field: str):
    """A security setting as the kubelet applies it: the container's own value wins over the pod's."""
    own = dig(container, "securityContext", *field)
    return own if own is not None else dig(pod, "securityContext", *field)


# Per-container predicates (pod spec, container) -> compliant?: the rules below and the security
# report (leanstack.scan.report) both use these, so the two can never disagree.
def runs_as_non_root(pod: Mapping, container: Mapping) -> bool:
    return effective(container, pod, "runAsNonRoot") is True


def uid_is_not_zero(pod: Mapping, container: Mapping) -> bool:
    return effective(container, pod, "runAsUser") != 0


def uses_runtime_default_seccomp(pod: Mapping, container: Mapping) -> bool:
    return effective(container, pod, "seccompProfile", "type") == "RuntimeDefault"


def blocks_privilege_escalation(pod: Mapping, container: Mapping) -> bool:
    return dig(container, "securityContext", "allowPrivilegeEscalation") is False


def is_unprivileged(pod: Mapping, container: Mapping) -> bool:
    return dig(container, "securityContext", "privileged") is not True


def drops_all_capabilities(pod: Mapping, container: Mapping) -> bool:
    return "ALL" in items(dig(container, "securityContext", "capabilities", "drop"))


def added_capabilities(container: Mapping) -> list[str]:
    """Capabilities a container adds beyond the one restricted Pod Security admits."""
    return sorted(set(items(dig(container, "securityContext", "capabilities", "add"))) - ALLOWED_ADDED_CAPABILITIES)


def adds_only_allowed_capabilities(pod: Mapping, container: Mapping) -> bool:
    return not added_capabilities(container)


def has_read_only_root(pod: Mapping, container: Mapping) -> bool:
    return dig(container, "securityContext", "readOnlyRootFilesystem") is True


def run_as_non_root(resource_type: str, props: Mapping, settings: Settings = DEFAULTS) -> list[str]:
    who, problems = describe(resource_type, props), []
    for pod, path, name, container, where in _each_container(resource_type, props):
        if not runs_as_non_root(pod, container):
            problems.append(f"{who}: container {name} may run as root; set {path}.securityContext.runAsNonRoot: true "
                            f"(or {where}.securityContext.runAsNonRoot: true)")
        if not uid_is_not_zero(pod, container):
            problems.append(f"{who}: container {name} runs as UID 0; set a non-zero {where}.securityContext.runAsUser")
    return problems


def no_privilege_escalation(resource_type: str, props: Mapping, settings: Settings = DEFAULTS) -> list[str]:
    who, problems = describe(resource_type, props), []
    for pod, _, name, container, where in _each_container(resource_type, props):
        if not blocks_privilege_escalation(pod, container):
            problems.append(f"{who}: container {name} may gain privileges; set {where}.securityContext.allowPrivilegeEscalation: false")
        if not is_unprivileged(pod, container):
            problems.append(f"{who}: container {name} is privileged; remove {where}.securityContext.privileged or set it to false")
    return problems


def read_only_root_filesystem(resource_type: str, props: Mapping, settings: Settings = DEFAULTS) -> list[str]:
    who = describe(resource_type, props)
    return [
        f"{who}: container {name} can write its root filesystem; set {where}.securityContext.readOnlyRootFilesystem: true "
        f"and mount an emptyDir where it must write"
        for pod, _, name, container, where in _each_container(resource_type, props)
        if not has_read_only_root(pod, container)
    ]


def drop_all_capabilities(resource_type: str, props: Mapping, settings: Settings = DEFAULTS) -> list[str]:
    who, problems = describe(resource_type, props), []
    for pod, _, name, container, where in _each_container(resource_type, props):
        if not drops_all_capabilities(pod, container):
            problems.append(f"{who}: container {name} keeps Linux capabilities; set {where}.securityContext.capabilities.drop: [ALL]")
        added = added_capabilities(container)
        if added:
            problems.append(f"{who}: container {name} adds capabilities {', '.join(added)}; remove them from "
                            f"{where}.securityContext.capabilities.add (only NET_BIND_SERVICE is allowed)")
    return problems


def seccomp_runtime_default(resource_type: str, props: Mapping, settings: Settings = DEFAULTS) -> list[str]:
    who = describe(resource_type, props)
    return [
        f"{who}: container {name} runs without the RuntimeDefault seccomp profile; set "
        f"{path}.securityContext.seccompProfile.type: RuntimeDefault (or on the container)"
        for pod, path, name, container, _ in _each_container(resource_type, props)
        if not uses_runtime_default_seccomp(pod, container)
    ]


def container_probes(resource_type: str, props: Mapping, settings: Settings = DEFAULTS) -> list[str]:
    """Startup, readiness and liveness probes on the containers of long-running workloads."""
    if kind_of(resource_type) not in LONG_RUNNING:
        return []
    who = describe(resource_type, props)
    return [
        f"{who}: container {name} has no {probe}; set {where}.{probe}"
        for _, _, name, container, where in _each_container(resource_type, props, include_init=False)
        for probe in ("startupProbe", "readinessProbe", "livenessProbe")
        if not container.get(probe)
    ]


def _tag(image: str) -> Optional[str]:
    """The tag of an image reference; a ':' before the last '/' is a registry port, not a tag."""
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    return last.rsplit(":", 1)[1] if ":" in last else None


def image_pinning(resource_type: str, props: Mapping, settings: Settings = DEFAULTS) -> list[str]:
    """Never `:latest` (named or implied); in prod, pinned by digest."""
    who, problems = describe(resource_type, props), []
    environment = settings.environment_of(dig(props, "metadata", "labels"))
    for _, _, name, container, where in _each_container(resource_type, props):
        image = container.get("image")
        if not isinstance(image, str) or not image:
            problems.append(f"{who}: container {name} names no image; set {where}.image to repository@sha256:<digest>")
            continue
        pinned, tag = DIGEST.search(image) is not None, _tag(image)
        if tag == "latest" or (tag is None and not pinned):
            problems.append(f"{who}: container {name} image {image} uses latest (named or implied); "
                            f"pin {where}.image by digest (repository@sha256:<digest>)")
        elif environment == "prod" and not pinned:
            problems.append(f"{who}: container {name} image {image} is not pinned by digest, required in prod; "
                            f"set {where}.image to repository[:tag]@sha256:<digest>")
    return problems


def autoscaler_replicas(resource_type: str, props: Mapping, settings: Settings = DEFAULTS) -> list[str]:
    """HPA minReplicas <= maxReplicas everywhere; minReplicas >= 2 in prod (a single pod is an outage per rollout)."""
    if kind_of(resource_type) != "HorizontalPodAutoscaler":
        return []
    who = describe(resource_type, props)
    low, high = dig(props, "spec", "minReplicas"), dig(props, "spec", "maxReplicas")
    low = 1 if low is None else low  # the API's default
    if not isinstance(high, (int, float)) or not isinstance(low, (int, float)):
        return [f"{who}: spec.minReplicas/maxReplicas must both be numbers; set spec.maxReplicas to the most pods it may run"]
    problems = []
    if low > high:
        problems.append(f"{who}: spec.minReplicas {low:g} > spec.maxReplicas {high:g}; lower minReplicas or raise maxReplicas")
    if settings.environment_of(dig(props, "metadata", "labels")) == "prod" and low < 2:
        problems.append(f"{who}: spec.minReplicas {low:g} in prod; set it to at least 2 so a rollout or a node drain keeps a pod serving")
    return problems


def _claim_problems(who: str, claim: Mapping, where: str, cap: str) -> list[str]:
    size = dig(claim, "spec", "resources", "requests", "storage")
    if size in (None, ""):
        return [f"{who}: {where} requests no storage size; set {where}.spec.resources.requests.storage (at most {cap})"]
    try:
        too_big = parse_quantity(size) > parse_quantity(cap)
    except QuantityError as exc:
        return [f"{who}: {where}.spec.resources.requests.storage: {exc}"]
    if too_big:
        return [f"{who}: {where} requests {size} of storage, above this stack's cap of {cap}; "
                f"shrink {where}.spec.resources.requests.storage or raise maxClaimSize in the stack's policy config"]
    return []


def volume_claim_cap(resource_type: str, props: Mapping, settings: Settings = DEFAULTS) -> list[str]:
    """PersistentVolumeClaims (and StatefulSet claim templates) stay under the stack's cap."""
    kind, who = kind_of(resource_type), describe(resource_type, props)
    if kind == "PersistentVolumeClaim":
        return _claim_problems(who, props, "the claim", settings.max_claim)
    if kind == "StatefulSet":
        return [
            problem
            for index, template in enumerate(items(dig(props, "spec", "volumeClaimTemplates")))
            for problem in _claim_problems(who, template, f"spec.volumeClaimTemplates[{index}]", settings.max_claim)
        ]
    return []


def namespace_pod_security(resource_type: str, props: Mapping, settings: Settings = DEFAULTS) -> list[str]:
    """Namespaces enforce, audit and warn at the Pod Security `restricted` level."""
    if kind_of(resource_type) != "Namespace":
        return []
    who, own = describe(resource_type, props), dig(props, "metadata", "labels") or {}
    return [
        f"{who}: label {labels.pod_security(mode)} is {own.get(labels.pod_security(mode))!r}; "
        f"set metadata.labels.{labels.pod_security(mode)}: restricted"
        for mode in labels.POD_SECURITY_MODES
        if own.get(labels.pod_security(mode)) != "restricted"
    ]


def public_exposure_only(resource_type: str, props: Mapping, settings: Settings = DEFAULTS) -> list[str]:
    """LoadBalancer and NodePort Services only for services the program declared public.

    The program marks a Service with the annotation leanstack.dev/exposure: public exactly when the
    stack config says `exposure: public`; anything else reachable from outside the cluster is a mistake.
    """
    if kind_of(resource_type) != "Service":
        return []
    kind = dig(props, "spec", "type") or "ClusterIP"
    if kind not in ("LoadBalancer", "NodePort"):
        return []
    if dig(props, "metadata", "annotations", labels.EXPOSURE) == "public":
        return []
    return [f"{describe(resource_type, props)}: spec.type {kind} exposes a service not declared public; use ClusterIP, "
            f"or declare it public (exposure: public in the stack config sets annotation {labels.EXPOSURE}: public)"]


@dataclass(frozen=True)
class Rule:
    name: str
    description: str
    check: Check
    # Policy config keys the rule reads (see policies.settings); the pack publishes their schemas.
    config: tuple[str, ...] = ()


RULES = [
    Rule("container-resources", "Every container requests and limits cpu and memory, limits >= requests.", container_resources),
    Rule("run-as-non-root", "Containers run as a non-root user (runAsNonRoot, no UID 0).", run_as_non_root),
    Rule("no-privilege-escalation", "Containers set allowPrivilegeEscalation: false and are not privileged.", no_privilege_escalation),
    Rule("read-only-root-filesystem", "Containers run on a read-only root filesystem.", read_only_root_filesystem),
    Rule("drop-all-capabilities", "Containers drop ALL Linux capabilities.", drop_all_capabilities),
    Rule("seccomp-runtime-default", "Pods or containers use the RuntimeDefault seccomp profile.", seccomp_runtime_default),
    Rule("container-probes", "Long-running containers have startup, readiness and liveness probes.", container_probes),
    Rule("image-pinning", "Images are never :latest, and pinned by digest in prod.", image_pinning, ("environment",)),
    Rule("autoscaler-replicas", "HPA minReplicas <= maxReplicas, and >= 2 in prod.", autoscaler_replicas, ("environment",)),
    Rule("volume-claim-cap", "PersistentVolumeClaims request at most the stack's storage cap.", volume_claim_cap, ("maxClaimSize",)),
    Rule("namespace-pod-security", "Namespaces enforce, audit and warn at Pod Security level restricted.", namespace_pod_security),
    Rule("public-exposure-only", "LoadBalancer/NodePort Services only for services declared public.", public_exposure_only),
]
