"""The real engine against the live local cluster (scripts/cluster.sh: Kubernetes 1.33 control plane,
kwok fake nodes): apply, read back, Pod Security, quota at peak, drift, storage, faults, server-side
preview. Each test deploys to a namespace of its own (lc-<test>-<hex>) from a scratch copy with a
fresh state backend; images are pinned prebuilt refs (kwok never pulls), so no test waits on a build.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from pulumi import automation as auto

from bench.scratch import KWOK_STORAGE_CLASS, ROOT
from leanstack.costing.delta import op_name
from leanstack.kube.quantities import parse_quantity
from tests.e2e.conftest import Events, make_project
from tests.e2e.live import (OTHER_DIGEST, Cluster, cluster_script, deployments_available, namespace_gone, pin_images,
                            point_at_cluster, unique_namespace, wait_for)

pytestmark = pytest.mark.e2e

STACKS = ["dev", "staging", "prod"]
CHANGES = {"create", "update", "replace", "delete", "create-replacement", "delete-replaced"}


# --- helpers ------------------------------------------------------------------------------------

def declared(project, stack: str) -> dict[str, dict]:
    """What the harness renders for the stack (leanstack render, Pulumi mocks): manifests by Kind/name."""
    out = project.directory / "declared" / stack
    result = subprocess.run([sys.executable, "-m", "leanstack.cli", "render", "--stack", stack, "--out", str(out),
                             "--work-dir", str(project.directory)],
                            capture_output=True, text=True, timeout=300, cwd=ROOT, env={**os.environ, **project.env})
    assert result.returncode == 0, result.stderr
    manifests = {}
    for path in sorted((out / "1-manifest").glob("*.yaml")):
        document = yaml.safe_load(path.read_text())
        manifests[f"{document['kind']}/{document['metadata']['name']}"] = document
    return manifests


def expected_replicas(manifests: dict[str, dict], peak: bool = False) -> dict[str, int]:
    """Deployment -> replicas it should run: its HPA's min (max at peak), else spec.replicas."""
    result = {}
    for key, manifest in manifests.items():
        if key.startswith("Deployment/"):
            name = manifest["metadata"]["name"]
            hpa = manifests.get(f"HorizontalPodAutoscaler/{name}")
            if hpa:
                result[name] = hpa["spec"]["maxReplicas" if peak else "minReplicas"]
            else:
                result[name] = manifest["spec"].get("replicas", 1)
    return result


def changes(events) -> dict[str, list[str]]:
    """Resource type -> the ops that change something (refresh/read/same left out)."""
    result: dict[str, list[str]] = {}
    for step in events.steps:
        op = op_name(step.op)
        if op in CHANGES:
            result.setdefault(step.type, []).append(f"{op}:{step.urn.rsplit('::', 1)[-1]}")
    return result


def preview(project, stack: str, **options):
    events = Events()
    result = project.stack(stack).preview(on_event=events, **options)
    return result, events


def quantities_equal(left: dict, right: dict) -> bool:
    return set(left) == set(right) and all(parse_quantity(left[k]) == parse_quantity(right[k]) for k in left)


def failed_creates(cluster: Cluster, namespace: str) -> list[str]:
    return [f"{e['involvedObject']['name']}: {e.get('message', '')}" for e in cluster.events(namespace)
            if e.get("reason") == "FailedCreate"]


def rolled_out(cluster: Cluster, namespace: str, expected: dict[str, int]):
    """A poll: each Deployment observed its latest spec and runs exactly `expected` updated, available pods."""
    def check() -> bool:
        found = {d["metadata"]["name"]: d for d in cluster.get("deployments", namespace=namespace)}
        for name, replicas in expected.items():
            d = found.get(name)
            if d is None:
                return False
            status = d.get("status", {})
            if (status.get("observedGeneration") != d["metadata"]["generation"]
                    or status.get("updatedReplicas") != replicas or status.get("availableReplicas") != replicas
                    or status.get("replicas") != replicas):
                return False
        return True
    return check


