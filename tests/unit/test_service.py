"""RightSizedService: hardened pods, right-sized resources, probes, scaling, storage, network."""

import pytest

from tests.unit.conftest import SHOP_STACKS, run_platform, small_stack

DEPLOYMENT = "apps/v1:Deployment"
HPA = "autoscaling/v2:HorizontalPodAutoscaler"
PDB = "policy/v1:PodDisruptionBudget"
NETPOL = "networking.k8s.io/v1:NetworkPolicy"


def pod(run, name):
    return run.kind(DEPLOYMENT)[name]["spec"]["template"]["spec"]


@pytest.mark.parametrize("stack", SHOP_STACKS)
def test_every_workload_runs_hardened(stack_runs, stack):
    assert_hardened(stack_runs[stack])


def assert_hardened(run) -> None:
    """Every Deployment of `run` runs non-root, read-only, without capabilities or an account token (also
    asserted of the committed stacks in test_committed_stacks.py)."""
    assert run.kind(DEPLOYMENT)
    for name, deployment in run.kind(DEPLOYMENT).items():
        spec = deployment["spec"]["template"]["spec"]
        assert spec["automountServiceAccountToken"] is False
        assert spec["serviceAccountName"] == name
        context = spec["securityContext"]
        assert context["runAsNonRoot"] is True and context["runAsUser"] > 0 and context["runAsGroup"] > 0
        assert context["fsGroup"] > 0
        assert context["seccompProfile"] == {"type": "RuntimeDefault"}
        (container,) = spec["containers"]
        assert container["securityContext"] == {
            "runAsNonRoot": True,
            "allowPrivilegeEscalation": False,
            "privileged": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        }
        assert {"/tmp"} <= {mount["mountPath"] for mount in container["volumeMounts"]}
        for kind in ("requests", "limits"):
            assert set(container["resources"][kind]) == {"cpu", "memory", "ephemeral-storage"}
        assert "@sha256:" in container["image"] and ":latest" not in container["image"]
    for account in run.kind("core/v1:ServiceAccount").values():
        assert account["automountServiceAccountToken"] is False


def test_every_container_gets_the_resources_its_service_states_disk_defaulted():
    run = run_platform(small_stack(), "small")
    (container,) = pod(run, "api")["containers"]
    assert container["resources"] == {
        "requests": {"cpu": "250m", "memory": "384Mi", "ephemeral-storage": "64Mi"},
        "limits": {"cpu": "500m", "memory": "512Mi", "ephemeral-storage": "256Mi"},
    }
    assert pod(run, "db")["containers"][0]["resources"]["requests"] == {"cpu": "100m", "memory": "256Mi", "ephemeral-storage": "64Mi"}


def test_probes_follow_the_declared_paths_and_one_timing_profile(prod, dev):
    (api,) = pod(prod, "api")["containers"]
    assert api["startupProbe"] == {"httpGet": {"path": "/health", "port": 8080, "scheme": "HTTP"},
                                   "periodSeconds": 5, "timeoutSeconds": 2, "failureThreshold": 24}
    assert api["readinessProbe"] == {"httpGet": {"path": "/ready", "port": 8080, "scheme": "HTTP"},
                                     "periodSeconds": 10, "timeoutSeconds": 2, "failureThreshold": 3}
    assert api["livenessProbe"] == {"httpGet": {"path": "/health", "port": 8080, "scheme": "HTTP"},
                                    "periodSeconds": 20, "timeoutSeconds": 2, "failureThreshold": 3}
    (worker,) = pod(dev, "worker")["containers"]
    assert worker["readinessProbe"]["exec"] == {"command": ["python", "-m", "worker.health"]}
    assert worker["livenessProbe"]["exec"] == {"command": ["python", "-m", "worker.health", "--max-age", "120"]}
    (postgres,) = pod(dev, "postgres")["containers"]
    assert postgres["readinessProbe"]["exec"] == {"command": ["pg_isready", "-h", "127.0.0.1", "-p", "5432", "-U", "postgres"]}
    assert postgres["livenessProbe"]["tcpSocket"] == {"port": 5432}
    assert postgres["startupProbe"]["periodSeconds"] * postgres["startupProbe"]["failureThreshold"] == 300


