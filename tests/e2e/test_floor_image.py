"""The floor runtime base (scripts/base-images.sh, docs/images.md): what it holds, read from the
registry by leanstack.images, and a Python that works under the pod's hardening flags."""

from __future__ import annotations

import os
import subprocess

import pytest

from leanstack.images.filesystem import stack
from leanstack.images.source import ImageReadError, read_image

pytestmark = pytest.mark.e2e

REPO = f"{os.environ.get('REGISTRY', '127.0.0.1:5000')}/leanstack/python"
HARDENED = ["--read-only", "--tmpfs", "/tmp", "--user", "10001", "--cap-drop", "ALL",
            "--security-opt", "no-new-privileges", "--network", "none"]
# Shells, package managers, perl, coreutils and downloaders, by the names they run as.
FORBIDDEN = {"sh", "bash", "dash", "ash", "busybox", "dpkg", "dpkg-query", "dpkg-deb", "apt", "apt-get", "apt-cache",
             "perl", "ls", "cat", "cp", "mv", "rm", "env", "chmod", "id", "curl", "wget", "pip", "pip3"}


def files_of(tag: str) -> dict:
    try:
        return stack(read_image(f"{REPO}:{tag}").layers)[0]
    except ImageReadError as error:
        pytest.skip(f"{error}: run scripts/base-images.sh")


@pytest.fixture(scope="module")
def floor() -> dict:
    return files_of("3.11-floor")


def test_the_floor_holds_no_shell_package_manager_perl_or_coreutils(floor):
    # Files and links only: /var/lib/dpkg/status.d is data for image scanners, not dpkg.
    forbidden = sorted(path for path, node in floor.items() if not node.is_dir and path.rsplit("/", 1)[-1] in FORBIDDEN)
    assert forbidden == []
    assert [p for p in floor if p.startswith(("/usr/share/perl", "/usr/lib/x86_64-linux-gnu/perl", "/etc/apt",
                                              "/usr/lib/apt", "/var/lib/apt"))] == []
    assert "/usr/bin/python3.11" in floor and "/etc/ssl/certs/ca-certificates.crt" in floor
    # glibc's stubs that manylinux wheels link (pydantic_core links librt.so.1)
    assert {"/usr/lib/x86_64-linux-gnu/librt.so.1", "/usr/lib/x86_64-linux-gnu/libpthread.so.0",
            "/usr/lib/x86_64-linux-gnu/libdl.so.2"} <= set(floor)


def test_the_floors_stdlib_has_no_tests_idle_tk_or_ensurepip(floor):
    stdlib = "/usr/lib/python3.11/"
    dropped = ("test", "idlelib", "tkinter", "ensurepip", "pydoc_data", "lib2to3", "turtledemo")
    assert [p for p in floor if p.startswith(tuple(stdlib + name + "/" for name in dropped))] == []
    assert [p for p in floor if p.startswith(stdlib) and "/tests/" in p] == []


def test_the_floor_is_at_most_50_MB_uncompressed(floor):
    assert sum(node.size for node in floor.values()) <= 50_000_000


def test_the_debug_variant_adds_a_shell():
    debug = files_of("3.11-floor-debug")
    assert "/usr/bin/busybox" in debug and "/usr/bin/sh" in debug


PROBE = """
import pwd, ssl, sqlite3, zoneinfo, ctypes, decimal, hashlib, lzma, bz2, zlib, uuid, json, urllib.request
assert pwd.getpwuid(10001).pw_name == "app"
assert ssl.create_default_context().cert_store_stats()["x509_ca"] > 100
assert zoneinfo.ZoneInfo("Europe/Berlin").key == "Europe/Berlin"
sqlite3.connect(":memory:").execute("select 1")
try:
    import test.support
except ImportError:
    print("ok")
"""


def test_python_runs_on_the_floor_under_the_pods_hardening(floor):
    result = subprocess.run(["docker", "run", "--rm", *HARDENED, f"{REPO}:3.11-floor", "python3", "-c", PROBE],
                            capture_output=True, text=True, timeout=120)
    assert (result.returncode, result.stdout.strip()) == (0, "ok"), result.stderr
    no_shell = subprocess.run(["docker", "run", "--rm", *HARDENED, f"{REPO}:3.11-floor", "sh", "-c", "true"],
                              capture_output=True, text=True, timeout=120)
    assert no_shell.returncode != 0
