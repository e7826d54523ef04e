"""A build with build_on_preview: a second Image writes it as an OCI layout (and builds in previews),
read for the new side of the cost report's image delta only when it holds the build the preview names."""

import shutil

import pytest

from leanstack.costing.images import PENDING, UNKNOWN, ImageFacts, image_changes, image_rows, layout_of
from leanstack.costing.preview import steps_of
from leanstack.images.layout import build_layout
from leanstack.images.source import ImageReadError, read_layout
from leanstack.images.targets import built_facts
from tests.unit.conftest import SMALL_STACK, run_platform, small_stack
from tests.unit.image_tars import image_config, layer_tar, oci_layout
from tests.unit.test_image_delta import IMAGE, OLD_API, WORKER, image_step

LAYERS = [layer_tar(("file", "usr/bin/python3", 500), compress=True),
          layer_tar(("file", "app/a", 1000), compress=True), layer_tar(("file", "app/a", 1000), compress=True)]
CONFIG = image_config("ADD rootfs", "COPY a", "COPY a")


def write_layout(root, stack, image, index=True):
    path = root / build_layout(stack, image)
    return path, oci_layout(path, CONFIG, LAYERS, index=index)


@pytest.mark.parametrize("index", [True, False])
def test_a_build_is_read_from_an_oci_layout_by_its_digest_through_its_index_to_the_amd64_image(tmp_path, index):
    path, digest = write_layout(tmp_path, "dev", "api-image", index)
    image = read_layout("api", path, digest)
    assert [[entry.path for entry in layer] for layer in image.layers] == [["/usr/bin/python3"], ["/app/a"], ["/app/a"]]
    assert image.config["history"][1]["created_by"] == "ADD rootfs" and len(image.digests) == 3


def test_a_missing_layout_another_build_or_a_bad_digest_is_one_line_naming_image_and_path(tmp_path):
    with pytest.raises(ImageReadError, match=r"^image api: no OCI layout at .*/missing$"):
        read_layout("api", tmp_path / "missing", "sha256:" + "e" * 64)
    path, _ = write_layout(tmp_path, "dev", "api-image")
    with pytest.raises(ImageReadError, match=rf"^image api: the OCI layout at {path} holds no blob sha256:e+$"):
        read_layout("api", path, "sha256:" + "e" * 64)
    with pytest.raises(ImageReadError, match=r"^image api: '../../etc/passwd' is not a digest; use sha256:<64 hex digits>$"):
        read_layout("api", path, "../../etc/passwd")


def build_on_preview(on):
    api = {**SMALL_STACK["services"]["api"], "image": {"build": {"context": "apps/api", "build_on_preview": on}}}
    return small_stack(services={**SMALL_STACK["services"], "api": api})


def test_build_on_preview_adds_an_image_that_writes_the_same_build_as_an_oci_layout():
    images = {r.name: r.inputs for r in run_platform(build_on_preview(True), "dev").of_type(IMAGE)}
    assert set(images) == {"api-image", layout_of("api-image")}
    pushed, layout = images["api-image"], images[layout_of("api-image")]
    assert pushed["push"] is True and "exports" not in pushed
    assert pushed["buildOnPreview"] is False  # v0.0.22 would only warn that it skipped the build
    assert layout["push"] is False and layout["buildOnPreview"] is True and "tags" not in layout
    (export,) = layout["exports"]
    assert export["oci"]["dest"] == str(build_layout("dev", "api-image")) and export["oci"]["tar"] is False
    same = ("context", "dockerfile", "buildArgs", "platforms", "cacheFrom")
    assert {key: layout.get(key) for key in same} == {key: pushed.get(key) for key in same}
    assert "cacheTo" not in layout  # the pushed image carries the inline cache
    off = {r.name for r in run_platform(build_on_preview(False), "dev").of_type(IMAGE)}
    assert off == {"api-image"}


def no_registry(ref):
    return ImageFacts(1, 1.0)


def layout_step(op, name, digest=None):
    """As the engine writes the layout Image's step: its new digest once the preview built it."""
    step = image_step(op, layout_of(name))
    if op not in ("same", "delete"):
        step["newState"]["outputs"] = {"digest": digest or UNKNOWN}
    return step


def preview_of(new_digest, layout_op="update"):
    return steps_of({"steps": [image_step("update", "api-image", OLD_API), layout_step(layout_op, "api-image", new_digest),
                               image_step("same", "worker-image", WORKER), layout_step("same", "worker-image")]})


def test_the_layout_image_is_no_row_of_its_own_but_names_the_new_build_of_its_pushed_one():
    changes = image_changes(preview_of("sha256:" + "c" * 64))
    assert [(c.name, c.op, c.built_digest) for c in changes] == [
        ("api-image", "update", "sha256:" + "c" * 64), ("worker-image", "same", None)]
    assert [c.built_digest for c in image_changes(preview_of(None))] == [None, None]  # not built in this preview


def test_the_new_side_of_an_image_the_preview_built_is_read_from_its_layout(tmp_path):
    _, digest = write_layout(tmp_path, "dev", "api-image")
    old = {OLD_API: ImageFacts(114_400_000, 0.991), WORKER: ImageFacts(62_300_000, 0.998)}
    rows = image_rows(image_changes(preview_of(digest)), old.__getitem__, built_facts(tmp_path, "dev", cache=tmp_path / "kept"))
    api, worker = rows
    assert api.new == ImageFacts(2500, 1500 / 2500) and api.old == old[OLD_API] and api.note == ""
    assert (api.new_ref, api.built_digest) == (None, digest)
    assert worker.new == worker.old == old[WORKER] and worker.built_digest is None
    # Kept by digest: read again without the layout.
    shutil.rmtree(tmp_path / build_layout("dev", "api-image"))
    again = image_rows(image_changes(preview_of(digest)), old.__getitem__, built_facts(tmp_path, "dev", cache=tmp_path / "kept"))
    assert again[0].new == api.new


def test_a_layout_of_another_build_is_never_taken_for_this_previews(tmp_path):
    path, _ = write_layout(tmp_path, "dev", "api-image")
    other = "sha256:" + "e" * 64
    (api, _) = image_rows(image_changes(preview_of(other)), no_registry, built_facts(tmp_path, "dev", cache=tmp_path / "kept"))
    assert api.new is None
    assert api.note == f"image api-image@{other}: the OCI layout at {path} holds no blob {other}"
    (api, _) = image_rows(image_changes(preview_of(other)), no_registry, built_facts(tmp_path, "prod", cache=tmp_path / "kept"))
    assert api.note == f"image api-image@{other}: no OCI layout at {tmp_path / build_layout('prod', 'api-image')}"


def test_without_a_build_in_the_preview_the_row_still_says_up_builds_it(tmp_path):
    for steps in (preview_of(None), preview_of("sha256:" + "c" * 64, layout_op="same")):
        (api, _) = image_rows(image_changes(steps), no_registry, built_facts(tmp_path, "dev", cache=tmp_path / "kept"))
        assert (api.new_ref, api.new, api.note, api.built_digest) == (None, None, PENDING, None)


def test_the_tag_a_pushed_image_reports_before_its_build_is_not_taken_for_the_new_image():
    """What the provider reports for a `push: true` Image in a preview: its tag as `ref`, no digest."""
    step = image_step("update", "api-image", OLD_API, "127.0.0.1:5000/leanstack/api:dev")
    (api,) = image_changes(steps_of({"steps": [step]}))
    assert (api.old_ref, api.new_ref) == (OLD_API, None)
