"""Real applications: one build run as several processes, migrations, config and secret files,
probes that differ, scheduled work, stateful services, sidecars and init containers."""

from __future__ import annotations

import copy
import hashlib
from typing import Any

import pulumi
import pytest

from leanstack.config.lint import warnings
from leanstack.kube.manifest import resource_type
from leanstack.policies.rules import container_probes, run_as_non_root
from leanstack.config.stack_file import ConfigError, validate_config
from tests.unit.conftest import SHOP_STACKS, run_platform, stack_config

DEPLOYMENT = "apps/v1:Deployment"
SIZE = {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "200m", "memory": "256Mi"}}
BUILD = {"build": {"context": "apps/api"}}
PG = "postgres:16.4-bookworm@sha256:" + "e" * 64

# A Django API, its Celery worker from the same build, and a database.
SHOP: dict[str, Any] = {
    "leanstack:environment": "dev",
    "leanstack:namespace": "shop",
    "leanstack:services": {
        "api": {"image": BUILD, "port": 8000, "resources": SIZE, "depends_on": ["db"],
                "command": ["gunicorn"], "args": ["shop.wsgi", "--bind", "0.0.0.0:8000"]},
        "worker": {"role": "worker", "image": {"from": "api"}, "resources": SIZE, "depends_on": ["db"],
                   "command": ["celery"], "args": ["-A", "shop", "worker"],
                   "probes": {"type": "exec", "command": ["celery", "-A", "shop", "inspect", "ping"]}},
        "db": {"role": "database", "image": {"ref": PG}, "port": 5432, "resources": SIZE, "allow_from": ["api", "worker"],
               "probes": {"type": "tcp"}},
    },
}


def load(changes: dict[str, Any] | None = None, base: dict[str, Any] = SHOP):
    """SHOP with `changes` (dotted key path under leanstack:services -> value) applied."""
    values = copy.deepcopy(base)
    for path, value in (changes or {}).items():
        node = values["leanstack:services"]
        *parents, last = path.split(".")
        for key in parents:
            node = node.setdefault(key, {})
        node[last] = value
    secrets = {key for key, value in values.items() if isinstance(value, dict) and set(value) == {"secure"}}
    return validate_config(values, secrets, "Pulumi.dev.yaml")


