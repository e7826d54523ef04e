"""Network policy truth by packets for the prod stack on the real node (the dev stack's run is in
test_node.py): every TCP connect from inside each pod's network namespace equals the table the stack
config implies. A module of its own, so dev's stack is gone before prod's starts (one node, 2 cores)."""

from __future__ import annotations

import pytest

from leanstack.config.stack_file import load_stack_file
from leanstack.scan import reachability as r
from tests.e2e.conftest import make_project
from tests.e2e.live import unique_namespace
from tests.e2e.node import live_model, measured_table, point_at_real_node, probe_peers

pytestmark = pytest.mark.e2e


def test_real_connections_in_prod_equal_the_table_the_stack_config_implies(tmp_path, cluster):
    project = make_project(tmp_path)
    namespace = unique_namespace("node-prod")
    project.edit_config("prod", lambda config: point_at_real_node(config, cluster, namespace, await_timeout=300))
    try:
        project.up("prod")
        config = load_stack_file(project.directory / "Pulumi.prod.yaml")
        with probe_peers(cluster, config) as (ingress, outsider):
            expected, measured = measured_table(live_model(config, namespace, cluster, ingress, outsider), config)
        differences = r.compare(expected, measured)
        assert differences == [], "\n".join(differences)
        allowed = sum(measured.values())
        assert 0 < allowed < len(measured)
        print(f"\nprod reachability by packets: {len(measured)} cells, {allowed} open, "
              f"{len(measured) - allowed} refused, 0 differences")
    finally:
        project.stack("prod").destroy()
