"""Every label and annotation key leanstack writes or reads, in one place.

The renderers write them; the policies, the cost model and the right-sizer read them.
"""

NAME = "app.kubernetes.io/name"
COMPONENT = "app.kubernetes.io/component"
MANAGED_BY = "app.kubernetes.io/managed-by"
MANAGER = "leanstack"
ENVIRONMENT = "leanstack.dev/environment"
# Its values: the environments a stack can be, loosest to strictest (the policies read the order).
ENVIRONMENTS = ("dev", "staging", "prod")
# Set on a Service exactly when the stack declares it public; the public-exposure-only policy reads it.
EXPOSURE = "leanstack.dev/exposure"
# Set by the API server on every namespace; network policies select namespaces by it.
NAMESPACE_NAME = "kubernetes.io/metadata.name"
POD_SECURITY_PREFIX = "pod-security.kubernetes.io/"
POD_SECURITY_MODES = ("enforce", "audit", "warn")
# Read by the Pulumi Kubernetes provider: skip awaiting an object's readiness, or await it this long.
SKIP_AWAIT = "pulumi.com/skipAwait"
AWAIT_TIMEOUT = "pulumi.com/timeoutSeconds"
# Read by the provider: server-side apply overrides fields another manager (kubectl) changed.
PATCH_FORCE = "pulumi.com/patchForce"
# Read by the provider: a Job left failed by the last `up` is replaced (run again) by the next one.
REPLACE_UNREADY = "pulumi.com/replaceUnready"
# On a CronJob: how long one run takes, which the cost estimate multiplies by runs per month.
EXPECTED_RUN_SECONDS = "leanstack.dev/expected-run-seconds"
# On every pod of a service, its Jobs' included; network policies select by it. Services, PDBs and
# HPAs select by NAME, which only the serving pods carry, so a Job pod never receives traffic.
SERVICE = "leanstack.dev/service"
DNS_APP = "k8s-app"
DNS_APP_VALUE = "kube-dns"


def pod_security(mode: str, suffix: str = "") -> str:
    """`pod-security.kubernetes.io/enforce`, or with suffix "-version" the version pin of that mode."""
    return f"{POD_SECURITY_PREFIX}{mode}{suffix}"
