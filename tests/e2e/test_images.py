"""Images built for real by `pulumi up`: pushed, pinned by digest, runnable hardened, on budget."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Iterator

import docker
import pytest
from pulumi import automation as auto

from leanstack.images.targets import preview_facts

pytestmark = pytest.mark.e2e


def wait_for_health(url: str, timeout: float = 20.0) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return time.monotonic() - start
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"{url} did not answer 200 within {timeout}s")


def test_built_api_image_runs_hardened_and_answers_health(project):
    _, events = project.up("dev")
    ref = events.outputs["images"]["api"]
    assert ref.startswith("127.0.0.1:5000/leanstack/api:dev@sha256:")
    client = docker.from_env()
    client.images.pull(ref)  # from the local registry: the push really happened
    assert client.images.get(ref).attrs["Size"] <= 70_000_000  # api on the floor, uncompressed (docs/images.md)
    container = client.containers.run(
        ref, detach=True, read_only=True, tmpfs={"/tmp": "size=64m"}, user="10001:10001", cap_drop=["ALL"],
        security_opt=["no-new-privileges"], ports={"8080/tcp": ("127.0.0.1", None)},
    )
    try:
        container.reload()
        port = container.ports["8080/tcp"][0]["HostPort"]
        wait_for_health(f"http://127.0.0.1:{port}/health")
    finally:
        container.remove(force=True)
        client.close()


PG_BIN = Path("/usr/lib/postgresql/15/bin")  # Debian's postgresql-15, as the apps' own tests use it
TLS_PROBE = """
import sys, psycopg
with psycopg.connect(host="127.0.0.1", port=sys.argv[1], user="postgres", dbname="postgres", sslmode="require") as c:
    ssl, version = c.execute("select ssl, version from pg_stat_ssl where pid = pg_backend_pid()").fetchone()
    libraries = sorted({line.split()[-1] for line in open("/proc/self/maps") if "libssl" in line or "libcrypto" in line})
    print(c.pgconn.ssl_in_use, ssl, version, *libraries)
