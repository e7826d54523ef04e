"""Reading images (a registry over HTTP, a `docker save` stream) and `leanstack images` on bad input."""

import hashlib
import io
import json
import re
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from typer.testing import CliRunner

from leanstack.cli import app
from leanstack.config.errors import ConfigError
from leanstack.config.stack_file import load_stack_text
from leanstack.images.source import ChunkStream, ImageReadError, Reference, Registry, read_image, read_saved
from tests.unit.conftest import shop_file
from tests.unit.image_tars import docker_save, image_config, layer_tar

runner = CliRunner()
LAYERS = [layer_tar(("file", "usr/bin/python3", 500), ("file", "usr/bin/bash", 100), compress=True),
          layer_tar(("dir", "app"), ("file", "app/main.py", 50), ("file", "app/big.bin", 4000), compress=True),
          layer_tar(("whiteout", "app/big.bin"), compress=True)]
CONFIG = image_config("ADD rootfs", "COPY app/ /app/ # buildkit", "RUN rm /app/big.bin # buildkit")


def digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


class FakeRegistry(BaseHTTPRequestHandler):
    """Distribution-spec reads of one image, `shop/api:dev`, behind an index as BuildKit pushes it;
    `built/<any service>:dev` serves the same image, as a stack's pushed builds."""

    blobs = {digest(blob): blob for blob in [json.dumps(CONFIG).encode(), *LAYERS]}
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                           "config": {"digest": digest(json.dumps(CONFIG).encode())},
                           "layers": [{"digest": digest(layer)} for layer in LAYERS]}).encode()
    index = json.dumps({"mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [
        {"digest": "sha256:" + "0" * 64, "platform": {"os": "linux", "architecture": "arm64"}},
        {"digest": digest(manifest), "platform": {"os": "linux", "architecture": "amd64"}}]}).encode()

    def do_GET(self):  # noqa: N802 (http.server's name)
        routes = {"/v2/shop/api/manifests/dev": self.index, f"/v2/shop/api/manifests/{digest(self.manifest)}": self.manifest,
                  **{f"/v2/shop/api/blobs/{d}": blob for d, blob in self.blobs.items()}}
        body = routes.get(re.sub(r"^/v2/built/[a-z]+/", "/v2/shop/api/", self.path))
        self.send_response(200 if body else 404)
        self.end_headers()
        self.wfile.write(body or b'{"errors": [{"code": "MANIFEST_UNKNOWN"}]}')

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def registry():
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeRegistry)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="module")
def closed_port():
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeRegistry)
    port = server.server_address[1]
    server.server_close()
    return port


@pytest.mark.parametrize(("ref", "parsed"), [
    ("127.0.0.1:5000/leanstack/api:dev", ("127.0.0.1:5000", "leanstack/api", "dev")),
    ("localhost/api", ("localhost", "api", "latest")),
    (f"ghcr.io/org/app@sha256:{'a' * 64}", ("ghcr.io", "org/app", f"sha256:{'a' * 64}")),
    ("leanstack/api:dev", (None, "leanstack/api", "dev")),
])
def test_a_ref_names_a_registry_only_when_its_first_part_is_a_host(ref, parsed):
    assert Reference.parse(ref) == Reference(*parsed)


@pytest.mark.parametrize(("ref", "base"), [("127.0.0.1:5000/a/b:c", "http://127.0.0.1:5000/v2/a/b"),
                                          ("localhost:5000/b", "http://localhost:5000/v2/b"),
                                          ("ghcr.io/org/app:1", "https://ghcr.io/v2/org/app")])
def test_loopback_registries_are_plain_http_and_the_rest_https(ref, base):
    assert Registry(ref, Reference.parse(ref), 1).base == base


def test_an_image_is_read_over_the_registry_api_through_its_index(registry):
    image = read_image(f"{registry}/shop/api:dev")
    assert image.digests == [digest(layer) for layer in LAYERS]
    assert [[entry.path for entry in layer] for layer in image.layers] == [
        ["/usr/bin/python3", "/usr/bin/bash"], ["/app", "/app/main.py", "/app/big.bin"], ["/app/big.bin"]]


def test_a_docker_save_stream_is_read_in_one_pass_shared_layers_included():
    plain = [layer_tar(("file", "a", 1)), layer_tar(("file", "b", 2))]
    archive = docker_save(CONFIG, [plain[0], plain[1], plain[0]])
    chunks = (archive[at:at + 1000] for at in range(0, len(archive), 1000))  # as the SDK's save() yields it
    image = read_saved("x:y", io.BufferedReader(ChunkStream(chunks)))
    assert [[entry.path for entry in layer] for layer in image.layers] == [["/a"], ["/b"], ["/a"]]
    assert image.config["history"][1]["created_by"] == "ADD rootfs"