def problems(changes: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as error:
        load(changes)
    return str(error.value)


def pod_containers(run, name: str, kind: str = DEPLOYMENT) -> list[dict]:
    return run.kind(kind)[name]["spec"]["template"]["spec"]["containers"]


def container(run, name: str, kind: str = DEPLOYMENT) -> dict:
    (main,) = pod_containers(run, name, kind)
    return main


def test_one_build_runs_as_several_processes_with_their_own_commands():
    run = run_platform(load(), "dev")
    assert len(run.of_type("docker-build:index:Image")) == 1
    api, worker = container(run, "api"), container(run, "worker")
    assert api["image"] == worker["image"] and "@sha256:" in api["image"]
    assert (api["command"], api["args"]) == (["gunicorn"], ["shop.wsgi", "--bind", "0.0.0.0:8000"])
    assert (worker["command"], worker["args"]) == (["celery"], ["-A", "shop", "worker"])
    assert "command" not in container(run, "db")
    assert run.outputs["images"]["worker"] == run.outputs["images"]["api"]


@pytest.mark.parametrize("source, message", [
    ("db", "services.worker.image.from: db builds no image; name a service with image.build (or repeat its ref)"),
    ("nope", "services.worker.image.from: unknown service 'nope'; declared services: api, db, worker"),
    ("worker", "services.worker.image.from: a service cannot take its image from itself"),
])
def test_image_from_names_a_service_that_builds(source, message):
    assert problems({"worker.image": {"from": source}}) == f"Pulumi.dev.yaml: {message}"


def test_image_from_cannot_chain_or_mix_sources():
    chained = {"beat": {"role": "worker", "image": {"from": "worker"}, "resources": SIZE,
                        "probes": {"type": "exec", "command": ["true"]}}}
    assert "services.beat.image.from: worker builds no image" in problems(chained)
    assert "set exactly one of build" in problems({"worker.image": {"from": "api", "ref": PG}})
    assert problems({"worker.command": []}) == "Pulumi.dev.yaml: services.worker.command: must not be empty"


def test_a_migration_job_runs_each_new_image_hardened_before_the_workload_rolls():
    run = run_platform(load({"api.migrate": {"command": ["python", "manage.py", "migrate"]}}), "dev")
    image = container(run, "api")["image"]
    (name, job), = run.kind("batch/v1:Job").items()
    assert name == "api-migrate-" + hashlib.sha256(image.encode()).hexdigest()[:10]
    assert job["metadata"]["annotations"] == {"pulumi.com/timeoutSeconds": "660", "pulumi.com/replaceUnready": "true",
                                              "pulumi.com/patchForce": "true"}
    spec = job["spec"]
    assert (spec["backoffLimit"], spec["activeDeadlineSeconds"], spec["ttlSecondsAfterFinished"]) == (0, 600, 86400)
    pod = spec["template"]["spec"]
    served = run.kind(DEPLOYMENT)["api"]["spec"]["template"]["spec"]
    assert pod["restartPolicy"] == "Never" and "restartPolicy" not in served
    assert {key: pod[key] for key in ("securityContext", "volumes", "automountServiceAccountToken", "serviceAccountName")} == \
        {key: served[key] for key in ("securityContext", "volumes", "automountServiceAccountToken", "serviceAccountName")}
    (task,) = pod["containers"]
    main = container(run, "api")
    assert task["command"] == ["python", "manage.py", "migrate"] and "args" not in task
    assert task["image"] == image and task["securityContext"] == main["securityContext"]
    assert task["resources"] == main["resources"] and task["env"] == main["env"]
    assert not {"ports", "readinessProbe", "livenessProbe", "startupProbe"} & set(task)
    # its pods reach the database through the api's network policy, but no Service or PDB selects them
    labels = spec["template"]["metadata"]["labels"]
    assert labels["leanstack.dev/service"] == "api" and "app.kubernetes.io/name" not in labels
    assert labels["app.kubernetes.io/component"] == "migration"
    # the Deployment rolls only after the Job succeeded; the Job waits for its network policy
    assert any(urn.endswith("::api-migrate") for urn in run.dependencies["api-deployment"])
    assert any(urn.endswith("::api-netpol") for urn in run.dependencies["api-migrate"])
    # the worker runs the api's image, so it too rolls only once that image's migration ran
    assert any(urn.endswith("::api-migrate") for urn in run.dependencies["worker-deployment"])
    assert not any("migrate" in urn for urn in run.dependencies["db-deployment"])


def test_a_migration_can_be_sized_and_bounded_on_its_own():
    big = {"requests": {"cpu": "500m", "memory": "512Mi"}, "limits": {"cpu": "1", "memory": "1Gi"}}
    run = run_platform(load({"api.migrate": {"command": ["migrate"], "args": ["--noinput"], "timeout_seconds": 1800,
                                             "backoff_limit": 2, "resources": big}}), "dev")
    (job,) = run.kind("batch/v1:Job").values()
    assert (job["spec"]["backoffLimit"], job["spec"]["activeDeadlineSeconds"]) == (2, 1800)
    (task,) = job["spec"]["template"]["spec"]["containers"]
    assert task["args"] == ["--noinput"] and task["resources"]["limits"]["memory"] == "1Gi"
    tiny = {"requests": {"cpu": "10m", "memory": "16Mi", "ephemeral_storage": "32Mi"},
            "limits": {"cpu": "10m", "memory": "16Mi", "ephemeral_storage": "32Mi"}}
    assert "services.api.migrate.resources.limits.ephemeral_storage: 32Mi cannot hold" in problems(
        {"api.migrate": {"command": ["migrate"], "resources": tiny}})
    assert "services.api.migrate.timeout_seconds: 5 is out of range; must be >= 30" in problems(
        {"api.migrate": {"command": ["migrate"], "timeout_seconds": 5}})


def test_the_quota_leaves_room_for_the_migration_pod():
    big = {"requests": {"cpu": "500m", "memory": "512Mi"}, "limits": {"cpu": "1", "memory": "1Gi"}}
    plain = run_platform(load(), "dev").quota_caps()
    run = run_platform(load({"api.migrate": {"command": ["migrate"], "resources": big}}), "dev")
    hard = run.quota_caps()
    assert int(hard["pods"]) == int(plain["pods"]) + 1
    # 3 services x (1 replica + 1 surged) x 100m, plus the migration pod
    assert (plain["requests.cpu"], hard["requests.cpu"]) == ("600m", "1100m")
    (container_limits,) = [item for item in run.kind("core/v1:LimitRange")["defaults"]["spec"]["limits"] if item["type"] == "Container"]
    assert container_limits["max"]["memory"] == "1Gi"


def test_config_files_are_mounted_read_only_and_a_change_rolls_the_pods(tmp_path):
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "logging.ini").write_text("[loggers]\nkeys=root\n")
    files = {"settings.toml": {"mount_path": "/etc/shop/settings.toml", "content": "debug = false\n"},
             "logging.ini": {"mount_path": "/etc/shop/logging.ini", "source": "conf/logging.ini"}}
    run = run_platform(load({"api.config_files": files}), "dev", project_dir=tmp_path)
    config_map = run.kind("core/v1:ConfigMap")["api-config"]
    assert config_map["data"] == {"settings.toml": "debug = false\n", "logging.ini": "[loggers]\nkeys=root\n"}
    template = run.kind(DEPLOYMENT)["api"]["spec"]["template"]
    assert {"name": "config-files", "configMap": {"name": "api-config", "defaultMode": 0o444}} in template["spec"]["volumes"]
    assert {"name": "config-files", "mountPath": "/etc/shop/settings.toml", "subPath": "settings.toml",
            "readOnly": True} in container(run, "api")["volumeMounts"]
    checksum = template["metadata"]["annotations"]["checksum/config"]
    (tmp_path / "conf" / "logging.ini").write_text("[loggers]\nkeys=root,shop\n")
    changed = run_platform(load({"api.config_files": files}), "dev", project_dir=tmp_path)
    assert changed.kind(DEPLOYMENT)["api"]["spec"]["template"]["metadata"]["annotations"]["checksum/config"] != checksum
    assert "annotations" not in run.kind(DEPLOYMENT)["worker"]["spec"]["template"]["metadata"]


