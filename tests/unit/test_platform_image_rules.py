"""A built image that breaks its dive rules fails `up` for that image before its workloads change."""

import io

import pytest

from leanstack.components.image import ImageBreaksRules
from leanstack.images.filesystem import read_layer
from leanstack.images.source import ImageContents
from tests.unit.conftest import RecordingMocks, run_platform, stack_config
from tests.unit.image_tars import image_config, layer_tar

# A cache written in one layer and deleted in the next: efficiency 0.09, 99% of the user bytes wasted.
WASTEFUL = ImageContents("api", image_config("ADD base", "RUN pip install", "RUN rm /root/.cache/pip/x"), ["a", "b", "c"], [
    read_layer(io.BytesIO(tar)) for tar in (layer_tar(("file", "base", 100)),
                                            layer_tar(("file", "root/.cache/pip/x", 1000), ("file", "app.py", 10)),
                                            layer_tar(("whiteout", "root/.cache/pip/x")))])


def test_an_image_breaking_its_dive_rules_fails_before_its_workload_is_registered():
    mocks = RecordingMocks()
    with pytest.raises(ImageBreaksRules) as error:
        run_platform(stack_config("dev"), "dev", image_layers={"api": WASTEFUL}, mocks=mocks)
    registered = {r.name for r in mocks.registered}
    assert "api-image" in registered and "api-deployment" not in registered
    message = str(error.value)
    assert message.startswith("image 127.0.0.1:5000/leanstack/api:dev@sha256:")
    assert "breaks dive rule lowestEfficiency (services.api.image.build.rules.lowestEfficiency): efficiency 0.0" in message
    assert "breaks dive rule highestUserWastedPercent (services.api.image.build.rules.highestUserWastedPercent)" in message
    assert message.endswith("; its workloads were left unchanged")


def test_disabled_rules_let_the_same_image_through():
    config = stack_config("dev")
    api = config.services["api"]
    build = api.image.build.model_copy(update={"rules": type(api.image.build.rules).model_validate(
        {"lowestEfficiency": "disabled", "highestUserWastedPercent": "disabled"})})
    services = {**config.services, "api": api.model_copy(update={"image": api.image.model_copy(update={"build": build})})}
    run = run_platform(config.model_copy(update={"services": services}), "dev", image_layers={"api": WASTEFUL})
    assert "api" in run.kind("apps/v1:Deployment")
