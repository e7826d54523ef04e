"""The django-celery shop's images, built here as bench/images/floor.py builds them: seed 003's
"before" (bench/images/django-before/Dockerfile) and the optimized one on the floor.

`leanstack images` (read over the registry API) must name, on the before image, the JDK, gcc, the
site-packages tests, pip's cache and curl, each with its bytes and the layer that added it; those
bytes must equal a count of our own from the engine's copy of the image (`docker save` through the
docker SDK, its layer tars stacked here with their whiteouts). The optimized image passes the
stack file's gates (size_budget and dive's rules).
"""

from __future__ import annotations

import json
import posixpath
import subprocess
import tarfile
import tempfile
from decimal import Decimal

import docker
import pytest

from bench.images import floor, run
from leanstack.config.stack_file import load_stack_file
from leanstack.kube.quantities import parse_quantity

pytestmark = pytest.mark.e2e

STACK_FILE = run.ROOT / "examples" / "django-celery" / "Pulumi.django-celery.yaml"


@pytest.fixture(scope="module")
def shop(tmp_path_factory) -> dict:
    run.BUILD = run.builder()
    return floor.bench_django(tmp_path_factory.mktemp("django-images"))


def layer_files(tag: str) -> dict[str, tuple[int, int]]:
    """path -> (bytes, index of the layer that last wrote it) of the final filesystem, from the layer
    tars of `docker save`, bottom first: a whiteout `.wh.x` deletes x and all below it, an opaque
    `.wh..wh..opq` empties its directory of what lower layers put there."""
    files: dict[str, tuple[int, int]] = {}
    with tempfile.TemporaryFile() as saved:
        for chunk in docker.from_env().images.get(tag).save():
            saved.write(chunk)
        saved.seek(0)
        with tarfile.open(fileobj=saved) as archive:
            (manifest,) = json.load(archive.extractfile("manifest.json"))
            for index, name in enumerate(manifest["Layers"]):
                member = archive.getmember(name)
                while member.issym():  # a layer saved twice is a link to the first copy
                    member = archive.getmember(posixpath.normpath(posixpath.join(posixpath.dirname(name), member.linkname)))
                with tarfile.open(fileobj=archive.extractfile(member), mode="r|") as layer:
                    for entry in layer:
                        path = "/" + entry.name.removeprefix("./").rstrip("/")
                        parent, _, base = path.rpartition("/")
                        if base == ".wh..wh..opq":
                            files = {p: v for p, v in files.items() if not p.startswith(parent + "/") or v[1] == index}
                        elif base.startswith(".wh."):
                            gone = f"{parent}/{base[4:]}"
                            files = {p: v for p, v in files.items() if p != gone and not p.startswith(gone + "/")}
                        elif not entry.isdir():
                            files[path] = (entry.size if entry.isfile() else 0, index)
    return files


def under(path: str, root: str) -> bool:
    """`root` is a file, a directory, or a name's stem ending in - or . (libbfd-2.40.so: `libbfd-`)."""
    return path == root or path.startswith(root + "/") or (root[-1] in "-." and path.startswith(root))


def counted(files: dict[str, tuple[int, int]], root: str, layer: int) -> int:
    return sum(size for path, (size, at) in files.items() if at == layer and under(path, root))


# finding kind -> a path that must be among its biggest one's roots, and what the instruction of its
# layer says. gcc comes with the build base (build-essential), as with the official python:3.11.
BEFORE = {
    "jdk": ("/usr/lib/jvm/", "default-jdk-headless"),
    "compilers": ("/usr/lib/gcc", "Imported from"),
    "tests": ("-packages/numpy/core/tests", "pip install"),
    "caches": ("/root/.cache/pip", "pip install"),
    "downloaders": ("/usr/bin/curl", "default-jdk-headless"),
}


def test_leanstack_images_names_what_seed_003_removed_with_bytes_that_match_the_layer_tars(shop):
    report = shop["before"]["report"]
    files = layer_files(floor.DJANGO_TAGS[0])
    found = {kind: [f for f in report["findings"] if f["kind"] == kind] for kind in BEFORE}
    for kind, (root, instruction) in BEFORE.items():
        named = [f for f in found[kind] if f["bytes"] > 0 and any(root in path for path in f["paths"])
                 and instruction in report["layers"][f["layer"]]["instruction"]]
        assert named, (kind, [(f["layer"], list(f["paths"])[:3]) for f in found[kind]])
        for finding in found[kind]:
            ours = {path: counted(files, path, finding["layer"]) for path in finding["paths"]}
            assert ours == finding["paths"], kind
            assert sum(ours.values()) == finding["bytes"], kind
    # libpq-dev's headers, installed to compile psycopg2, are in the apt layer's compilers finding.
    (apt,) = [layer["index"] for layer in report["layers"] if "default-jdk-headless" in layer["instruction"]]
    assert files["/usr/include/postgresql/libpq-fe.h"][1] == apt
    assert any("/usr/include" in f["paths"] for f in found["compilers"] if f["layer"] == apt)
    assert report["efficiency"]["score"] < 0.99  # apt lists deleted a layer later: wasted, as dive counts it


def test_the_optimized_shop_passes_the_stack_files_gates_at_a_fraction_of_the_before_image(shop):
    build = load_stack_file(STACK_FILE).services["web"].image.build
    assert build.rules == type(build.rules)()  # dive's defaults, as `leanstack images REF` holds a ref to
    after = shop["after"]
    assert Decimal(after["report"]["size"]) <= parse_quantity(build.size_budget)
    assert {rule["rule"]: rule["status"] for rule in after["report"]["rules"]} == {
        "lowestEfficiency": "pass", "highestWastedBytes": "skip", "highestUserWastedPercent": "pass"}
    # Left: byte code (kept for start time) and Django's own test framework, django/test (`manage.py test`).
    left = {(f["kind"], path) for f in after["report"]["findings"] if f["kind"] in {*BEFORE, "shells"} for path in f["paths"]}
    assert left == {("tests", "/opt/venv/lib/python3.11/site-packages/django/test")}
    assert after["size"] / shop["before"]["size"] < 0.2
    # psycopg2 was compiled and its libpq bundled: it imports on the floor under the pod's hardening.
    check = subprocess.run(["docker", "run", "--rm", "--read-only", "--tmpfs", "/tmp", "--user", "10001", "--cap-drop",
                            "ALL", "--security-opt", "no-new-privileges", "--network", "none", floor.DJANGO_TAGS[1],
                            "python", "-c", "import psycopg2; print(psycopg2.__libpq_version__)"],
                           capture_output=True, text=True, timeout=120)
    assert check.returncode == 0 and int(check.stdout) >= 150000, check.stderr