def test_config_files_name_one_source_and_a_free_path(tmp_path):
    both = {"a.conf": {"mount_path": "/etc/a.conf", "content": "x", "source": "a.conf"}}
    assert "services.api.config_files.a.conf: set exactly one of content" in problems({"api.config_files": both})
    outside = {"a.conf": {"mount_path": "/etc/a.conf", "source": "../secrets.txt"}}
    assert "'../secrets.txt' is not a path inside the project" in problems({"api.config_files": outside})
    over_tmp = {"a.conf": {"mount_path": "/tmp", "content": "x"}}
    assert "a writable path and config_files.a.conf share mount_path /tmp" in problems({"api.config_files": over_tmp})
    missing = load({"api.config_files": {"a.conf": {"mount_path": "/etc/a.conf", "source": "nowhere/a.conf"}}})
    with pytest.raises(pulumi.RunError, match="Pulumi.dev.yaml: services.api.config_files.a.conf.source: "
                                              "cannot read nowhere/a.conf: No such file or directory"):
        run_platform(missing, "dev", project_dir=tmp_path)


def test_secret_files_name_secret_keys_and_do_not_clash_with_env():
    secrets = {"leanstack:dbPassword": {"secure": "v1:x"}}
    with_files = {**SHOP, **secrets}
    config = load({"worker.secret_files": {"DATABASE_PASSWORD": "dbPassword"}}, base=with_files)
    run = run_platform(config, "dev")
    env = {item["name"]: item.get("value") for item in container(run, "worker")["env"]}
    assert env == {"DATABASE_PASSWORD_FILE": "/run/secrets/leanstack/DATABASE_PASSWORD"}
    assert set(run.kind("core/v1:Secret")) == {"worker-files"}
    with pytest.raises(ConfigError, match="secret config key 'otherKey' is not set"):
        load({"worker.secret_files": {"DATABASE_PASSWORD": "otherKey"}})
    with pytest.raises(ConfigError, match="secret_files sets DATABASE_PASSWORD_FILE, which env or secret_env sets too"):
        load({"worker.secret_files": {"DATABASE_PASSWORD": "dbPassword"}, "worker.env": {"DATABASE_PASSWORD_FILE": "/x"}},
             base=with_files)


