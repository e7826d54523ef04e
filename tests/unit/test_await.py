"""What `pulumi up` waits for and owns on a live cluster: an Ingress only when its controller publishes
an address, a Service never (its workload's readiness is awaited), a workload at most as long as the
stack says; and every field it declares, so drift made with kubectl is taken back."""

from leanstack.render import network, workload
from tests.unit.conftest import service_context, small_stack

SMALL = small_stack()
IMAGE = "127.0.0.1:5000/leanstack/web@sha256:" + "c" * 64


def context(config, name):
    return service_context(config, name, IMAGE)


def test_an_ingress_is_not_awaited_unless_the_controller_publishes_status():
    skipped = network.ingress(context(SMALL, "api"))
    assert skipped["metadata"]["annotations"] == {"pulumi.com/skipAwait": "true"}
    publishing = SMALL.model_copy(update={"ingress_publishes_status": True})
    assert "annotations" not in network.ingress(context(publishing, "api"))["metadata"]


def test_the_await_timeout_of_workloads_comes_from_the_stack():
    assert "annotations" not in workload.deployment(context(SMALL, "api"), IMAGE)["metadata"]
    bounded = SMALL.model_copy(update={"kubernetes": SMALL.kubernetes.model_copy(update={"await_timeout_seconds": 30})})
    assert workload.deployment(context(bounded, "api"), IMAGE)["metadata"]["annotations"] == {"pulumi.com/timeoutSeconds": "30"}


def test_services_are_not_awaited_their_workloads_are():
    assert network.service(context(SMALL, "api"))["metadata"]["annotations"]["pulumi.com/skipAwait"] == "true"


def test_every_registered_object_takes_back_drifted_fields_but_priced_manifests_stay_as_rendered(prod):
    kubernetes = [r for r in prod.resources if r.typ.startswith("kubernetes:") and not r.typ.startswith("pulumi:")]
    assert kubernetes and all(r.inputs["metadata"]["annotations"]["pulumi.com/patchForce"] == "true" for r in kubernetes)
    assert "annotations" not in workload.deployment(context(SMALL, "api"), IMAGE)["metadata"]


def test_a_workload_starts_only_after_its_account_secrets_and_network_policy_exist(dev):
    # On a live cluster a pod created before its ServiceAccount fails, and the ReplicaSet backs off
    # for minutes (measured: one `up` took 199.5 s instead of 13 s).
    needs = {urn.rsplit("::", 1)[1] for urn in dev.dependencies["api-deployment"]}
    assert {"api-sa", "api-files", "api-netpol"} <= needs
