"""`leanstack` commands: bad input refused before a preview result is used, and the project directory they work on."""

import shutil

from typer.testing import CliRunner

from leanstack.cli import app
from tests.unit.conftest import shop_file

runner = CliRunner()


def test_a_malformed_budget_is_refused_with_what_is_allowed():
    result = runner.invoke(app, ["cost", "--stack", "dev", "--fail-above", "lots"])
    assert result.exit_code == 2
    assert "use a percentage like 10% or an amount in USD like 50" in " ".join(result.output.replace("│", " ").split())


def test_a_missing_stack_file_is_named(tmp_path):
    result = runner.invoke(app, ["cost", "--stack", "qa", "--work-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "Pulumi.qa.yaml: cannot read the stack file: No such file or directory" in result.output


def test_an_invalid_stack_file_is_explained_and_stops_the_preview(tmp_path):
    shutil.copy(shop_file("dev"), tmp_path / "Pulumi.dev.yaml")
    text = (tmp_path / "Pulumi.dev.yaml").read_text().replace("price_sheet: opencost-default", "price_sheet: azure")
    (tmp_path / "Pulumi.dev.yaml").write_text(text)
    result = runner.invoke(app, ["cost", "--stack", "dev", "--work-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "Pulumi.dev.yaml: cost: unknown price sheet 'azure'" in result.output


def test_render_warns_about_config_that_works_but_is_probably_not_meant(tmp_path):
    text = shop_file("dev").read_text().replace("readiness_path: /ready, liveness_path: /health, profile: fast}\n      exposure: public\n      host: shop-dev",
                                                          "readiness_path: /health, liveness_path: /health, profile: fast}\n      exposure: public\n      host: shop-dev")
    (tmp_path / "Pulumi.dev.yaml").write_text(text)
    result = runner.invoke(app, ["render", "--stack", "dev", "--work-dir", str(tmp_path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "warning: Pulumi.dev.yaml: services.web.probes: readiness and liveness run the same check (http /health)" in \
        " ".join(result.output.split())


def test_render_names_a_config_file_it_cannot_read(tmp_path):
    text = shop_file("dev").read_text().replace(
        "      host: shop-dev.example.com\n",
        "      host: shop-dev.example.com\n      config_files:\n        nginx.conf: {mount_path: /etc/nginx.conf, source: conf/nginx.conf}\n")
    (tmp_path / "Pulumi.dev.yaml").write_text(text)
    result = runner.invoke(app, ["render", "--stack", "dev", "--work-dir", str(tmp_path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert ("Pulumi.dev.yaml: services.web.config_files.nginx.conf.source: cannot read conf/nginx.conf: "
            "No such file or directory") in " ".join(result.output.split())


def test_commands_work_on_the_project_in_the_current_directory_as_pulumi_does(tmp_path, monkeypatch):
    shutil.copy(shop_file("dev"), tmp_path / "Pulumi.dev.yaml")
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["render", "--stack", "dev", "--out", "out"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "1-manifest" / "apps_v1-deployment-shop-dev-api.yaml").exists()