"""


@contextlib.contextmanager
def tls_postgres() -> Iterator[int]:
    """A Postgres on a free 127.0.0.1 port that speaks TLS (a self-signed certificate), as Debian's
    postgres user when run as root (initdb refuses root; its directory sits directly under the temp
    dir, which that user can enter, unlike pytest's tmp_path)."""
    for tool in (PG_BIN / "postgres", Path(shutil.which("openssl") or "openssl")):
        if not tool.exists():
            pytest.skip(f"{tool} missing: apt-get install postgresql-15 openssl")
    as_user = {"user": "postgres", "group": "postgres", "extra_groups": []} if os.geteuid() == 0 else {}
    root = Path(tempfile.mkdtemp(prefix="leanstack-tls-pg-"))
    data, server = root / "data", None
    try:
        if as_user:
            shutil.chown(root, "postgres", "postgres")
        subprocess.run([str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust"], check=True,
                       capture_output=True, **as_user)
        subprocess.run(["openssl", "req", "-new", "-x509", "-days", "1", "-nodes", "-subj", "/CN=127.0.0.1",
                        "-keyout", str(data / "server.key"), "-out", str(data / "server.crt")], check=True,
                       capture_output=True, **as_user)
        (data / "server.key").chmod(0o600)  # postgres refuses a key others can read
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        server = subprocess.Popen([str(PG_BIN / "postgres"), "-D", str(data), "-p", str(port), "-k", str(root),
                                   "-c", "listen_addresses=127.0.0.1", "-c", "ssl=on"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **as_user)
        deadline = time.monotonic() + 30
        while subprocess.run([str(PG_BIN / "pg_isready"), "-h", "127.0.0.1", "-p", str(port)],
                             capture_output=True).returncode != 0:
            assert time.monotonic() < deadline and server.poll() is None, "postgres did not start"
            time.sleep(0.2)
        yield port
    finally:
        if server is not None:
            server.send_signal(signal.SIGINT)  # fast shutdown
            server.wait(timeout=30)
        shutil.rmtree(root, ignore_errors=True)


def test_the_api_images_libpq_speaks_tls_through_the_floors_openssl(project):
    """apps/api/Dockerfile relinks psycopg-binary's libpq to the floor's libssl/libcrypto instead of
    keeping the wheel's own copy: a TLS session with a real Postgres, from the hardened container."""
    _, events = project.up("dev")
    ref = events.outputs["images"]["api"]
    with tls_postgres() as port:
        result = subprocess.run(["docker", "run", "--rm", "--network", "host", "--read-only", "--tmpfs", "/tmp",
                                 "--user", "10001", "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
                                 ref, "python", "-c", TLS_PROBE, str(port)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    in_use, ssl, version, *libraries = result.stdout.split()
    assert (in_use, ssl) == ("True", "True") and version.startswith("TLSv1."), result.stdout
    assert libraries == ["/usr/lib/x86_64-linux-gnu/libcrypto.so.3", "/usr/lib/x86_64-linux-gnu/libssl.so.3"]


def test_an_image_over_budget_fails_up_and_leaves_its_deployment_unchanged(project):
    project.up("dev")
    deployment_before = project.rendered("dev")["Deployment/api"]
    state_before = project.stack("dev").export_stack().deployment

    def tight_budget_and_new_env(config):
        api = config["services"]["api"]
        api["image"]["build"]["size_budget"] = "10Mi"
        api["env"]["FEATURE_FLAG"] = "on"  # would update the Deployment if the image were accepted

    project.edit_config("dev", tight_budget_and_new_env)
    with pytest.raises(auto.CommandError) as error:
        project.up("dev")
    assert "of service api is" in str(error.value)
    assert "over its size budget 10Mi (services.api.image.build.size_budget)" in str(error.value)
    assert project.rendered("dev")["Deployment/api"] == deployment_before
    deployments = [r for r in project.stack("dev").export_stack().deployment["resources"]
                   if r["type"] == "kubernetes:apps/v1:Deployment" and r["urn"].endswith("api-deployment")]
    before = [r for r in state_before["resources"] if r["urn"] == deployments[0]["urn"]]
    assert deployments[0]["inputs"] == before[0]["inputs"]


def test_a_source_change_shows_the_images_old_and_new_size_in_cost_before_up_pushes_it(project, tmp_path):
    """The real engine's preview of an edited api source: the Image's old digest in state is read from
    the registry; dev builds on preview, so the new build, which no registry holds, is read from the
    OCI layout its layout Image wrote. Then `up` pushes an image of that size."""
    _, events = project.up("dev")
    old_ref = events.outputs["images"]["api"]
    (project.directory / "apps" / "api" / "app" / "changed.py").write_text("CHANGED = 'x' * 1\n" + "#" * 200_000 + "\n")
    run = [sys.executable, "-m", "leanstack.cli", "cost", "--stack", "dev", "--work-dir", str(project.directory)]
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run([*run, "--format", "json"], env=project.env, capture_output=True, text=True,
                            timeout=600, cwd=root)
    assert result.returncode == 0, result.stderr
    images = {image["image"]: image for image in json.loads(result.stdout)["images"]}
    assert set(images) == {"api-image", "web-image", "worker-image"}  # the layout Images are no rows of their own
    api = images["api-image"]
    assert (api["op"], api["old_ref"], api["new_ref"], api["note"]) == ("update", old_ref, None, "")
    assert api["old"]["size"] > 10_000_000 and 0.9 <= api["old"]["efficiency"] <= 1
    # The new file adds its 200 kB to the image, in one layer of the build.
    assert 190_000 <= api["new"]["size"] - api["old"]["size"] <= 260_000, (api["old"], api["new"])
    assert api["built_digest"].startswith("sha256:")
    assert images["worker-image"]["op"] == "same" and images["worker-image"]["new"] == images["worker-image"]["old"]
    assert project.stack("dev").outputs()["images"].value["api"] == old_ref  # the preview pushed nothing
    markdown = subprocess.run([*run, "--format", "comment"], env=project.env, capture_output=True, text=True,
                              timeout=600, cwd=root)
    assert markdown.returncode == 0, markdown.stderr
    sizes = f"{api['old']['size'] / 1e6:.1f} MB ({api['old']['efficiency']:.1%}) -> {api['new']['size'] / 1e6:.1f} MB"
    assert f"| ~ update | `api-image` | {sizes}" in markdown.stdout
    _, events = project.up("dev")
    new_ref = events.outputs["images"]["api"]
    assert new_ref != old_ref
    pushed = preview_facts(new_ref, cache=tmp_path / "facts")
    assert (pushed.size, round(pushed.efficiency, 6)) == (api["new"]["size"], round(api["new"]["efficiency"], 6))