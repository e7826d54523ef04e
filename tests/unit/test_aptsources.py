"""tools.aptsources, which tells scripts/base-images.sh the Debian mirrors this machine's apt uses."""

from __future__ import annotations

from tools.aptsources import Source, main, mirrors, parse_list, parse_sources, read_sources, source_files

DEB822 = """\
Types: deb
# http://snapshot.debian.org/archive/debian/20250520T000000Z
URIs: http://deb.debian.org/debian/
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
"""


def test_a_deb822_file_gives_one_source_per_stanza_without_the_trailing_slash():
    assert list(parse_sources(DEB822)) == [
        Source("http://deb.debian.org/debian", ("bookworm", "bookworm-updates"), ("main",)),
        Source("http://deb.debian.org/debian-security", ("bookworm-security",), ("main",)),
    ]


def test_deb822_continuation_lines_extend_their_field_and_an_inline_key_adds_no_fields():
    text = ("Types: deb\nURIs: http://a.example/debian\n http://b.example/debian\nSuites: bookworm\n"
            "Components: main\nSigned-By:\n -----BEGIN PGP PUBLIC KEY BLOCK-----\n Comment: not a field\n")
    assert [s.uri for s in parse_sources(text)] == ["http://a.example/debian", "http://b.example/debian"]


def test_disabled_stanzas_and_source_only_ones_are_not_mirrors():
    text = ("Types: deb\nEnabled: no\nURIs: http://off.example/debian\nSuites: bookworm\nComponents: main\n\n"
            "Types: deb-src\nURIs: http://src.example/debian\nSuites: bookworm\nComponents: main\n\n"
            "Types: deb\nEnabled:\nURIs: http://on.example/debian\nSuites: bookworm\nComponents: main\n")
    assert [s.uri for s in parse_sources(text)] == ["http://on.example/debian"]


def test_one_line_format_drops_options_and_comments():
    text = ("# deb http://commented.example/debian bookworm main\n"
            "deb [arch=amd64 signed-by=/k.gpg] http://deb.debian.org/debian/ bookworm main contrib # mirror\n"
            "deb-src http://deb.debian.org/debian bookworm main\n"
            "deb http://short.example/debian bookworm\n")
    assert list(parse_list(text)) == [Source("http://deb.debian.org/debian", ("bookworm",), ("main", "contrib"))]


def test_the_first_main_source_of_each_suite_wins():
    sources = [
        Source("http://contrib-only.example", ("bookworm",), ("contrib",)),
        Source("http://first.example", ("bookworm", "bookworm-security"), ("main",)),
        Source("http://second.example", ("bookworm", "bookworm-security"), ("main",)),
    ]
    assert mirrors(sources, "bookworm") == ("http://first.example", "http://first.example")
    assert mirrors(sources[:1], "bookworm") == (None, None)


def test_apt_reads_sources_list_then_the_parts_in_order_and_ignores_other_names(tmp_path):
    parts = tmp_path / "sources.list.d"
    parts.mkdir()
    for name in ("b.sources", "a.list", "c.list.disabled", "d.save"):
        (parts / name).write_text("")
    assert source_files(tmp_path) == [tmp_path / "sources.list", parts / "a.list", parts / "b.sources"]


def test_a_missing_sources_list_is_normal_and_an_unreadable_file_is_named(tmp_path):
    (tmp_path / "bad.list").write_bytes(b"\xff\xfe")
    (tmp_path / "dir.sources").mkdir()
    warnings: list[str] = []
    files = [tmp_path / "sources.list", tmp_path / "bad.list", tmp_path / "dir.sources"]
    assert list(read_sources(files, warnings.append)) == []
    assert [w.split(":")[0] for w in warnings] == [f"skipping {tmp_path}/bad.list", f"skipping {tmp_path}/dir.sources"]


def test_the_command_prints_both_mirrors_and_an_empty_line_for_a_missing_one(tmp_path, capsys):
    (tmp_path / "sources.list").write_text("deb http://deb.debian.org/debian bookworm main\n")
    assert main(["bookworm"], tmp_path) == 0
    assert capsys.readouterr().out == "http://deb.debian.org/debian\n\n"
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list.d" / "debian.sources").write_text(DEB822)
    assert main(["bookworm"], tmp_path) == 0
    assert capsys.readouterr().out == "http://deb.debian.org/debian\nhttp://deb.debian.org/debian-security\n"
    assert main([], tmp_path) == 2
