"""The preview's image delta: Image steps of a fixture preview digest, read old and new, rendered."""

import io
import json

from leanstack.costing.delta import cost_delta
from leanstack.costing.images import PENDING, UNKNOWN, ImageFacts, image_changes, image_rows
from leanstack.costing.output import to_json, to_markdown
from leanstack.costing.preview import steps_of
from leanstack.images.filesystem import read_layer
from leanstack.images.source import ImageContents
from leanstack.images.targets import preview_facts
from tests.unit.image_tars import image_config, layer_tar
from tests.unit.test_costing import SHEET

IMAGE = "docker-build:index:Image"
OLD_API = "127.0.0.1:5000/leanstack/api:dev@sha256:" + "a" * 64
WORKER = "127.0.0.1:5000/leanstack/worker:dev@sha256:" + "b" * 64


def image_step(op, name, old_ref=None, new_ref=None):
    urn = f"urn:pulumi:dev::leanstack::leanstack:image:OptimizedImage${IMAGE}::{name}"
    step = {"op": op, "urn": urn}
    if old_ref:
        step["oldState"] = {"type": IMAGE, "inputs": {"push": True}, "outputs": {"ref": old_ref, "digest": "sha256:x"}}
    if op == "same":  # as the engine writes a same step in a preview: no outputs on the new side
        step["newState"] = {"type": IMAGE, "inputs": {"push": True}}
    elif op != "delete":
        step["newState"] = {"type": IMAGE, "inputs": {"push": True}, "outputs": {"ref": new_ref or UNKNOWN}}
    return step


# As the engine writes it for a Dockerfile change to api (a rebuild pending until `up`) and an unchanged worker.
DIGEST = {"steps": [image_step("update", "api-image", OLD_API),
                    image_step("same", "worker-image", WORKER),
                    image_step("create", "web-image")]}
FACTS = {OLD_API: ImageFacts(114_400_000, 0.991), WORKER: ImageFacts(62_300_000, 0.998)}


def test_image_steps_carry_the_digest_in_state_and_no_ref_while_a_build_is_pending():
    changes = image_changes(steps_of(DIGEST))
    assert [(c.op, c.name, c.old_ref, c.new_ref) for c in changes] == [
        ("update", "api-image", OLD_API, None), ("create", "web-image", None, None),
        ("same", "worker-image", WORKER, WORKER)]


def test_each_ref_is_read_once_and_a_pending_build_says_when_it_is_known():
    reads = []
    rows = image_rows(image_changes(steps_of(DIGEST)), lambda ref: reads.append(ref) or FACTS[ref])
    assert reads == [OLD_API, WORKER]
    api, web, worker = rows
    assert (api.old, api.new, api.note) == (FACTS[OLD_API], None, PENDING)
    assert (web.old, web.new, web.note) == (None, None, PENDING)
    assert (worker.old, worker.new, worker.note) == (FACTS[WORKER], FACTS[WORKER], "")


def test_markdown_and_json_show_old_and_new_size_and_efficiency():
    changed = {"steps": [image_step("update", "api-image", OLD_API, WORKER)]}
    rows = image_rows(image_changes(steps_of(changed)), FACTS.__getitem__)
    report = cost_delta("dev", steps_of(changed), SHEET, images=rows)
    assert "| ~ update | `api-image` | 114.4 MB (99.1%) -> 62.3 MB (99.8%) (-52.1 MB) | – |" in to_markdown(report)
    image = json.loads(to_json(report))["images"][0]
    assert (image["old"], image["new"]) == ({"size": 114_400_000, "efficiency": 0.991},
                                            {"size": 62_300_000, "efficiency": 0.998})


def test_a_registry_that_does_not_answer_is_one_line_naming_the_image_and_the_report_still_prints():
    gone = "127.0.0.1:1/leanstack/api:dev@sha256:" + "a" * 64  # nothing listens on port 1: refused at once
    digest = {"steps": [image_step("update", "api-image", gone)]}
    rows = image_rows(image_changes(steps_of(digest)), preview_facts)
    assert rows[0].note == (f"image {gone}: registry 127.0.0.1:1 does not answer ([Errno 111] Connection refused); "
                            f"{PENDING}")
    assert rows[0].old is None
    assert "`api-image` | – -> – |" in to_markdown(cost_delta("dev", steps_of(digest), SHEET, images=rows))


def test_preview_facts_are_the_reports_size_and_dives_efficiency():
    tars = [layer_tar(("file", "app/a", 1000)), layer_tar(("file", "app/a", 1000))]
    contents = ImageContents("x", image_config("COPY a", "COPY a"), ["d0", "d1"],
                             [list(read_layer(io.BytesIO(t))) for t in tars])
    facts = preview_facts("x", lambda ref: contents)
    assert facts.size == 2000 and facts.efficiency < 1


def test_facts_of_a_digest_ref_are_read_once_and_then_kept(tmp_path):
    tars = [layer_tar(("file", "app/a", 1000))]
    contents = ImageContents("x", image_config("COPY a"), ["d0"], [list(read_layer(io.BytesIO(t))) for t in tars])
    reads = []

    def read(ref):
        reads.append(ref)
        return contents
    pinned = "127.0.0.1:5000/leanstack/api:dev@sha256:" + "c" * 64
    first = preview_facts(pinned, read, cache=tmp_path)
    assert preview_facts(pinned, read, cache=tmp_path) == first and reads == [pinned]
    (tmp_path / f"sha256-{'c' * 64}.json").write_text("{not json")
    assert preview_facts(pinned, read, cache=tmp_path) == first and len(reads) == 2  # unreadable: read again
    preview_facts("127.0.0.1:5000/leanstack/api:dev", read, cache=tmp_path)  # a tag moves: never kept
    preview_facts("127.0.0.1:5000/leanstack/api:dev", read, cache=tmp_path)
    assert len(reads) == 4 and len(list(tmp_path.iterdir())) == 1


def test_a_failed_read_is_not_kept(tmp_path):
    gone = "127.0.0.1:1/leanstack/api:dev@sha256:" + "d" * 64
    assert "does not answer" in preview_facts(gone, cache=tmp_path)
    assert list(tmp_path.iterdir()) == []
