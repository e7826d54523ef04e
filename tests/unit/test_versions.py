"""versions.env states the Pulumi versions once: the offline build (scripts/toolchain-env.sh) and the
Python SDK pins of requirements.lock / requirements.in agree with it; bad lines fail with their place."""

from __future__ import annotations

import re
import subprocess

import pytest

from tests.unit.conftest import ROOT
from tools.versions import VersionsError, parse, read

VERSIONS = read(ROOT / "versions.env")
# The distribution each version pins on the Python side (the engine wants the plugin version the SDK declares).
SDKS = {"LEANSTACK_PULUMI_VERSION": "pulumi", "LEANSTACK_K8S_VERSION": "pulumi-kubernetes",
        "LEANSTACK_DOCKER_BUILD_VERSION": "pulumi-docker-build"}


def sourced(*names: str) -> list[str]:
    """The values bash sees after sourcing scripts/toolchain-env.sh from another directory."""
    script = "source scripts/toolchain-env.sh && cd / && " + " && ".join(f'echo "${name}"' for name in names)
    result = subprocess.run(["bash", "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)
    return result.stdout.splitlines()


def test_the_offline_build_reads_its_versions_from_versions_env_and_keeps_its_cache_id():
    assert sourced(*VERSIONS) == list(VERSIONS.values())
    (toolchain_id,) = sourced("LEANSTACK_TOOLCHAIN_ID")
    # The id names the cache directory and enters every build stamp: built caches stay valid.
    assert toolchain_id == "pulumi-{LEANSTACK_PULUMI_VERSION}_k8s-{LEANSTACK_K8S_VERSION}_docker-build-{LEANSTACK_DOCKER_BUILD_VERSION}".format(**VERSIONS)
    assert not re.search(r"^LEANSTACK_\w+_VERSION=\d", (ROOT / "scripts" / "toolchain-env.sh").read_text(), re.M)


@pytest.mark.parametrize("requirements", ["requirements.lock", "requirements.in"])
def test_the_python_sdks_are_pinned_to_the_plugin_versions(requirements):
    text = (ROOT / requirements).read_text()
    pins = {sdk: re.findall(rf"^{re.escape(sdk)}==(\S+)", text, re.M) for sdk in SDKS.values()}
    assert pins == {sdk: [VERSIONS[key]] for key, sdk in SDKS.items()}


VALID = "# comment\n\nLEANSTACK_PULUMI_VERSION=3.259.0\nLEANSTACK_K8S_VERSION=4.24.0\nLEANSTACK_DOCKER_BUILD_VERSION=0.0.22\n"


def test_a_valid_file_reads_as_its_versions():
    assert parse(VALID) == {"LEANSTACK_PULUMI_VERSION": "3.259.0", "LEANSTACK_K8S_VERSION": "4.24.0",
                            "LEANSTACK_DOCKER_BUILD_VERSION": "0.0.22"}


@pytest.mark.parametrize("text, message", [
    (VALID + "LEANSTACK_HELM_VERSION=1.0.0\n",
     "versions.env:6: 'LEANSTACK_HELM_VERSION=1.0.0': expected KEY=VERSION with KEY one of LEANSTACK_PULUMI_VERSION, "),
    (VALID.replace("=4.24.0", "=v4.24.0"), "versions.env:4: LEANSTACK_K8S_VERSION: 'v4.24.0' is not a version like 3.259.0"),
    (VALID.replace("=4.24.0", '="4.24.0"'), "versions.env:4: LEANSTACK_K8S_VERSION: '\"4.24.0\"' is not a version"),
    (VALID.replace("=0.0.22", "=$(curl x)"), "versions.env:5: LEANSTACK_DOCKER_BUILD_VERSION: '$(curl x)' is not a version"),
    (VALID + "LEANSTACK_K8S_VERSION=4.25.0\n", "versions.env:6: LEANSTACK_K8S_VERSION: set twice"),
    (VALID.replace("LEANSTACK_K8S_VERSION=4.24.0\n", ""), "versions.env: missing LEANSTACK_K8S_VERSION (the kubernetes provider"),
    ("export LEANSTACK_PULUMI_VERSION=3.259.0\n", "versions.env:1: 'export LEANSTACK_PULUMI_VERSION=3.259.0': expected KEY=VERSION"),
])
def test_a_bad_line_is_one_error_naming_the_file_line_and_key(text, message):
    with pytest.raises(VersionsError) as error:
        parse(text)
    assert str(error.value).startswith(message) and "\n" not in str(error.value)


def test_the_command_prints_what_github_env_accepts_and_names_a_missing_file(tmp_path):
    run = subprocess.run(["python3", "-m", "tools.versions"], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0 and run.stdout.splitlines() == [f"{k}={v}" for k, v in VERSIONS.items()]
    missing = subprocess.run(["python3", "-m", "tools.versions", str(tmp_path / "none.env")], cwd=ROOT,
                             capture_output=True, text=True)
    assert missing.returncode == 1 and missing.stderr == f"{tmp_path / 'none.env'}: No such file or directory\n"
