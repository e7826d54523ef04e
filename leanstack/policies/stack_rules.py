"""Guardrails that need the whole stack: a rule about one object that another object satisfies.

`namespace_default_deny` is the one so far: a namespace is only safe if some NetworkPolicy in it
denies all traffic that no other policy admits. Network policies are additive, so "default deny"
means a policy that selects every pod (empty podSelector) and lists a direction in policyTypes
without admitting anything in it; ingress and egress may come from one policy or two.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Callable, Iterable

from leanstack.kube.manifest import POD_SPEC_PATHS, dig, items, kind_of, mapping

DIRECTIONS = ("Ingress", "Egress")


def _policy_types(spec: Mapping) -> list[str]:
    """policyTypes as the API server defaults it: Ingress, plus Egress when egress rules exist."""
    declared = items(spec.get("policyTypes"))
    if declared:
        return declared
    return ["Ingress", "Egress"] if spec.get("egress") else ["Ingress"]


def _selects_every_pod(selector) -> bool:
    return not selector or (not dig(selector, "matchLabels") and not dig(selector, "matchExpressions"))


def denied_directions(props: Mapping) -> set[str]:
    """The directions one NetworkPolicy closes for every pod of its namespace."""
    spec = mapping(props.get("spec"))
    if not _selects_every_pod(spec.get("podSelector")):
        return set()
    return {direction for direction in _policy_types(spec) if direction in DIRECTIONS and not items(spec.get(direction.lower()))}


def namespace_default_deny(resources: Iterable[tuple[str, Mapping]]) -> list[tuple[str, str]]:
    """(namespace, message) for every namespace of the stack without default-deny ingress and egress.

    The stack's namespaces are the Namespaces it declares and the namespaces its workloads run in
    (a workload in a namespace made elsewhere needs the guard just as much).
    """
    namespaces: set[str] = set()
    denied: dict[str, set[str]] = {}
    for resource_type, props in resources:
        kind = kind_of(resource_type)
        if kind == "Namespace":
            namespaces.add(dig(props, "metadata", "name"))
        elif kind in POD_SPEC_PATHS:
            namespaces.add(dig(props, "metadata", "namespace") or "default")
        elif kind == "NetworkPolicy":
            namespace = dig(props, "metadata", "namespace") or "default"
            denied.setdefault(namespace, set()).update(denied_directions(props))
    problems = []
    for namespace in sorted(name for name in namespaces if name):
        missing = [direction for direction in DIRECTIONS if direction not in denied.get(namespace, set())]
        if missing:
            problems.append((namespace, (
                f"Namespace {namespace}: no NetworkPolicy denies all {' and '.join(m.lower() for m in missing)} traffic; "
                f"add one with podSelector: {{}}, policyTypes: [Ingress, Egress] and no rules"
            )))
    return problems


@dataclass(frozen=True)
class StackRule:
    """A rule over every object of the stack: (namespace, message) per problem. The pack, the
    scanners and the security report name and describe it from here."""

    name: str
    description: str
    check: Callable[[Iterable[tuple[str, Mapping]]], list[tuple[str, str]]]


DEFAULT_DENY = StackRule(
    "namespace-default-deny",
    "Every namespace of the stack has a NetworkPolicy denying all ingress and egress by default.",
    namespace_default_deny,
)
