"""`leanstack cost` refuses bad input before it starts a preview."""

import shutil

from typer.testing import CliRunner

from leanstack.cli import app
from tests.unit.conftest import ROOT

runner = CliRunner()


def test_a_malformed_budget_is_refused_with_what_is_allowed():
    result = runner.invoke(app, ["cost", "--stack", "dev", "--fail-above", "lots"])
    assert result.exit_code == 2
    assert "use a percentage like 10% or an amount in USD like 50" in " ".join(result.output.replace("│", " ").split())


def test_a_missing_stack_file_is_named(tmp_path):
    result = runner.invoke(app, ["cost", "--stack", "qa", "--work-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "Pulumi.qa.yaml: cannot read the stack file: No such file or directory" in result.output


def test_an_invalid_stack_file_is_explained_without_running_a_preview(tmp_path):
    shutil.copy(ROOT / "Pulumi.dev.yaml", tmp_path / "Pulumi.dev.yaml")
    text = (tmp_path / "Pulumi.dev.yaml").read_text().replace("price_sheet: opencost-default", "price_sheet: azure")
    (tmp_path / "Pulumi.dev.yaml").write_text(text)
    result = runner.invoke(app, ["cost", "--stack", "dev", "--work-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "Pulumi.dev.yaml: cost: unknown price sheet 'azure'" in result.output
