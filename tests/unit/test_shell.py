"""Every shell script passes shellcheck (Debian's package, installed by scripts/lint-tools.sh), with
the settings of .shellcheckrc: `# shellcheck source=` paths are followed, so what a script uses of
scripts/lib.sh is checked too. A `# shellcheck disable=` is for a true false positive, with its reason."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from leanstack.config.resolve import Ingress
from tests.unit.conftest import ROOT

SHELLCHECK = shutil.which("shellcheck")


def is_shell(path: Path) -> bool:
    """A shebang naming sh or bash, or the directive of a file meant to be sourced."""
    first = path.read_text(encoding="utf-8").partition("\n")[0]
    return (first.startswith("#!") and Path(first.split()[-1]).name in ("sh", "bash")) \
        or first.startswith("# shellcheck shell=")


SCRIPTS = sorted(p.relative_to(ROOT).as_posix() for p in [*(ROOT / "scripts").rglob("*"), ROOT / ".ci" / "run"]
                 if p.is_file())


@pytest.fixture(scope="module")
def findings() -> dict[str, list[str]]:
    """shellcheck's findings over all the scripts at once, by file: `LINE:COLUMN SCxxxx message`."""
    assert SHELLCHECK, "shellcheck missing: run scripts/lint-tools.sh (Debian package shellcheck)"
    result = subprocess.run([SHELLCHECK, "--format=json1", *SCRIPTS], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode in (0, 1) and result.stdout, f"shellcheck failed: {result.stderr}"
    found: dict[str, list[str]] = {}
    for c in json.loads(result.stdout)["comments"]:
        found.setdefault(c["file"], []).append(f"{c['line']}:{c['column']} SC{c['code']} {c['message']}")
    return found


def test_every_file_under_scripts_is_a_shell_script_and_the_library_is_among_them():
    assert "scripts/lib.sh" in SCRIPTS and ".ci/run" in SCRIPTS
    assert [s for s in SCRIPTS if not is_shell(ROOT / s)] == []


@pytest.mark.parametrize("script", SCRIPTS)
def test_script_passes_shellcheck(script, findings):
    assert findings.get(script, []) == []


def lib(script: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """`script` run by bash with scripts/lib.sh sourced, in tmp_path."""
    return subprocess.run(["bash", "-c", f"set -euo pipefail; source {ROOT}/scripts/lib.sh; {script}"],
                          cwd=tmp_path, capture_output=True, text=True)


def test_a_stamp_is_its_key_and_a_newline_so_the_caches_of_earlier_versions_stay_current(tmp_path):
    (tmp_path / "bin").write_text("")
    (tmp_path / "bin").chmod(0o755)
    assert lib('stamp_write stamp "cli 3.259.0 rev1"', tmp_path).returncode == 0
    assert (tmp_path / "stamp").read_bytes() == b"cli 3.259.0 rev1\n"
    assert lib('stamp_current stamp "cli 3.259.0 rev1" bin', tmp_path).returncode == 0
    assert lib('stamp_current stamp "cli 3.259.0 rev2" bin', tmp_path).returncode == 1
    assert lib('stamp_current stamp "cli 3.259.0 rev1" bin missing', tmp_path).returncode == 1
    assert lib('stamp_current absent "cli 3.259.0 rev1"', tmp_path).returncode == 1


def test_log_and_die_write_the_scripts_tag_on_stderr_only(tmp_path):
    result = lib('log_tag=demo; log "step"; die "broken"; echo unreachable', tmp_path)
    assert (result.returncode, result.stdout, result.stderr) == (1, "", "[demo] step\n[demo] ERROR: broken\n")


def test_the_local_cluster_makes_the_ingress_namespace_and_class_a_stack_gets_by_default():
    """scripts/cluster.sh applies them on `up` (cluster_objects, run here with the script's own
    INGRESS_* settings), so a public service of a stack that keeps the schema's defaults finds them."""
    script = (ROOT / "scripts" / "cluster.sh").read_text(encoding="utf-8")
    settings = "\n".join(re.findall(r"^INGRESS_[A-Z]+=.*$", script, re.M))
    function = re.search(r"^cluster_objects\(\) \{\n.*?^\}$", script, re.M | re.S)
    assert settings and function
    result = subprocess.run(["bash", "-c", f"set -euo pipefail; NODES=0\n{settings}\n{function[0]}\ncluster_objects"],
                            capture_output=True, text=True, check=True)
    names = {obj["kind"]: obj["metadata"]["name"] for obj in yaml.safe_load_all(result.stdout) if obj}
    assert (names["Namespace"], names["IngressClass"]) == (Ingress().namespace, Ingress().class_name)
