"""What `pulumi up` waits for on a live cluster: an Ingress only when its controller publishes an
address, a workload at most as long as the stack says."""

from leanstack.components.platform import service_args
from leanstack.render import network, workload
from tests.unit.conftest import stack_config

PROD = stack_config("prod")
IMAGE = "127.0.0.1:5000/leanstack/web@sha256:" + "c" * 64


def context(config, name):
    return service_args(config, name, IMAGE).context(name)


def test_an_ingress_is_not_awaited_unless_the_controller_publishes_status():
    skipped = network.ingress(context(PROD, "web"))
    assert skipped["metadata"]["annotations"] == {"pulumi.com/skipAwait": "true"}
    publishing = PROD.model_copy(update={"ingress_publishes_status": True})
    assert "annotations" not in network.ingress(context(publishing, "web"))["metadata"]


def test_the_await_timeout_of_workloads_comes_from_the_stack():
    assert "annotations" not in workload.deployment(context(PROD, "api"), IMAGE)["metadata"]
    bounded = PROD.model_copy(update={"kubernetes": PROD.kubernetes.model_copy(update={"await_timeout_seconds": 30})})
    assert workload.deployment(context(bounded, "api"), IMAGE)["metadata"]["annotations"] == {"pulumi.com/timeoutSeconds": "30"}
