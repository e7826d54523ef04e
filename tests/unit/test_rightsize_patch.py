"""Right-sizing writes into a stack file: only the changed values move, and a patch the schema
refuses never reaches the disk."""

from __future__ import annotations

import difflib
import shutil

import pytest

from leanstack.config.stack_file import load_stack_file
from leanstack.rightsize import Evidence, Recommendation, Replicas, Resources
from leanstack.rightsize.patch import PatchError, current_specs, patch_stack_text, validated, write_stack_file
from tests.unit.conftest import shop_file, small_stack

EVIDENCE = Evidence(window_seconds=86400, step_seconds=300, pods=2, cpu_samples=288, memory_samples=288,
                    history_seconds=86100)


def recommendation(service: str, new: Resources | None, replicas: Replicas | None = None) -> Recommendation:
    current = current_specs(load_stack_file(shop_file("prod")))[service]
    hpa = current.autoscaling
    return Recommendation(service, "krr", current.resources, new, EVIDENCE, ("test",),
                          Replicas(hpa.min_replicas, hpa.max_replicas) if hpa else None, replicas)


def changed_lines(before: str, after: str) -> list[str]:
    return [line.rstrip("\n") for line in difflib.unified_diff(before.splitlines(True), after.splitlines(True), n=0)
            if line[:1] in "+-" and not line.startswith(("+++", "---"))]


def test_only_the_changed_values_move_and_comments_stay():
    text = shop_file("prod").read_text()
    patched, changes = patch_stack_text(text, [
        recommendation("api", Resources("90m", "180m", "256Mi", "256Mi"), Replicas(2, 3)),
        # redis: 0.05 is its current 50m written another way, so that value is left as written
        recommendation("redis", Resources("0.05", "200m", "128Mi", "128Mi")),
        recommendation("postgres", None),  # left alone
    ], "Pulumi.prod.yaml")
    assert changed_lines(text, patched) == [
        "-        requests: {cpu: 250m, memory: 384Mi}",
        "-        limits: {cpu: 500m, memory: 512Mi}",
        "+        requests: {cpu: 90m, memory: 256Mi}",
        "+        limits: {cpu: 180m, memory: 256Mi}",
        "-        max_replicas: 6",
        "+        max_replicas: 3",
        "-        limits: {cpu: 200m, memory: 192Mi, ephemeral_storage: 1280Mi}",
        "+        limits: {cpu: 200m, memory: 128Mi, ephemeral_storage: 1280Mi}",
    ]
    assert [str(change) for change in changes] == [
        "services.api.resources.requests.cpu: 250m -> 90m",
        "services.api.resources.requests.memory: 384Mi -> 256Mi",
        "services.api.resources.limits.cpu: 500m -> 180m",
        "services.api.resources.limits.memory: 512Mi -> 256Mi",
        "services.api.autoscaling.max_replicas: 6 -> 3",
        "services.redis.resources.limits.memory: 192Mi -> 128Mi",
    ]
    comments = [line for line in text.splitlines() if line.lstrip().startswith("#")]
    assert comments and comments == [line for line in patched.splitlines() if line.lstrip().startswith("#")]
    config = validated(shop_file("prod"), patched)
    assert config.services["api"].resources.requests.cpu == "90m"
    assert config.services["api"].autoscaling.max_replicas == 3


def test_quoted_values_stay_quoted():
    text = shop_file("prod").read_text().replace("{cpu: 250m, memory: 384Mi}", '{cpu: "250m", memory: 384Mi}')
    patched, _ = patch_stack_text(text, [recommendation("api", Resources("90m", "500m", "384Mi", "512Mi"))])
    assert changed_lines(text, patched) == ['-        requests: {cpu: "250m", memory: 384Mi}',
                                            '+        requests: {cpu: "90m", memory: 384Mi}']


def test_nothing_to_change_returns_the_text_untouched():
    text = shop_file("prod").read_text()
    same = recommendation("web", Resources("25m", "100m", "48Mi", "96Mi"), Replicas(2, 4))
    assert patch_stack_text(text, [same]) == (text, [])


def test_an_invalid_patch_is_refused_in_one_line_and_the_file_is_untouched(tmp_path):
    path = tmp_path / "Pulumi.prod.yaml"
    shutil.copy(shop_file("prod"), path)
    before = path.read_text()
    patched, _ = patch_stack_text(before, [recommendation("web", Resources("25m", "100m", "0Mi", "96Mi"))], path.name)
    with pytest.raises(PatchError) as refused:
        write_stack_file(path, patched)
    message = str(refused.value)
    assert "\n" not in message
    assert message.startswith("Pulumi.prod.yaml: services.web.resources.requests.memory: '0Mi' is zero; "
                              "use a positive quantity")
    assert path.read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Pulumi.prod.yaml"]  # no temporary file left


def test_a_valid_patch_is_written(tmp_path):
    path = tmp_path / "Pulumi.prod.yaml"
    shutil.copy(shop_file("prod"), path)
    patched, _ = patch_stack_text(path.read_text(), [recommendation("web", Resources("30m", "100m", "48Mi", "96Mi"))])
    write_stack_file(path, patched)
    assert path.read_text() == patched
    assert load_stack_file(path).services["web"].resources.requests.cpu == "30m"



def test_current_specs_know_which_services_probe_with_a_command():
    services = small_stack().services
    db = services["db"].model_dump(exclude_unset=True)
    config = small_stack(services={
        "api": services["api"].model_dump(exclude_unset=True),
        "db": db,
        "db-exec": {**db, "probes": {"type": "exec", "command": ["pg_isready"]}},
        "db-ready": {**db, "probes": {"type": "tcp", "readiness_command": ["pg_isready"]}},
    })
    assert {name: spec.exec_probes for name, spec in current_specs(config).items()} == {
        "api": False, "db": False, "db-exec": True, "db-ready": True}
