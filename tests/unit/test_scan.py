"""The scanner harness (leanstack.scan, `leanstack render`, scan-skips.yaml, docs/security.md).

checkov and hadolint need their own tools (scripts/scan.sh installs checkov's venv), so these tests
cover what the harness decides itself: file naming, skips, the policy and schema passes, the report.
"""

from __future__ import annotations

import re

import pytest
import yaml

from leanstack.components import offline
from leanstack.kube.manifest import resource_type
from leanstack.policies.rules import run_as_non_root
from leanstack.scan import scanners as scan
from leanstack.scan.report import POD_FIELDS, pod_security_rows
from tests.unit.conftest import ROOT, stack_config

PATHS = scan.ScanPaths.under(ROOT)  # the checkout's layout, as scripts/scan.sh passes it


def render(stack: str, directory):
    return offline.write_manifests(stack_config(stack), stack, directory)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    directory = tmp_path_factory.mktemp("rendered") / "dev"
    render("dev", directory)
    return directory


def test_files_are_named_like_the_providers_render_mode(rendered):
    names = {path.name for path in (rendered / "1-manifest").iterdir()}
    assert {"apps_v1-deployment-shop-dev-api.yaml", "v1-namespace-default-shop-dev.yaml",
            "networking.k8s.io_v1-networkpolicy-shop-dev-default-deny.yaml",
            "v1-persistentvolumeclaim-shop-dev-postgres-data.yaml"} <= names
    assert len(names) == 41  # with api's migration Job and a ResourceQuota per cap (11)


def test_rendered_objects_read_like_hand_written_manifests(rendered):
    deployment = yaml.safe_load((rendered / "1-manifest" / "apps_v1-deployment-shop-dev-api.yaml").read_text())
    assert list(deployment)[:3] == ["apiVersion", "kind", "metadata"]
    assert deployment["spec"]["strategy"]["rollingUpdate"] == {"maxSurge": 1, "maxUnavailable": 0}  # ints, not 1.0
    secret = yaml.safe_load((rendered / "1-manifest" / "v1-secret-shop-dev-api-files.yaml").read_text())
    assert secret["stringData"] == {"DATABASE_PASSWORD": offline.PLACEHOLDER}


def test_rendering_again_drops_objects_the_stack_no_longer_has(rendered):
    stale = rendered / "1-manifest" / "v1-service-shop-dev-gone.yaml"
    stale.write_text("kind: Service\n")
    render("dev", rendered)
    assert not stale.exists()


def test_the_policy_rules_and_strict_schemas_pass_the_rendered_stack(rendered):
    results = scan.check_policies(rendered, scan.policy_config(PATHS.policy_config, "dev")) + scan.validate_schemas(rendered)
    assert [r for r in results if not r.passed] == []
    assert {r.check for r in results if r.scanner == "policy"} == {rule.name for rule in scan.RULES} | {"namespace-default-deny"}


