"""Image analysis from layer file lists: dive's efficiency and wasted bytes, findings, largest directories."""

import io

import pytest

from leanstack.config.image_rules import ImageRules
from leanstack.config.resolve import bind_rules
from leanstack.images.efficiency import efficiency
from leanstack.images.filesystem import Entry, Kind, Node, read_layer, stack
from leanstack.images.findings import beside_its_source, findings, largest_directories
from leanstack.images.gates import evaluate
from leanstack.images.report import build_report, clean_instruction, instructions
from tests.unit.image_tars import image_config, layer_tar


def layers(*tars: bytes) -> list[list[Entry]]:
    return [read_layer(io.BytesIO(tar)) for tar in tars]


def test_layer_entries_are_read_from_a_gzip_stream_with_clean_paths_and_whiteouts_resolved():
    tar = layer_tar(("dir", "./usr/"), ("file", "./usr/bin/python3", 10), ("link", "usr/bin/python", "python3"),
                    ("whiteout", "etc/motd"), ("opaque", "var/cache"), compress=True)
    assert read_layer(io.BytesIO(tar)) == [
        Entry("/usr", 0, Kind.dir), Entry("/usr/bin/python3", 10, Kind.file), Entry("/usr/bin/python", 0, Kind.link),
        Entry("/etc/motd", 0, Kind.whiteout), Entry("/var/cache", 0, Kind.opaque)]


def test_efficiency_matches_dives_own_test_case():
    # dive's filetree/efficiency_test.go: no directory headers, so the whiteout of /etc/nginx weighs 0.
    result = efficiency(layers(
        layer_tar(("file", "etc/nginx/nginx.conf", 2000), ("file", "etc/nginx/public", 3000)),
        layer_tar(("file", "etc/nginx/nginx.conf", 5000), ("file", "etc/athing", 10000)),
        layer_tar(("whiteout", "etc/nginx")),
    ))
    assert result.score == 0.75
    assert [(w.path, w.count, w.cumulative) for w in result.inefficiencies] == [("/etc/nginx/nginx.conf", 2, 7000)]
    assert result.wasted_bytes == 7000
    assert result.user_wasted_percent == 7000 / 15000


def test_a_deleted_directory_weighs_what_it_held_but_as_dive_counts_it_is_not_wasted():
    # With directory headers (as real layers have them) the whiteout weighs the 5000 + 3000 below it,
    # in one sighting of /etc/nginx, so it raises the score and wastes nothing: dive's definition.
    result = efficiency(layers(
        layer_tar(("dir", "etc"), ("dir", "etc/nginx"), ("file", "etc/nginx/nginx.conf", 2000),
                  ("file", "etc/nginx/public", 3000)),
        layer_tar(("dir", "etc"), ("dir", "etc/nginx"), ("file", "etc/nginx/nginx.conf", 5000),
                  ("file", "etc/athing", 10000)),
        layer_tar(("dir", "etc"), ("whiteout", "etc/nginx")),
    ))
    assert result.score == (2000 + 3000 + 10000 + 8000) / (7000 + 3000 + 10000 + 8000)
    assert result.wasted_bytes == 7000


def test_a_deleted_file_is_wasted_in_full_and_a_rewritten_one_twice():
    result = efficiency(layers(
        layer_tar(("file", "base", 100)),
        layer_tar(("file", "cache.bin", 1000), ("file", "app.py", 10)),
        layer_tar(("whiteout", "cache.bin"), ("file", "app.py", 10)),
    ))
    assert [(w.path, w.cumulative) for w in result.inefficiencies] == [("/cache.bin", 1000), ("/app.py", 20)]
    assert result.wasted_bytes == 1020
    assert result.score == (100 + 0 + 10) / (100 + 1000 + 20)
    assert result.user_wasted_percent == 1020 / 1020