def up_error(call) -> str:
    with pytest.raises(auto.CommandError) as error:
        call()
    return str(error.value)


# --- 1. all three stacks ------------------------------------------------------------------------

@pytest.mark.parametrize("stack", STACKS)
def test_1_stack_applies_and_every_object_reads_back_as_declared(project, cluster, stack):
    namespace = unique_namespace(f"up-{stack}")
    project.edit_config(stack, lambda config: point_at_cluster(config, cluster, namespace))
    manifests = declared(project, stack)
    started = time.monotonic()
    project.up(stack)
    # Ingresses have no controller publishing an address here: had `up` awaited them, it would hang 10 min.
    assert time.monotonic() - started < 240, "pulumi up took too long (awaiting an Ingress?)"
    replicas = expected_replicas(manifests)
    wait_for(deployments_available(cluster, namespace, replicas), 60, f"{replicas} available in {namespace}")

    ns = cluster.get("namespace", namespace)
    labels = ns["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    assert labels["pod-security.kubernetes.io/enforce-version"] == "v1.30"

    quota_keys = [k for k in manifests if k.startswith("ResourceQuota/")]
    assert len(quota_keys) == 11  # one per cap
    for quota_key in quota_keys:
        quota = cluster.get("resourcequota", quota_key.split("/")[1], namespace)
        assert quantities_equal(quota["spec"]["hard"], manifests[quota_key]["spec"]["hard"])
        assert quantities_equal(quota["status"]["hard"], manifests[quota_key]["spec"]["hard"])  # the quota controller saw it

    (range_key,) = [k for k in manifests if k.startswith("LimitRange/")]
    limit_range = cluster.get("limitrange", range_key.split("/")[1], namespace)
    for live, want in zip(limit_range["spec"]["limits"], manifests[range_key]["spec"]["limits"], strict=True):
        assert live["type"] == want["type"] and quantities_equal(live["max"], want["max"])

    for key, want in manifests.items():
        kind, name = key.split("/", 1)
        if kind == "HorizontalPodAutoscaler":
            live = cluster.get("hpa", name, namespace)
            assert (live["spec"]["minReplicas"], live["spec"]["maxReplicas"]) == (want["spec"]["minReplicas"], want["spec"]["maxReplicas"])
            assert live["spec"]["scaleTargetRef"]["name"] == want["spec"]["scaleTargetRef"]["name"]
            assert len(live["spec"]["metrics"]) == len(want["spec"]["metrics"])
        elif kind == "PodDisruptionBudget":
            live = cluster.get("pdb", name, namespace)
            assert {k: v for k, v in live["spec"].items() if k in ("minAvailable", "maxUnavailable")} == \
                   {k: v for k, v in want["spec"].items() if k in ("minAvailable", "maxUnavailable")}
            wait_for(lambda: cluster.get("pdb", name, namespace).get("status", {}).get("expectedPods") == replicas[name],
                     30, f"PDB {name} expecting {replicas[name]} pods")
        elif kind == "NetworkPolicy":
            live = cluster.get("networkpolicy", name, namespace)
            assert live["spec"]["podSelector"] == want["spec"]["podSelector"]
            assert live["spec"]["policyTypes"] == want["spec"]["policyTypes"]
            for direction in ("ingress", "egress"):
                peers = lambda rules: [rule.get("from" if direction == "ingress" else "to") for rule in rules or []]  # noqa: E731
                assert peers(live["spec"].get(direction)) == peers(want["spec"].get(direction)), (name, direction)
                ports = lambda rules: [[p.get("port") for p in rule.get("ports", [])] for rule in rules or []]  # noqa: E731
                assert ports(live["spec"].get(direction)) == ports(want["spec"].get(direction)), (name, direction)
        elif kind == "Ingress":
            live = cluster.get("ingress", name, namespace)
            assert live["spec"]["rules"][0]["host"] == want["spec"]["rules"][0]["host"]
            assert live["spec"]["ingressClassName"] == "nginx"
            assert live["metadata"]["annotations"].get("pulumi.com/skipAwait") == "true"
            assert not live.get("status", {}).get("loadBalancer")  # nothing published an address
        elif kind == "ServiceAccount":
            live = cluster.get("serviceaccount", name, namespace)
            assert live.get("automountServiceAccountToken") == want.get("automountServiceAccountToken")
        elif kind == "PersistentVolumeClaim":
            live = cluster.get("pvc", name, namespace)
            assert live["spec"]["storageClassName"] == want["spec"]["storageClassName"] == KWOK_STORAGE_CLASS
            assert live["spec"]["resources"]["requests"]["storage"] == want["spec"]["resources"]["requests"]["storage"]
            assert live["status"]["phase"] == "Bound"
            assert live["status"]["capacity"]["storage"] == want["spec"]["resources"]["requests"]["storage"]
        elif kind == "Deployment":
            live = cluster.get("deployment", name, namespace)
            (container,) = live["spec"]["template"]["spec"]["containers"]
            (wanted,) = want["spec"]["template"]["spec"]["containers"]
            for bound in ("requests", "limits"):
                assert quantities_equal(container["resources"][bound], wanted["resources"][bound]), (name, bound)
            assert container["securityContext"]["readOnlyRootFilesystem"] is True
    # Every object the harness declares exists (kinds above and the rest: Services, Secrets, ...).
    missing = [key for key in manifests if key.split("/")[0] != "Namespace"
               and cluster.get(key.split("/")[0].lower(), key.split("/")[1], namespace) is None]
    assert not missing
    # No pod refused for quota or Pod Security. (A pod created before its ServiceAccount existed is the
    # ordering bug test_1b names; the ReplicaSet retries, so the stack still converges.)
    assert not [m for m in failed_creates(cluster, namespace) if "serviceaccount" not in m]


def test_1b_no_pod_is_created_before_its_service_account(project, cluster):
    namespace = unique_namespace("order")
    project.edit_config("prod", lambda config: point_at_cluster(config, cluster, namespace))
    project.up("prod")
    assert not failed_creates(cluster, namespace)


# --- 2. Pod Security ----------------------------------------------------------------------------

INVALID_LABEL = '''

# Test-only (tests/e2e/test_live_cluster.py): a label value the API server refuses.
def _invalid_label(args: pulumi.ResourceTransformArgs):
    if args.type_ == "kubernetes:apps/v1:Deployment" and args.props["metadata"]["name"] == "api":
        args.props["metadata"]["labels"] = {**args.props["metadata"]["labels"], "leanstack.test/invalid": "not valid!"}
        return pulumi.ResourceTransformResult(args.props, args.opts)
    return None


pulumi.runtime.register_resource_transform(_invalid_label)
'''

ESCAPE = '''

# Test-only escape hatch (tests/e2e/test_live_cluster.py): no config key can loosen the container
# security context, so a program change makes the api container privileged and root.
def _privileged(args: pulumi.ResourceTransformArgs):
    if args.type_ == "kubernetes:apps/v1:Deployment" and args.props["metadata"]["name"] == "api":
        (container,) = args.props["spec"]["template"]["spec"]["containers"]
        container["securityContext"] = {**container["securityContext"], "privileged": True, "runAsUser": 0,
                                        "runAsNonRoot": False, "allowPrivilegeEscalation": True}
        return pulumi.ResourceTransformResult(args.props, args.opts)
    return None


pulumi.runtime.register_resource_transform(_privileged)
'''


def test_2_pod_security_restricted_is_enforced_by_the_pack_and_by_the_api_server(project, cluster):
    namespace = unique_namespace("psa")
    project.edit_config("dev", lambda config: point_at_cluster(config, cluster, namespace, await_timeout=20))
    main = project.directory / "__main__.py"
    text = main.read_text()
    main.write_text(text.replace("config = config_from_engine()", ESCAPE + "\nconfig = config_from_engine()", 1))

    # With the policy pack: the preview stops, naming the policy and the Deployment.
    with pytest.raises(auto.CommandError) as error:
        project.stack("dev").preview(policy_packs=[str(ROOT / "policies")],
                                     policy_pack_configs=[str(ROOT / "policies" / "config" / "dev.json")])
    text = str(error.value)
    assert "mandatory" in text and "api" in text and ("privileged" in text.lower() or "root" in text.lower()), text[-3000:]
    assert cluster.get("namespace", namespace) is None  # a preview applies nothing

    # Without it: the namespace's admission refuses the pods; `up` fails once the await times out.
    started = time.monotonic()
    message = up_error(lambda: project.up("dev"))
    waited = time.monotonic() - started
    assert "api" in message and waited < 180, message[-3000:]
    labels = cluster.get("namespace", namespace)["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    (replica_set,) = cluster.get("replicasets", namespace=namespace, selector="app.kubernetes.io/name=api")
    failure = [c for c in replica_set["status"].get("conditions", []) if c["type"] == "ReplicaFailure"]
    assert failure and failure[0]["reason"] == "FailedCreate", replica_set["status"]
    assert 'violates PodSecurity "restricted:v1.30"' in failure[0]["message"]
    assert "privileged" in failure[0]["message"] and "runAsUser=0" in failure[0]["message"]
    assert any("violates PodSecurity" in m for m in failed_creates(cluster, namespace))
    assert cluster.get("deployment", "api", namespace)["status"].get("availableReplicas", 0) == 0

    # The same on any Deployment: a server-side dry run of a privileged, root patch is refused for the pod.
    patch = json.dumps({"spec": {"containers": [{"name": "probe", "image": "registry.example/x@sha256:" + "3" * 64,
                                                 "securityContext": {"privileged": True, "runAsUser": 0}}]},
                        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "root", "namespace": namespace}})
    refused = cluster.kubectl("apply", "--dry-run=server", "-f", "-", stdin=patch, check=False)
    assert refused.returncode != 0 and 'violates PodSecurity "restricted:v1.30"' in refused.stderr


# --- 3. quota at peak ---------------------------------------------------------------------------

def per_pod(container: dict) -> dict[str, Decimal]:
    """What one pod of a single-container Deployment counts against a quota."""
    usage = {"pods": Decimal(1)}
    for bound in ("requests", "limits"):
        for resource, value in container["resources"].get(bound, {}).items():
            usage[f"{bound}.{resource}"] = parse_quantity(value)
    return usage


@pytest.fixture(scope="module")
def peak_rollout(cluster, tmp_path_factory):
    """prod with every HPA service pinned at max replicas, then rolled to a new image digest:
    (project, namespace, declared manifests, peak replicas, the quota refusals seen during the rollout)."""
    project = make_project(tmp_path_factory.mktemp("peak"))
    namespace = unique_namespace("quota")

    def at_peak(config: dict) -> None:
        point_at_cluster(config, cluster, namespace, await_timeout=120)
        for service in config["services"].values():
            if service.get("autoscaling"):
                service["autoscaling"]["min_replicas"] = service["autoscaling"]["max_replicas"]

    project.edit_config("prod", at_peak)
    manifests = declared(project, "prod")
    peak = expected_replicas(manifests, peak=True)
    assert sum(peak.values()) > len(peak)  # HPA services run more than one pod
    project.up("prod")
    wait_for(rolled_out(cluster, namespace, peak), 60, f"{peak} at peak")

    # A rolling update of every service at full scale (maxSurge 1, maxUnavailable 0).
    project.edit_config("prod", lambda config: pin_images(config, OTHER_DIGEST))
    started = time.monotonic()
    project.up("prod")
    wait_for(rolled_out(cluster, namespace, peak), 60, f"{peak} rolled out to the new digest")
    print(f"\nrollout at peak: {time.monotonic() - started:.1f} s")
    images = {d["metadata"]["name"]: d["spec"]["template"]["spec"]["containers"][0]["image"]
              for d in cluster.get("deployments", namespace=namespace)}
    assert all(images[name].endswith("2" * 64) for name in peak if peak[name] > 1), images
    refusals = [m for m in failed_creates(cluster, namespace) if "exceeded quota" in m]
    return project, namespace, manifests, peak, refusals


def test_3_a_rollout_at_peak_completes_within_the_quota_and_one_replica_more_is_refused(peak_rollout, cluster):
    project, namespace, manifests, peak, refusals = peak_rollout
    # Every pod of the rollout was admitted in the end: each Deployment runs `peak` pods of the new digest.
    assert rolled_out(cluster, namespace, peak)()
    for event in refusals:
        print("transient refusal during the rollout:", event)

    # One replica beyond what the quota has room for: exactly that one is refused.
    target = next(name for name in peak if f"HorizontalPodAutoscaler/{name}" not in manifests
                  and f"PersistentVolumeClaim/{name}-data" not in manifests)
    deployment = cluster.get("deployment", target, namespace)
    usage = per_pod(deployment["spec"]["template"]["spec"]["containers"][0])
    quotas = cluster.get("resourcequota", namespace=namespace)  # one per cap
    hard = {key: value for quota in quotas for key, value in quota["status"]["hard"].items()}
    used = {key: value for quota in quotas for key, value in quota["status"]["used"].items()}
    room = min(int((parse_quantity(hard[key]) - parse_quantity(used[key])) // amount)
               for key, amount in usage.items() if key in hard and amount > 0)
    fits = peak[target] + room
    cluster.kubectl("scale", "deployment", target, "-n", namespace, f"--replicas={fits + 1}")
    wait_for(lambda: [m for m in failed_creates(cluster, namespace) if m.startswith(target) and "exceeded quota" in m],
             60, f"a FailedCreate 'exceeded quota' for {target}")
    wait_for(lambda: cluster.get("deployment", target, namespace)["status"].get("availableReplicas") == fits,
             60, f"{fits} available {target} pods")
    time.sleep(2)  # the ReplicaSet keeps retrying; still no more than fit
    assert cluster.get("deployment", target, namespace)["status"].get("replicas") == fits
    message = next(m for m in failed_creates(cluster, namespace) if m.startswith(target) and "exceeded quota" in m)
    assert "forbidden: exceeded quota: quota-" in message, message


# --- 4. drift -----------------------------------------------------------------------------------

def test_4_drift_made_with_kubectl_shows_in_a_refreshing_preview_and_up_restores_it(project, cluster):
    namespace = unique_namespace("drift")
    project.edit_config("dev", lambda config: point_at_cluster(config, cluster, namespace))
    project.up("dev")
    before_api = cluster.get("deployment", "api", namespace)
    before_policy = cluster.get("networkpolicy", "postgres", namespace)

    cluster.kubectl("-n", namespace, "patch", "deployment", "api", "--type=strategic", "-p", json.dumps(
        {"spec": {"template": {"spec": {"containers": [{"name": "api", "resources": {"requests": {"cpu": "150m"}}}]}}}}))
    cluster.kubectl("-n", namespace, "patch", "networkpolicy", "postgres", "--type=json", "-p", json.dumps(
        [{"op": "replace", "path": "/spec/ingress/0/ports/0/port", "value": 5433}]))

    # A refreshing preview sees exactly the two drifted objects; every object the program declares
    # carries pulumi.com/patchForce, so `up` takes the fields back from kubectl's field manager.
    _, events = preview(project, "dev", refresh=True)
    assert changes(events) == {"kubernetes:apps/v1:Deployment": ["update:api-deployment"],
                               "kubernetes:networking.k8s.io/v1:NetworkPolicy": ["update:postgres-netpol"]}, changes(events)
    project.stack("dev").up(refresh=True)
    api = cluster.get("deployment", "api", namespace)
    policy = cluster.get("networkpolicy", "postgres", namespace)
    assert api["spec"]["template"]["spec"]["containers"][0]["resources"] == \
        before_api["spec"]["template"]["spec"]["containers"][0]["resources"]
    assert policy["spec"] == before_policy["spec"]
    # Restored and owned by Pulumi again: a plain refreshing preview is empty.
    _, events = preview(project, "dev", refresh=True)
    assert changes(events) == {}


# --- 5. storage ---------------------------------------------------------------------------------

def test_5_a_claim_binds_and_the_shrink_the_cost_tool_warns_about_is_refused(project, cluster):
    namespace = unique_namespace("storage")

    def sized(size: str):
        def change(config: dict) -> None:
            config["services"]["postgres"]["storage"]["size"] = size
        return change

    project.edit_config("dev", lambda config: (point_at_cluster(config, cluster, namespace), sized("10Gi")(config)))
    project.up("dev")
    claim = cluster.get("pvc", "postgres-data", namespace)
    assert claim["status"]["phase"] == "Bound" and claim["status"]["capacity"]["storage"] == "10Gi"
    wait_for(deployments_available(cluster, namespace, {"postgres": 1}), 60, "postgres available")
    volume = cluster.get("pv", claim["spec"]["volumeName"])
    assert volume["spec"]["capacity"]["storage"] == "10Gi" and volume["spec"]["claimRef"]["name"] == "postgres-data"

    project.edit_config("dev", sized("2Gi"))
    # The preview is a server-side dry run: the API server refuses the shrink before anything is applied.
    refused = "spec.resources.requests.storage: Forbidden: field can not be less than status.capacity"
    with pytest.raises(auto.CommandError) as error:
        preview(project, "dev")
    text = str(error.value)
    assert "PersistentVolumeClaim (postgres-data)" in text and refused in text, text[-3000:]
    # `up` fails the same way, naming the claim.
    message = up_error(lambda: project.up("dev"))
    # (the limit range, shrunk to the new 2Gi cap first, may be what refuses the claim's update)
    assert "PersistentVolumeClaim (postgres-data)" in message, message[-3000:]
    assert refused in message or "maximum storage usage per PersistentVolumeClaim is 2Gi" in message, message[-3000:]
    claim_after = cluster.get("pvc", "postgres-data", namespace)
    assert claim_after["metadata"]["uid"] == claim["metadata"]["uid"]  # neither replaced nor deleted
    assert claim_after["spec"]["resources"]["requests"]["storage"] == "10Gi"
    assert claim_after["status"]["phase"] == "Bound"

    # State stays consistent: the export parses, nothing is pending, and the claim is still the one error.
    assert not state_is_clean(project, "dev").get("pending_operations")
    with pytest.raises(auto.CommandError) as error:
        preview(project, "dev", refresh=True)
    text = str(error.value)
    assert refused in text and "    2 errored" in text, text[-3000:]  # the claim, and the stack reporting it

    project.edit_config("dev", sized("10Gi"))
    _, events = preview(project, "dev", refresh=True)
    # The quota and limit range sized for 2Gi may have been applied before the claim was refused.
    assert set(changes(events)) <= {"kubernetes:core/v1:ResourceQuota", "kubernetes:core/v1:LimitRange"}, changes(events)
    project.up("dev")
    _, events = preview(project, "dev", refresh=True)
    assert changes(events) == {}


# --- 6. faults ----------------------------------------------------------------------------------

def state_is_clean(project, stack: str) -> dict:
    exported = subprocess.run(["pulumi", "stack", "export", "--stack", stack], cwd=project.directory,
                              env={**os.environ, **project.env}, capture_output=True, text=True, timeout=120)
    assert exported.returncode == 0, exported.stderr
    return json.loads(exported.stdout)["deployment"]


def test_6a_api_server_killed_mid_up_and_restarted_leaves_consistent_state_that_converges(project, cluster):
    namespace = unique_namespace("kill")
    project.edit_config("dev", lambda config: point_at_cluster(config, cluster, namespace, await_timeout=60))
    outcome: dict = {}

    def run_up() -> None:
        try:
            outcome["result"] = project.up("dev")
        except Exception as error:  # noqa: BLE001  reported below
            outcome["error"] = error

    thread = threading.Thread(target=run_up, daemon=True)
    thread.start()
    # Mid-up: the namespace exists and the first Deployment has been created.
    wait_for(lambda: cluster.get("namespace", namespace) is not None and cluster.get("deployments", namespace=namespace),
             180, f"the first Deployment in {namespace}", interval=0.1)
    pid = cluster.pid("kube-apiserver")
    killed_at = time.monotonic()
    os.kill(pid, signal.SIGKILL)
    thread.join(15)  # does `up` notice at once? (it fails only when an await gives up: see docs/cluster.md)
    failed_fast = not thread.is_alive()
    restarted = cluster_script("up", timeout=300)  # back within ~20 s: the API server restarts mid-up
    assert restarted.returncode == 0, restarted.stderr
    wait_for(cluster.ready, 60, "kube-apiserver /readyz after restart")
    thread.join(660)  # bounded by the provider's longest await (10 min for objects without a timeout)
    assert not thread.is_alive(), "pulumi up still running 11 min after the API server came back"
    finished_after = time.monotonic() - killed_at
    if "error" in outcome:
        message = str(outcome["error"])
        assert "error" in message.lower() and ("connection refused" in message or "failed" in message), message[-3000:]
    print(f"\nSIGKILL kube-apiserver pid {pid} mid-up: up {'failed' if 'error' in outcome else 'succeeded'} "
          f"{finished_after:.1f} s later (failed within 15 s: {failed_fast})")

    deployment = state_is_clean(project, "dev")
    pending = deployment.get("pending_operations") or []
    print(f"pending operations after the fault: {[(p['type'], p['resource']['urn'].rsplit('::', 1)[-1]) for p in pending]}")
    if pending:
        project.stack("dev").refresh(clear_pending_creates=True)
        assert not state_is_clean(project, "dev").get("pending_operations")
    # After an API server restart the controller-manager re-acquires its leader lease and re-lists
    # before it reconciles again (observed: ~85 s until new ReplicaSets got pods), so the recovery
    # `up` may wait longer than the 60 s that bounded the faulty one.
    project.edit_config("dev", lambda config: point_at_cluster(config, cluster, namespace, await_timeout=300))
    project.up("dev")
    _, events = preview(project, "dev", refresh=True)
    assert changes(events) == {}
    # Nothing lost: every object in state exists in the cluster.
    resources = state_is_clean(project, "dev")["resources"]
    in_state = [r for r in resources if r["type"].startswith("kubernetes:") and r["type"] != "pulumi:providers:kubernetes"]
    lost = []
    for resource in in_state:
        metadata = resource["outputs"]["metadata"]
        kind = resource["outputs"]["kind"].lower()
        if cluster.get(kind, metadata["name"], metadata.get("namespace")) is None:
            lost.append(f"{kind}/{metadata['name']}")
    assert not lost
    print(f"objects in state after recovery: {len(in_state)}, lost: {len(lost)}")


def test_6b_a_workload_that_never_schedules_fails_up_after_the_await_timeout(project, cluster):
    namespace = unique_namespace("unready")

    def oversized(config: dict) -> None:
        point_at_cluster(config, cluster, namespace, await_timeout=20)
        config["services"]["worker"]["resources"] = {"requests": {"cpu": "64", "memory": "128Mi"},
                                                     "limits": {"cpu": "64", "memory": "192Mi"}}

    project.edit_config("dev", oversized)
    started = time.monotonic()
    message = up_error(lambda: project.up("dev"))
    waited = time.monotonic() - started
    assert "worker" in message and "Deployment" in message, message[-3000:]
    assert "timed out" in message.lower() or "failed to initialize" in message.lower() or "Unschedulable" in message, message[-3000:]
    print(f"\nup failed after {waited:.1f} s (await timeout 20 s): "
          + next((line.strip() for line in message.splitlines() if "worker" in line and "error" in line.lower()), ""))
    pods = cluster.get("pods", namespace=namespace, selector="app.kubernetes.io/name=worker")
    conditions = [c for pod in pods for c in pod["status"].get("conditions", []) if c["type"] == "PodScheduled"]
    assert conditions and all(c["reason"] == "Unschedulable" and "Insufficient cpu" in c["message"] for c in conditions)

    project.edit_config("dev", lambda config: config["services"]["worker"].update(resources={
        "requests": {"cpu": "50m", "memory": "128Mi"}, "limits": {"cpu": "200m", "memory": "192Mi"}}))
    # The cpu caps shrink (64 -> 0.55 cpu) while the Pending 64-cpu pod still counts: they are lowered
    # only once the fixed pod has replaced it (leanstack.render.namespace.lowered_caps), so a plain
    # `up` converges with no pod refused for quota.
    started = time.monotonic()
    project.up("dev")
    print(f"the shrinking up converged in {time.monotonic() - started:.1f} s")
    assert not [m for m in failed_creates(cluster, namespace) if m.startswith("worker-") and "exceeded quota" in m]
    wait_for(rolled_out(cluster, namespace, {"worker": 1, "api": 1}), 60, "worker rolled out and available")
    _, events = preview(project, "dev", refresh=True)
    assert changes(events) == {}


def test_6c_destroy_leaves_nothing_in_the_namespace_and_removes_it(project, cluster):
    namespace = unique_namespace("destroy")
    project.edit_config("dev", lambda config: point_at_cluster(config, cluster, namespace))
    project.up("dev")
    volume = cluster.get("pvc", "postgres-data", namespace)["spec"]["volumeName"]
    project.stack("dev").destroy()
    wait_for(namespace_gone(cluster, namespace), 120, f"namespace {namespace} deleted")
    left = cluster.kubectl("get", "all,pvc,secrets,configmaps,networkpolicies,ingresses,hpa,pdb,resourcequotas,limitranges,"
                           "serviceaccounts", "-n", namespace, "-o", "name", check=False)
    assert left.stdout.strip() == ""
    wait_for(lambda: cluster.get("pv", volume) is None, 60, f"PersistentVolume {volume} deleted (reclaim Delete)")
    assert not project.stack("dev").export_stack().deployment.get("resources")


# --- 7. preview is server-side ------------------------------------------------------------------

def test_7_preview_runs_the_api_servers_validation_before_apply(project, cluster):
    namespace = unique_namespace("dryrun")
    project.edit_config("dev", lambda config: point_at_cluster(config, cluster, namespace))
    project.up("dev")
    # A value only the API server's validation refuses (a label value may not contain spaces): the
    # program gets one through a test-only transform, since our schema refuses what it knows to be
    # invalid (it refused the first example found here, an Ingress host with an empty DNS label).
    main = project.directory / "__main__.py"
    main.write_text(main.read_text().replace("config = config_from_engine()", INVALID_LABEL + "\nconfig = config_from_engine()", 1))
    with pytest.raises(auto.CommandError) as error:
        preview(project, "dev")
    text = str(error.value)
    assert "api" in text and "metadata.labels" in text and "Invalid value" in text, text[-3000:]
    live = cluster.get("deployment", "api", namespace)["metadata"]["labels"]
    assert "leanstack.test/invalid" not in live  # a preview applies nothing