def test_rollouts_never_drop_capacity_except_for_single_writer_volumes(prod):
    deployments = prod.kind(DEPLOYMENT)
    for name in ("api", "worker", "web", "redis"):
        assert deployments[name]["spec"]["strategy"] == {
            "type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}}
    assert deployments["postgres"]["spec"]["strategy"] == {"type": "Recreate"}


def test_the_hpa_owns_replicas_with_declared_targets_and_behavior(prod):
    assert "replicas" not in prod.kind(DEPLOYMENT)["api"]["spec"]
    hpa = prod.kind(HPA)["api"]["spec"]
    assert hpa["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "api"}
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (2, 6)
    assert hpa["metrics"] == [
        {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}},
        {"type": "Resource", "resource": {"name": "memory", "target": {"type": "Utilization", "averageUtilization": 80}}},
        {"type": "Pods", "pods": {"metric": {"name": "http_requests_per_second"},
                                  "target": {"type": "AverageValue", "averageValue": "100"}}},
    ]
    assert hpa["behavior"]["scaleDown"]["stabilizationWindowSeconds"] == 300
    assert hpa["behavior"]["scaleUp"]["stabilizationWindowSeconds"] == 0
    assert prod.kind(DEPLOYMENT)["postgres"]["spec"]["replicas"] == 1


def test_dev_runs_one_fixed_replica_without_hpas_or_pdbs(dev):
    assert {d["spec"]["replicas"] for d in dev.kind(DEPLOYMENT).values()} == {1}
    assert dev.kind(HPA) == {} and dev.kind(PDB) == {}


def test_a_pdb_exists_exactly_for_services_that_always_run_two_pods(prod):
    assert set(prod.kind(PDB)) == {"api", "worker", "web"}
    budget = prod.kind(PDB)["api"]["spec"]
    assert budget["maxUnavailable"] == 1
    assert budget["selector"] == {"matchLabels": {"app.kubernetes.io/name": "api"}}
    assert budget["unhealthyPodEvictionPolicy"] == "AlwaysAllow"


def test_prod_spreads_replicas_across_zones_and_nodes(prod, dev):
    keys = [c["topologyKey"] for c in pod(prod, "api")["topologySpreadConstraints"]]
    assert keys == ["topology.kubernetes.io/zone", "kubernetes.io/hostname"]
    assert "topologySpreadConstraints" not in pod(dev, "api")


def test_database_keeps_its_data_on_a_right_sized_claim(prod):
    claim = prod.kind("core/v1:PersistentVolumeClaim")["postgres-data"]["spec"]
    assert claim == {"accessModes": ["ReadWriteOnce"], "storageClassName": "standard",
                     "resources": {"requests": {"storage": "2Gi"}}}
    spec = pod(prod, "postgres")
    assert {"name": "data", "persistentVolumeClaim": {"claimName": "postgres-data"}} in spec["volumes"]
    assert {"name": "data", "mountPath": "/var/lib/postgresql/data"} in spec["containers"][0]["volumeMounts"]
    assert spec["securityContext"]["runAsUser"] == 10999


def test_cache_lives_on_a_size_limited_empty_dir(prod):
    spec = pod(prod, "redis")
    assert {"name": "cache", "emptyDir": {"sizeLimit": "1Gi"}} in spec["volumes"]
    assert "core/v1:PersistentVolumeClaim" not in {r.typ for r in prod.resources if "redis" in r.name}


def test_database_is_reachable_only_from_declared_callers(prod):
    policy = prod.kind(NETPOL)["postgres"]["spec"]
    assert policy["podSelector"] == {"matchLabels": {"leanstack.dev/service": "postgres"}}
    assert policy["policyTypes"] == ["Ingress", "Egress"]
    (rule,) = policy["ingress"]
    assert rule["from"] == [{"podSelector": {"matchLabels": {"leanstack.dev/service": caller}}} for caller in ("api", "worker")]
    assert rule["ports"] == [{"protocol": "TCP", "port": 5432}]
    assert policy["egress"] == []
    assert prod.kind("core/v1:Service")["postgres"]["spec"]["type"] == "ClusterIP"
    assert "postgres" not in prod.kind("networking.k8s.io/v1:Ingress")


def test_public_services_admit_only_the_ingress_controller(prod):
    (rule,) = prod.kind(NETPOL)["api"]["spec"]["ingress"]
    assert rule["from"] == [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}}]
    ingress = prod.kind("networking.k8s.io/v1:Ingress")["api"]["spec"]
    assert ingress["rules"][0]["host"] == "api.shop.example.com"
    assert ingress["rules"][0]["http"]["paths"][0]["backend"] == {"service": {"name": "api", "port": {"number": 8080}}}