def test_an_image_of_one_layer_or_of_nothing_is_efficient():
    assert efficiency(layers(layer_tar(("dir", "empty")))).score == 1.0
    single = efficiency(layers(layer_tar(("file", "a", 5))))
    assert (single.score, single.wasted_bytes, single.user_wasted_percent) == (1.0, 0, 0.0)


def test_an_opaque_directory_hides_the_layers_below_in_the_final_filesystem():
    tree, hidden = stack(layers(layer_tar(("file", "var/cache/a", 7), ("file", "keep", 1)),
                        layer_tar(("opaque", "var/cache"), ("file", "var/cache/b", 2))))
    assert {path: node.size for path, node in tree.items() if node.size} == {"/var/cache/b": 2, "/keep": 1}
    assert hidden == {0: 7}


def test_hidden_bytes_count_what_a_deleted_directory_held_which_dives_wasted_bytes_miss():
    report = build_report("img", image_config(), ["a", "b", "c"], layers(
        layer_tar(("dir", "root"), ("file", "root/keep", 5)),
        layer_tar(("dir", "root"), ("dir", "root/.cache"), ("file", "root/.cache/pip/wheel", 900), ("file", "app", 10)),
        layer_tar(("dir", "root"), ("whiteout", "root/.cache"), ("file", "app", 12))))
    assert report.efficiency.wasted_bytes == 22  # only /app, seen twice
    assert report.hidden == 910 and [layer.hidden for layer in report.layers] == [0, 910, 0]


BLOATED = (
    layer_tar(("dir", "usr"), ("file", "usr/bin/bash", 1200), ("file", "usr/bin/dash", 100), ("file", "usr/bin/perl", 400),
              ("file", "var/lib/dpkg/status", 300), ("file", "usr/share/doc/bash/copyright", 5),
              ("file", "usr/share/doc/bash/changelog.gz", 50)),
    layer_tar(("file", "usr/lib/gcc/x86_64-linux-gnu/12/cc1", 3000), ("file", "usr/bin/x86_64-linux-gnu-gcc-12", 900),
              ("file", "usr/include/stdio.h", 30), ("file", "usr/lib/jvm/java-17/lib/modules", 4000),
              ("file", "usr/bin/curl", 250), ("file", "usr/share/man/man1/gcc.1.gz", 40)),
    layer_tar(("file", "root/.cache/pip/http/a", 700), ("file", "tmp/scratch", 999),
              ("file", "opt/venv/lib/python3.11/site-packages/pandas/tests/test_a.py", 600),
              ("file", "opt/venv/lib/python3.11/site-packages/pandas/core/__pycache__/frame.cpython-311.pyc", 80),
              ("file", "opt/venv/lib/python3.11/site-packages/pandas/core/frame.py", 120),
              ("file", "opt/venv/lib/python3.11/site-packages/numpy/core.pyc", 90),
              ("file", "opt/venv/lib/python3.11/site-packages/pip/__init__.py", 20)),
    layer_tar(("whiteout", "tmp/scratch")),
)


def test_findings_name_each_kind_with_its_bytes_the_layer_that_added_it_and_what_to_remove():
    found = {(f.kind, f.layer): (f.bytes, f.top()) for f in findings(stack(layers(*BLOATED))[0])}
    assert found == {
        ("jdk", 1): (4000, [("/usr/lib/jvm/java-17", 4000)]),
        ("compilers", 1): (3930, [("/usr/lib/gcc", 3000), ("/usr/bin/x86_64-linux-gnu-gcc-12", 900),
                                  ("/usr/include", 30)]),
        ("shells", 0): (1700, [("/usr/bin/bash", 1200), ("/usr/bin/perl", 400), ("/usr/bin/dash", 100)]),
        ("caches", 2): (700, [("/root/.cache/pip", 700)]),
        ("tests", 2): (600, [("/opt/venv/lib/python3.11/site-packages/pandas/tests", 600)]),
        ("package-manager", 0): (300, [("/var/lib/dpkg", 300)]),
        ("package-manager", 2): (20, [("/opt/venv/lib/python3.11/site-packages/pip", 20)]),
        ("downloaders", 1): (250, [("/usr/bin/curl", 250)]),
        ("bytecode", 2): (80, [("/opt/venv/lib/python3.11/site-packages", 80)]),  # numpy/core.pyc has no source: the module
        ("docs", 0): (50, [("/usr/share/doc", 50)]),  # the copyright file stays: it is the licence
        ("docs", 1): (40, [("/usr/share/man", 40)]),
    }