def test_readiness_and_liveness_can_ask_different_questions_and_same_ones_are_warned_about():
    probes = {"type": "tcp", "readiness_command": ["pg_isready", "-h", "127.0.0.1"]}
    config = load({"db.probes": probes})
    run = run_platform(config, "dev")
    db = container(run, "db")
    assert db["readinessProbe"]["exec"] == {"command": ["pg_isready", "-h", "127.0.0.1"]}
    assert db["livenessProbe"]["tcpSocket"] == {"port": 5432} and db["startupProbe"]["tcpSocket"] == {"port": 5432}
    assert [problem.path for problem in warnings(config)] == ["services.worker.probes"]
    (advice,) = warnings(load())[1:]
    assert advice.path == "services.db.probes" and advice.message.startswith("readiness and liveness run the same check (tcp)")


@pytest.mark.parametrize("stack", SHOP_STACKS)
def test_the_shop_stacks_probe_readiness_and_liveness_differently(stack):
    assert warnings(stack_config(stack)) == []
    (postgres,) = pod_containers(run_platform(stack_config(stack), stack), "postgres")
    assert postgres["readinessProbe"]["exec"]["command"][0] == "pg_isready"


BEAT = {"schedule": "*/15 * * * *", "command": ["python", "manage.py", "clearsessions"]}


def test_a_schedule_is_a_hardened_cronjob_running_the_service_image():
    run = run_platform(load({"api.schedules": {"sessions": BEAT}}), "dev")
    cron = run.kind("batch/v1:CronJob")["api-sessions"]
    assert cron["metadata"]["annotations"] == {"leanstack.dev/expected-run-seconds": "300", "pulumi.com/patchForce": "true"}
    spec = cron["spec"]
    assert {key: spec[key] for key in ("schedule", "concurrencyPolicy", "startingDeadlineSeconds",
                                       "successfulJobsHistoryLimit", "failedJobsHistoryLimit")} == {
        "schedule": "*/15 * * * *", "concurrencyPolicy": "Forbid", "startingDeadlineSeconds": 300,
        "successfulJobsHistoryLimit": 1, "failedJobsHistoryLimit": 3}
    job = spec["jobTemplate"]["spec"]
    assert (job["backoffLimit"], job["activeDeadlineSeconds"]) == (0, 3600)
    pod = job["template"]["spec"]
    served = run.kind(DEPLOYMENT)["api"]["spec"]["template"]["spec"]
    assert pod["restartPolicy"] == "Never" and pod["securityContext"] == served["securityContext"]
    (task,) = pod["containers"]
    assert task["name"] == "sessions" and task["command"] == BEAT["command"]
    assert task["image"] == container(run, "api")["image"]
    assert "app.kubernetes.io/name" not in job["template"]["metadata"]["labels"]
    hard = run.quota_caps()
    assert (hard["pods"], hard["requests.cpu"]) == ("7", "700m")  # 3 x 2 serving pods + the Forbid schedule's one


@pytest.mark.parametrize("schedule, message", [
    ({**BEAT, "schedule": "*/15 * * *"}, "schedule: '*/15 * * *' is not a cron schedule; use five fields"),
    ({**BEAT, "schedule": "0 24 * * *"}, "schedule: '0 24 * * *': hour '24' is out of range 0-23"),
    ({**BEAT, "concurrency_policy": "Allow"}, "concurrency_policy: 'Allow' is not allowed; use one of 'Forbid' or 'Replace'"),
    ({**BEAT, "expected_run_seconds": 7200}, "expected_run_seconds 7200 is above active_deadline_seconds 3600"),
])
def test_schedules_are_checked_before_anything_runs(schedule, message):
    assert f"Pulumi.dev.yaml: services.api.schedules.sessions" in problems({"api.schedules": {"sessions": schedule}})
    assert message in problems({"api.schedules": {"sessions": schedule}})


