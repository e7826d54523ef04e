from leanstack.config.docs import render_markdown
from tests.unit.conftest import ROOT


def test_configuration_reference_matches_the_models():
    committed = (ROOT / "docs" / "configuration.md").read_text()
    assert committed == render_markdown(), "regenerate: python -m leanstack.config.docs > docs/configuration.md"


def test_every_config_key_is_documented():
    text = render_markdown()
    for key in ("min_replicas", "size_budget", "extra_writable_paths", "allow_from", "secret_env", "render_dir"):
        assert f"| `{key}` |" in text