def test_byte_code_is_a_finding_only_beside_its_source():
    tree = {path: Node(10, False, 0) for path in ("/s/a.py", "/s/__pycache__/a.cpython-311.pyc", "/s/b.py", "/s/b.pyc",
                                                 "/s/c.pyc", "/s/__pycache__/d.cpython-311.opt-1.pyc")}
    assert [path for path in sorted(tree) if path.endswith(".pyc") and beside_its_source(path, tree)] == [
        "/s/__pycache__/a.cpython-311.pyc", "/s/b.pyc"]


def test_a_file_a_later_layer_deleted_is_wasted_not_a_finding():
    report = build_report("bloated", image_config("ADD base", "RUN apt-get install gcc", "RUN pip install", "RUN rm"),
                          ["d0", "d1", "d2", "d3"], layers(*BLOATED))
    assert not any("/tmp" in path for f in report.findings for path in f.paths)
    assert report.efficiency.wasted_bytes == 999 == report.hidden
    assert [layer.instruction for layer in report.layers] == ["ADD base", "RUN apt-get install gcc",
                                                              "RUN pip install", "RUN rm"]
    assert report.size == sum(layer.size for layer in report.layers) == 2055 + 8220 + 2609 + 0


def test_largest_directories_sum_every_file_below_down_to_a_depth():
    tree, _ = stack(layers(*BLOATED[:2]))
    assert largest_directories(tree, count=3) == [("/usr", 9975), ("/usr/lib", 7000), ("/usr/lib/jvm", 4000)]
    assert largest_directories(tree, count=2, depth=1) == [("/usr", 9975), ("/var", 300)]


def test_instructions_pair_layers_with_the_history_entries_that_made_them():
    config = {"history": [{"created_by": "/bin/sh -c #(nop) ADD file:abc in / "}, {"created_by": "ENV A=1", "empty_layer": True},
                          {"created_by": "RUN |1 X=y /bin/sh -c pip install -r r.txt # buildkit"},
                          {"created_by": "COPY app/ ./app/ # buildkit"}]}
    assert instructions(config, 4) == ["ADD file:abc in /", "RUN pip install -r r.txt", "COPY app/ ./app/", "(missing)"]
    assert clean_instruction("/bin/sh -c apt-get update") == "RUN apt-get update"


@pytest.mark.parametrize(("rules", "statuses"), [
    ({}, ["fail", "skip", "fail"]),
    ({"lowestEfficiency": 0.05, "highestUserWastedPercent": 1, "highestWastedBytes": "1k"}, ["pass", "pass", "pass"]),
    ({"lowestEfficiency": "disabled", "highestUserWastedPercent": "disabled", "highestWastedBytes": 999},
     ["skip", "fail", "skip"]),
])
def test_dive_rules_pass_fail_or_are_skipped(rules, statuses):
    report = build_report("img", image_config(), ["a", "b", "c"], layers(
        layer_tar(("file", "base", 100)), layer_tar(("file", "cache.bin", 1000), ("file", "app.py", 10)),
        layer_tar(("whiteout", "cache.bin"))))  # efficiency 110/1110, 1000 bytes wasted of 1010 user bytes
    results = evaluate(report, bind_rules(ImageRules.model_validate(rules)))
    assert [r.rule for r in results] == ["lowestEfficiency", "highestWastedBytes", "highestUserWastedPercent"]
    assert [r.status for r in results] == statuses
