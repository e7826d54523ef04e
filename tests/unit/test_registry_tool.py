"""tools.registry, which the image scripts ask for a tag's digest and content-hash label."""

from __future__ import annotations

import json

import pytest

from tools.registry import MANIFEST_V2, RegistryError, digest, label, main, split_ref

CONFIG = "sha256:" + "c" * 64
MANIFEST = "sha256:" + "a" * 64


def registry(labels):
    """A registry holding 127.0.0.1:5000/leanstack/redis:7 whose config has `labels`."""
    def fetch(url, accept):
        if url == "http://127.0.0.1:5000/v2/leanstack/redis/manifests/7":
            assert accept == MANIFEST_V2  # else the registry answers with a v1 schema and another digest
            return {"docker-content-digest": MANIFEST}, json.dumps({"config": {"digest": CONFIG}}).encode()
        if url == f"http://127.0.0.1:5000/v2/leanstack/redis/blobs/{CONFIG}":
            return {}, json.dumps({"config": {"Labels": labels}}).encode()
        return None
    return fetch


def test_a_tag_has_the_digest_and_labels_the_registry_serves_and_an_absent_one_has_none():
    fetch = registry({"org.leanstack.base.hash": "0123"})
    assert digest("127.0.0.1:5000/leanstack/redis:7", fetch) == MANIFEST
    assert label("127.0.0.1:5000/leanstack/redis:7", "org.leanstack.base.hash", fetch) == "0123"
    assert label("127.0.0.1:5000/leanstack/redis:7", "other", registry(None)) == ""
    assert digest("127.0.0.1:5000/leanstack/redis:8", fetch) is None
    assert label("127.0.0.1:5000/leanstack/postgres:15", "org.leanstack.base.hash", fetch) is None


@pytest.mark.parametrize("ref", ["redis:7", "127.0.0.1:5000/leanstack/redis", "127.0.0.1:5000/r:7@sha256:" + "a" * 64])
def test_a_reference_without_host_or_tag_is_refused_naming_the_form(ref):
    with pytest.raises(RegistryError, match="is not HOST/REPOSITORY:TAG"):
        split_ref(ref)


def test_an_unreachable_registry_is_one_line_and_exit_1(capsys):
    assert main(["digest", "127.0.0.1:9/leanstack/redis:7"]) == 1
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("tools.registry: http://127.0.0.1:9/v2/leanstack/redis/manifests/7:")
