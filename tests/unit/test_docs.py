from leanstack.config import walk
from leanstack.config.docs import render_markdown
from leanstack.config.schema import ExtraContainer, ServiceSpec, StackConfig
from tests.unit.conftest import ROOT


def test_configuration_reference_matches_the_models():
    committed = (ROOT / "docs" / "configuration.md").read_text()
    assert committed == render_markdown(), "regenerate: python -m leanstack.config.docs > docs/configuration.md"


def test_every_config_key_is_documented():
    text = render_markdown()
    for key in ("min_replicas", "size_budget", "extra_writable_paths", "allow_from", "secret_env", "render_dir"):
        assert f"| `{key}` |" in text


def test_the_loader_and_the_docs_walk_the_schema_the_same_way():
    services = walk.step(StackConfig, "services")
    assert walk.models_in(services)[0] == (ServiceSpec, ".<name>")
    service = walk.step(services, "api")
    assert walk.model_of(service) is ServiceSpec
    assert walk.model_of(walk.step(walk.step(service, "sidecars"), "0")) is ExtraContainer
    assert walk.model_of(walk.step(service, "image")) is not None and walk.step(service, "nothing") is None