def test_egress_goes_only_to_declared_dependencies(prod):
    egress = prod.kind(NETPOL)["worker"]["spec"]["egress"]
    assert egress == [
        {"to": [{"podSelector": {"matchLabels": {"leanstack.dev/service": "postgres"}}}], "ports": [{"protocol": "TCP", "port": 5432}]},
        {"to": [{"podSelector": {"matchLabels": {"leanstack.dev/service": "redis"}}}], "ports": [{"protocol": "TCP", "port": 6379}]},
    ]
    assert prod.kind(NETPOL)["worker"]["spec"]["ingress"] == []


def test_secret_files_come_from_a_secret_mounted_read_only_never_from_plain_config(dev):
    spec = pod(dev, "api")
    (container,) = spec["containers"]
    env = {item["name"]: item for item in container["env"]}
    assert "DATABASE_PASSWORD" not in env and not any("valueFrom" in item for item in env.values())
    assert env["DATABASE_PASSWORD_FILE"] == {"name": "DATABASE_PASSWORD_FILE", "value": "/run/secrets/leanstack/DATABASE_PASSWORD"}
    assert {"name": "secret-files", "mountPath": "/run/secrets/leanstack", "readOnly": True} in container["volumeMounts"]
    # 0400, group-readable through fsGroup once the kubelet applies it: the non-root user reads it, no one else
    assert {"name": "secret-files", "secret": {"secretName": "api-files", "defaultMode": 0o400}} in spec["volumes"]
    assert spec["securityContext"]["fsGroup"] == 10001
    secret = dev.kind("core/v1:Secret")["api-files"]
    # The engine receives the value wrapped as a secret, so state and previews keep it encrypted.
    assert secret["stringData"]["4dabf18193072939515e22adb298388d"] == "1b47061264138c4ac30d75fd1eb44270"


def test_placement_puts_every_pod_and_job_on_the_named_nodes_and_tolerates_only_the_named_taints():
    from leanstack.config.schema import Toleration
    from tests.unit.conftest import run_platform, stack_config

    plain = stack_config("prod")
    assert all("tolerations" not in pod(run_platform(plain, "prod"), name) for name in ("api", "web"))
    toleration = {"key": "kwok.x-k8s.io/node", "operator": "Exists", "effect": "NoSchedule"}
    cluster = plain.kubernetes.model_copy(update={"kubeconfig": "/kubeconfig", "render_dir": None,
                                                  "node_selector": {"type": "kwok"},
                                                  "tolerations": [Toleration(**toleration)]})
    run = run_platform(plain.model_copy(update={"kubernetes": cluster}), "prod")
    specs = [d["spec"]["template"]["spec"] for d in run.kind(DEPLOYMENT).values()]
    specs += [j["spec"]["template"]["spec"] for j in run.kind("batch/v1:Job").values()]
    assert specs and all(s["nodeSelector"] == {"type": "kwok"} and s["tolerations"] == [toleration] for s in specs)
