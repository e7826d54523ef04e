"""Network policy reachability, judged by cyclonus (not our code): for every stack, cyclonus's
simulated probe of the rendered NetworkPolicies must equal the table the stack config implies
(leanstack.scan.reachability; docs/cluster.md, "Network policy reachability")."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from bench.scratch import ROOT
from leanstack.components.offline import write_manifests
from leanstack.config.stack_file import load_stack_file
from leanstack.scan import reachability as r

pytestmark = pytest.mark.e2e


def cyclonus_binary() -> Path:
    path = Path(subprocess.run([str(ROOT / "scripts" / "cyclonus.sh"), "path"], capture_output=True, text=True,
                               check=True).stdout.strip())
    if not os.access(path, os.X_OK):
        pytest.fail(f"cyclonus is not built ({path} missing): run scripts/cyclonus.sh (scripts/test does)")
    return path


def render(stack: str, directory: Path) -> tuple:
    config = load_stack_file(ROOT / f"Pulumi.{stack}.yaml")
    manifests = [yaml.safe_load(p.read_text()) for p in write_manifests(config, stack, directory, ROOT)]
    # cyclonus parses every file under --policy-path as a NetworkPolicy (strictly): give it only those
    policies = directory / "policies"
    policies.mkdir()
    for manifest in manifests:
        if manifest["kind"] == "NetworkPolicy":
            (policies / f"{manifest['metadata']['name']}.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))
    return config, manifests, policies


def analyze(binary: Path, policies: Path, model: r.ProbeModel, directory: Path) -> tuple[r.Table, float]:
    probe = directory / "probe.json"
    probe.write_text(json.dumps(model.to_cyclonus(), indent=1))
    started = time.monotonic()
    result = subprocess.run([str(binary), "analyze", "--mode", "probe", "--policy-path", str(policies),
                             "--probe-path", str(probe)], capture_output=True, text=True, timeout=120)
    elapsed = time.monotonic() - started
    (directory / "cyclonus.out").write_text(result.stdout)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return r.parse_cyclonus(result.stdout, model), elapsed


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_cyclonus_reachability_equals_what_the_config_declares(stack, tmp_path):
    binary = cyclonus_binary()
    config, manifests, policies = render(stack, tmp_path)
    model = r.probe_model(config, manifests)
    actual, elapsed = analyze(binary, policies, model, tmp_path)
    expected = r.expected_table(config, model)
    counts = r.counts(actual)
    print(f"{stack}: {len(model.pods)} pods x {len(model.probes)} probes: {counts}, cyclonus {elapsed:.3f} s")
    print("\n".join(r.allowed_connections(actual, config.namespace)))
    problems = r.compare(expected, actual)
    assert not problems, f"{len(problems)} cells differ:\n" + "\n".join(problems[:50])
    assert counts["allowed"] and counts["denied"]
    # the guarantees in words, on cyclonus's table (the comparison above already covers every cell)
    ns = config.namespace
    for name, spec in config.services.items():
        callers = {source for (source, destination, probe), ok in actual.items()
                   if ok and destination == f"{ns}/{name}" and source.startswith(f"{ns}/")}
        assert callers == {f"{ns}/{caller}" for caller in spec.allow_from
                           if name in config.services[caller].depends_on}, name
        ports = {probe for (_, destination, probe), ok in actual.items() if ok and destination == f"{ns}/{name}"}
        assert ports <= {f"{spec.port}/TCP"}, (name, ports)
        from_ingress = actual[(f"{config.ingress_namespace}/ingress-controller", f"{ns}/{name}", f"{spec.port}/TCP")] \
            if spec.port else False
        assert from_ingress is (spec.exposure == "public"), name
        assert actual[(f"{ns}/{name}", "kube-system/kube-dns", "53/UDP")]
        assert actual[(f"{ns}/{name}", "kube-system/kube-dns", "53/TCP")]
        assert not any(ok for (source, destination, _), ok in actual.items()
                       if source == f"{r.OUTSIDER_NAMESPACE}/outsider" and destination == f"{ns}/{name}")


def test_cyclonus_sees_a_policy_that_admits_too_much(tmp_path):
    """Negative control: widen postgres's policy to the outsider's namespace; the comparison must
    name exactly that cell, so an agreeing table means cyclonus really read our policies."""
    binary = cyclonus_binary()
    config, manifests, policies = render("dev", tmp_path)
    path = policies / "postgres.yaml"
    policy = yaml.safe_load(path.read_text())
    policy["spec"]["ingress"][0]["from"].append(
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": r.OUTSIDER_NAMESPACE}}})
    path.write_text(yaml.safe_dump(policy))
    model = r.probe_model(config, manifests)
    actual, _ = analyze(binary, policies, model, tmp_path)
    assert r.compare(r.expected_table(config, model), actual) == [
        f"{r.OUTSIDER_NAMESPACE}/outsider -> shop-dev/postgres on 5432/TCP: expected denied, cyclonus says allowed"]