def test_images_prints_layers_efficiency_and_findings_as_json(registry):
    result = runner.invoke(app, ["images", f"{registry}/shop/api:dev", "--format", "json"])
    assert result.exit_code == 3  # 4000 of 4050 user bytes wasted breaks dive's default rules
    (report,) = json.loads(result.stdout)
    assert [layer["instruction"] for layer in report["layers"]] == ["ADD rootfs", "COPY app/ /app/", "RUN rm /app/big.bin"]
    assert report["efficiency"]["wasted_bytes"] == 4000
    assert [(f["kind"], f["layer"], f["bytes"]) for f in report["findings"]] == [("shells", 0, 100)]
    assert f"image {registry}/shop/api:dev breaks dive rule lowestEfficiency (dive's default): efficiency" in result.stderr


def test_images_markdown_shows_the_same_sections(registry):
    result = runner.invoke(app, ["images", f"{registry}/shop/api:dev", "--format", "markdown"])
    for title in ("**Layers**", "**Largest directories**", "**Findings**", "**Rules (dive)**"):
        assert title in result.stdout


@pytest.mark.parametrize(("ref", "message"), [
    ("{registry}/shop/nope:dev", "image {registry}/shop/nope:dev: not found in registry {registry} (HTTP 404 for manifests)"),
    ("127.0.0.1:{closed}/shop/api:dev", "image 127.0.0.1:{closed}/shop/api:dev: registry 127.0.0.1:{closed} does not answer ("),
])
def test_an_image_that_cannot_be_read_is_one_line_naming_it_and_nothing_is_written(registry, closed_port, tmp_path,
                                                                                     ref, message):
    ref, message = (text.format(registry=registry, closed=closed_port) for text in (ref, message))
    result = runner.invoke(app, ["images", ref, "--work-dir", str(tmp_path)])
    assert result.exit_code == 1
    assert result.stderr.startswith(message) and result.stderr.count("\n") == 1
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ImageReadError):
        read_image(ref, timeout=5)


def test_an_image_missing_from_the_engine_is_named_as_written(monkeypatch):
    class NoEngine:
        class errors:  # noqa: N801  (the docker SDK's module layout)
            DockerException = ImageNotFound = Exception

        @staticmethod
        def from_env():
            raise NoEngine.errors.DockerException("connection refused")

    monkeypatch.setitem(sys.modules, "docker", NoEngine)
    result = runner.invoke(app, ["images", "shop/api:x"])
    assert result.exit_code == 1
    assert result.stderr == "image shop/api:x: no Docker engine answers (connection refused)\n"


def test_images_of_a_stack_are_held_to_its_rules_and_a_broken_one_names_its_key_path(registry, tmp_path):
    text = shop_file("dev").read_text().replace(
        "size_budget: 150Mi", "size_budget: 150Mi\n          rules: {highestUserWastedPercent: disabled}", 1)
    (tmp_path / "Pulumi.dev.yaml").write_text(text + f"  leanstack:registry: {{server: '{registry}', prefix: built}}\n")
    result = runner.invoke(app, ["images", "--stack", "dev", "--work-dir", str(tmp_path), "--format", "json"])
    assert result.exit_code == 3
    assert [report["ref"] for report in json.loads(result.stdout)] == [
        f"{registry}/built/{service}:dev" for service in ("api", "worker", "web")]
    broken = result.stderr.splitlines()
    assert broken[0] == (f"image {registry}/built/api:dev breaks dive rule lowestEfficiency "
                         "(services.api.image.build.rules.lowestEfficiency): efficiency 0.1398 is below 0.9")  # 650 / 4650
    assert not any("built/api:dev breaks dive rule highestUserWastedPercent" in line for line in broken)
    assert f"image {registry}/built/worker:dev breaks dive rule highestUserWastedPercent " \
           "(services.worker.image.build.rules.highestUserWastedPercent)" in result.stderr


def test_a_rule_out_of_range_is_one_config_error_naming_its_key_path(tmp_path):
    text = shop_file("dev").read_text().replace(
        "size_budget: 150Mi", "size_budget: 150Mi\n          rules: {lowestEfficiency: 1.5}", 1)
    with pytest.raises(ConfigError) as error:
        load_stack_text(text, "Pulumi.dev.yaml")
    assert str(error.value) == ("Pulumi.dev.yaml: services.api.image.build.rules.lowestEfficiency: 1.5 is out of range; "
                                "use a ratio from 0 to 1 (0.9 means 90%) or disabled")
    (tmp_path / "Pulumi.dev.yaml").write_text(text)
    result = runner.invoke(app, ["images", "--stack", "dev", "--work-dir", str(tmp_path)])
    assert result.exit_code == 2 and result.stderr.count("\n") == 1
    assert (tmp_path / "Pulumi.dev.yaml").read_text() == text and len(list(tmp_path.iterdir())) == 1
