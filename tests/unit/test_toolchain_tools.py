"""The helpers scripts/toolchain.sh calls: go's and pulumi's JSON answers, and the Go source patch."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from tests.unit.conftest import ROOT
from tools.toolchain import ToolchainError, has_plugin, module_dir

PROVIDER_GO = '''package provider

import (
	"fmt"

	csgen "github.com/pulumi/pulumi-dotnet/pulumi-language-dotnet/v3/codegen"
	"github.com/pulumi/pulumi-java/pkg/codegen/java"
)

var languages = map[string]any{
	"go": fmt.Sprint("{"),
	"csharp": csgen.CSharpPackageInfo{
		Namespaces: map[string]string{"x": "}"},
	},
	"java": java.PackageInfo{BasePackage: "com.pulumi"},
}
'''


def test_module_dir_reads_gos_answer_and_names_its_error():
    assert module_dir('{"Path": "m", "Dir": "/cache/m@v1"}') == "/cache/m@v1"
    with pytest.raises(ToolchainError, match="go mod download: 403 Forbidden"):
        module_dir('{"Path": "m", "Error": "403 Forbidden"}')
    with pytest.raises(ToolchainError, match="not JSON"):
        module_dir("proxy down")


def test_has_plugin_wants_the_exact_resource_version():
    listing = '[{"name": "kubernetes", "kind": "resource", "version": "4.24.0"}, {"name": "python", "kind": "language", "version": "3.259.0"}]'
    assert has_plugin(listing, "kubernetes", "v4.24.0") and has_plugin(listing, "kubernetes", "4.24.0")
    assert not has_plugin(listing, "kubernetes", "4.25.0") and not has_plugin(listing, "python", "3.259.0")
    assert not has_plugin("not json", "kubernetes", "4.24.0")


@pytest.mark.skipif(shutil.which("go") is None and not os.path.exists("/usr/local/go/bin/go"), reason="needs Go")
def test_gopatch_drops_imports_and_map_entries_through_the_syntax_tree(tmp_path):
    go = shutil.which("go") or "/usr/local/go/bin/go"
    binary = tmp_path / "gopatch"
    environment = {**os.environ, "GOTOOLCHAIN": "local", "GOFLAGS": "-mod=mod"}
    subprocess.run([go, "build", "-o", str(binary), "."], cwd=ROOT / "tools" / "gopatch", check=True, env=environment)
    source = tmp_path / "provider.go"
    source.write_text(PROVIDER_GO)
    subprocess.run([str(binary), "-file", str(source),
                    "-import", "github.com/pulumi/pulumi-dotnet/pulumi-language-dotnet/v3/codegen",
                    "-import", "github.com/pulumi/pulumi-java/pkg/codegen/java",
                    "-key", '"csharp"', "-key", '"java"'], check=True)
    patched = source.read_text()
    assert "csgen" not in patched and "java" not in patched and '"go": fmt.Sprint("{")' in patched
    missing = subprocess.run([str(binary), "-file", str(source), "-key", '"csharp"'], capture_output=True, text=True)
    assert missing.returncode == 1 and 'not found: key "csharp"' in missing.stderr