def test_a_cronjob_name_leaves_room_for_its_jobs_names():
    sender = {"role": "worker", "image": {"from": "api"}, "resources": SIZE,
              "probes": {"type": "exec", "command": ["true"], "liveness_command": ["sleep", "0"]}}
    fits, too_long = "r" * 31, "r" * 32
    load({"notifications-sender": {**sender, "schedules": {fits: BEAT}}})
    assert problems({"notifications-sender": {**sender, "schedules": {too_long: BEAT}}}) == (
        f"Pulumi.dev.yaml: services.notifications-sender.schedules.{too_long}: the CronJob name "
        f"notifications-sender-{too_long} is over 52 characters (its Jobs add 11); use a shorter schedule name")


VECTOR = {"role": "database", "workload": "statefulset", "image": {"ref": PG}, "port": 6333, "resources": SIZE,
          "replicas": 3, "probes": {"type": "http", "readiness_path": "/readyz", "liveness_path": "/livez"},
          "storage": {"size": "5Gi", "mount_path": "/qdrant/storage"}, "allow_from": ["api"]}


def test_a_stateful_service_gets_a_volume_per_replica_behind_a_headless_service():
    run = run_platform(load({"vectors": VECTOR, "api.depends_on": ["db", "vectors"]}), "dev")
    assert "vectors" not in run.kind(DEPLOYMENT) and "vectors-data" not in run.kind("core/v1:PersistentVolumeClaim")
    spec = run.kind("apps/v1:StatefulSet")["vectors"]["spec"]
    assert (spec["serviceName"], spec["podManagementPolicy"], spec["replicas"]) == ("vectors-headless", "OrderedReady", 3)
    assert spec["persistentVolumeClaimRetentionPolicy"] == {"whenDeleted": "Retain", "whenScaled": "Retain"}
    assert spec["volumeClaimTemplates"] == [{"metadata": {"name": "data"}, "spec": {
        "accessModes": ["ReadWriteOnce"], "storageClassName": "standard", "resources": {"requests": {"storage": "5Gi"}}}}]
    pod = spec["template"]["spec"]
    assert "data" not in {volume["name"] for volume in pod["volumes"]}
    assert {"name": "data", "mountPath": "/qdrant/storage"} in pod["containers"][0]["volumeMounts"]
    services = run.kind("core/v1:Service")
    assert services["vectors-headless"]["spec"]["clusterIP"] == "None"
    assert services["vectors-headless"]["spec"]["selector"] == services["vectors"]["spec"]["selector"]
    assert any(urn.endswith("::vectors-headless") for urn in run.dependencies["vectors-statefulset"])
    hard = run.quota_caps()
    assert (hard["persistentvolumeclaims"], hard["requests.storage"], hard["pods"]) == ("3", "15Gi", "9")  # no surge


def test_a_stateful_service_scales_its_statefulset():
    scaled = {**VECTOR, "replicas": None, "autoscaling": {"min_replicas": 2, "max_replicas": 4}}
    run = run_platform(load({"vectors": scaled, "api.depends_on": ["db", "vectors"]}), "dev")
    assert run.kind("autoscaling/v2:HorizontalPodAutoscaler")["vectors"]["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1", "kind": "StatefulSet", "name": "vectors"}
    assert "replicas" not in run.kind("apps/v1:StatefulSet")["vectors"]["spec"]
    assert "use workload: statefulset" in problems({"db.storage": {"size": "1Gi", "mount_path": "/data"}, "db.replicas": 2})
    assert "a statefulset needs a port" in problems({"worker.workload": "statefulset"})


PROXY = {"name": "db-proxy", "image": {"ref": PG}, "command": ["proxy"], "resources": {
    "requests": {"cpu": "50m", "memory": "32Mi"}, "limits": {"cpu": "100m", "memory": "64Mi"}}}
COLLECT = {"name": "collectstatic", "command": ["python", "manage.py", "collectstatic"], "inherit_main": True,
           "resources": {"requests": {"cpu": "300m", "memory": "64Mi"}, "limits": {"cpu": "400m", "memory": "512Mi"}}}