def test_a_broken_manifest_fails_the_schema_and_the_policies(tmp_path, rendered):
    source = yaml.safe_load((rendered / "1-manifest" / "apps_v1-deployment-shop-dev-api.yaml").read_text())
    source["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] = "Sometimes"
    source["spec"]["template"]["spec"]["containers"][0]["image"] = "api:latest"
    source["spec"]["replicaCount"] = 2
    (tmp_path / "deployment.yaml").write_text(yaml.safe_dump(source))
    schema = [r for r in scan.validate_schemas(tmp_path) if not r.passed]
    assert len(schema) == 1 and "Deployment api" in schema[0].target
    failed = {r.check for r in scan.check_policies(tmp_path, scan.policy_config(PATHS.policy_config, "dev")) if not r.passed}
    assert failed == {"image-pinning", "namespace-default-deny"}  # no Namespace nor default-deny in this directory


def test_core_objects_get_the_engines_type_tokens():
    assert resource_type({"apiVersion": "v1", "kind": "Service"}) == "kubernetes:core/v1:Service"
    assert resource_type({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy"}) == "kubernetes:networking.k8s.io/v1:NetworkPolicy"


def test_the_report_fails_a_root_container_exactly_as_the_policy_does(tmp_path, rendered):
    # The container's runAsUser 0 wins over the pod's 10001: the kubelet runs it as root.
    source = yaml.safe_load((rendered / "1-manifest" / "apps_v1-deployment-shop-dev-api.yaml").read_text())
    source["spec"]["template"]["spec"]["containers"][0]["securityContext"]["runAsUser"] = 0
    (tmp_path / "1-manifest").mkdir()
    (tmp_path / "1-manifest" / "deployment.yaml").write_text(yaml.safe_dump(source))
    assert any("runs as UID 0" in message for message in run_as_non_root(resource_type(source), source))
    row = next(row for row in pod_security_rows({"dev": tmp_path}) if row[0].startswith("runAsUser"))
    assert row[2] == "0/1 containers (**not**: api)"
    assert [label for label, _, _ in POD_FIELDS][:2] == ["runAsNonRoot (pod or container)", "runAsUser (container, else pod)"]


def test_every_skip_has_a_one_line_reason():
    skips = scan.load_skips(PATHS.skips)
    assert set(skips) <= {"checkov", "hadolint", "kubernetes-validate"}
    for scanner, entries in skips.items():
        for check, reason in entries.items():
            assert isinstance(reason, str) and reason.strip() and "\n" not in reason and len(reason) <= 200, (scanner, check)


def test_a_skip_turns_only_its_own_failures_into_skips_and_goes_stale_when_they_are_gone():
    results = [
        scan.Result("checkov", "CKV_K8S_40", "high UID", "Deployment.shop.redis", False),
        scan.Result("checkov", "CKV_K8S_40", "high UID", "Deployment.shop.api", True),
        scan.Result("checkov", "CKV_K8S_8", "liveness", "Deployment.shop.api", False),
    ]
    skips = {"checkov": {"CKV_K8S_40": "reason", "CKV_K8S_35": "reason"}}
    classified = scan.apply_skips(results, skips)
    assert [r.status for r in classified] == ["skipped", "passed", "failed"]
    assert scan.stale_skips(classified, skips) == [("checkov", "CKV_K8S_35")]


def test_the_report_covers_every_policy_and_every_skip():
    text = (ROOT / "docs" / "security.md").read_text()
    assert "`scripts/scan.sh --report docs/security.md`" in text.split("\n\n")[1]
    for rule in scan.RULES:
        assert f"`{rule.name}`" in text
    for entries in scan.load_skips(PATHS.skips).values():
        for check in entries:
            assert f"`{check}`" in text


def test_dockerfile_base_image_defaults_are_tagged_which_is_why_CKV_DOCKER_7_is_skipped():
    # checkov cannot resolve `FROM ${BUILD_BASE}`; this keeps the skip's reason true.
    defaults = [(path, match[1]) for path in scan.dockerfiles(PATHS.apps)
                for match in re.finditer(r"^ARG\s+\w*BASE\w*=(\S+)", path.read_text(), re.MULTILINE)]
    assert defaults
    for path, image in defaults:
        name = image.split("@")[0].rsplit("/", 1)[-1]
        assert ":" in name and not name.endswith(":latest"), (path, image)


def test_scan_paths_lie_under_the_project_unless_one_is_given(tmp_path):
    paths = scan.ScanPaths.under(tmp_path, skips=tmp_path / "elsewhere" / "skips.yaml", apps=None)
    project = tmp_path.resolve()
    assert (paths.project, paths.checkov, paths.apps, paths.policy_config, paths.rendered) == (
        project, project / ".venv-checkov" / "bin" / "checkov", project / "apps", project / "policies" / "config", project / "rendered")
    assert paths.skips == tmp_path / "elsewhere" / "skips.yaml"
    assert scan.relative(project / "rendered" / "dev", project) == "rendered/dev"
    assert scan.relative(ROOT / "apps", project) == str(ROOT / "apps")  # outside the project: as it is