def test_sidecars_and_init_containers_are_hardened_and_see_only_what_they_are_given():
    run = run_platform(load({"api.sidecars": [PROXY], "api.init_containers": [COLLECT],
                             "api.env": {"DJANGO_SETTINGS_MODULE": "shop.settings"}}), "dev")
    pod = run.kind(DEPLOYMENT)["api"]["spec"]["template"]["spec"]
    proxy, collect = pod["initContainers"]
    main = container(run, "api")
    assert (proxy["name"], proxy["restartPolicy"], proxy["image"], proxy["command"]) == ("db-proxy", "Always", PG, ["proxy"])
    assert "restartPolicy" not in collect and collect["image"] == main["image"]
    for extra in (proxy, collect):
        assert extra["securityContext"] == main["securityContext"]
    assert proxy["env"] == [] and proxy["volumeMounts"] == [{"name": "writable-0", "mountPath": "/tmp"}]
    assert collect["env"] == main["env"] and collect["volumeMounts"] == main["volumeMounts"]
    (job_pod,) = [job["spec"]["template"]["spec"] for job in run_platform(
        load({"api.sidecars": [PROXY], "api.migrate": {"command": ["migrate"]}}), "dev").kind("batch/v1:Job").values()]
    assert [c["name"] for c in job_pod["initContainers"]] == ["db-proxy"]  # the migration reaches the database the same way


def test_the_quota_counts_the_effective_requests_of_pods_with_sidecars_and_init_containers():
    run = run_platform(load({"api.sidecars": [PROXY], "api.init_containers": [COLLECT]}), "dev")
    hard = run.quota_caps()
    # api pod: cpu max(100m main, 300m init) + 50m sidecar = 350m; memory max(128Mi, 64Mi) + 32Mi = 160Mi
    # two api pods (1 replica + surge), plus worker and db at 2 x (100m, 128Mi)
    assert (hard["requests.cpu"], hard["requests.memory"]) == ("1100m", "832Mi")
    # limits: cpu max(200m, 400m) + 100m = 500m; memory max(256Mi, 512Mi) + 64Mi = 576Mi
    assert (hard["limits.cpu"], hard["limits.memory"]) == ("1800m", "2176Mi")
    (container_limits,) = [item for item in run.kind("core/v1:LimitRange")["defaults"]["spec"]["limits"] if item["type"] == "Container"]
    assert container_limits["max"]["memory"] == "512Mi"


def test_sidecar_and_init_container_names_and_images_are_checked():
    assert "services.api.sidecars.0.name: 'migrate' is taken by a container" in problems(
        {"api.sidecars": [{**PROXY, "name": "migrate"}]})
    assert "init_containers and sidecars repeat the name db-proxy" in problems(
        {"api.sidecars": [PROXY], "api.init_containers": [{**COLLECT, "name": "db-proxy"}]})
    assert "services.api.sidecars.0.image.from: db builds no image" in problems(
        {"api.sidecars": [{**PROXY, "image": {"from": "db"}}]})
    assert "image.build is for services" in problems({"api.sidecars": [{**PROXY, "image": BUILD}]})
    run = run_platform(load({"db.sidecars": [{**PROXY, "image": {"from": "api"}}]}), "dev")
    (proxy,) = run.kind(DEPLOYMENT)["db"]["spec"]["template"]["spec"]["initContainers"]
    assert proxy["image"] == container(run, "api")["image"]


def test_the_policy_rules_read_job_cronjob_and_statefulset_pods():
    config = load({"api.migrate": {"command": ["migrate"]}, "api.schedules": {"sessions": BEAT}, "vectors": VECTOR,
                   "api.depends_on": ["db", "vectors"]})
    objects = {(obj["kind"], obj["metadata"]["name"]): obj for obj in run_platform(config, "dev").kubernetes_objects()}
    job = next(obj for (kind, _), obj in objects.items() if kind == "Job")
    for manifest, path in ((job, ("spec", "template", "spec")),
                           (objects[("CronJob", "api-sessions")], ("spec", "jobTemplate", "spec", "template", "spec")),
                           (objects[("StatefulSet", "vectors")], ("spec", "template", "spec"))):
        kind = manifest["kind"]
        assert run_as_non_root(resource_type(manifest), manifest) == []
        broken = copy.deepcopy(manifest)
        pod = broken
        for key in path:
            pod = pod[key]
        pod["containers"][0]["securityContext"]["runAsNonRoot"] = False
        pod["securityContext"]["runAsNonRoot"] = False
        assert run_as_non_root(resource_type(broken), broken), kind
    assert container_probes(resource_type(job), job) == []  # a Job's pod runs to completion: nothing to probe
