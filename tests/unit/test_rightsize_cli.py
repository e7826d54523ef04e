"""`leanstack rightsize` fails early and in one line on bad input or an unreachable Prometheus."""

from __future__ import annotations

import shutil

from typer.testing import CliRunner

from leanstack.cli import app
from leanstack.rightsize.local_prometheus import free_port
from tests.unit.conftest import shop_file

runner = CliRunner()


def invoke(tmp_path, *options: str):
    shutil.copy(shop_file("prod"), tmp_path / "Pulumi.prod.yaml")
    return runner.invoke(app, ["rightsize", "--stack", "prod", "--work-dir", str(tmp_path), *options])


def test_an_unreachable_prometheus_exits_1_with_one_line(tmp_path):
    url = f"http://127.0.0.1:{free_port()}"  # bound, then released: nothing listens there
    result = invoke(tmp_path, "--prometheus", url)
    assert result.exit_code == 1
    (line,) = result.output.splitlines()
    assert line.startswith(f"cannot reach Prometheus at {url}: ")
    assert (tmp_path / "Pulumi.prod.yaml").read_text() == shop_file("prod").read_text()


def test_a_bad_window_is_refused_before_anything_is_asked(tmp_path):
    result = invoke(tmp_path, "--prometheus", "http://127.0.0.1:9", "--window", "two weeks")
    assert result.exit_code == 2
    assert "'two weeks' is not a duration" in " ".join(result.output.replace("│", " ").split())


def test_a_missing_stack_file_is_named(tmp_path):
    result = runner.invoke(app, ["rightsize", "--stack", "qa", "--prometheus", "http://127.0.0.1:9",
                                 "--work-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert result.output.strip() == "Pulumi.qa.yaml: cannot read the stack file: No such file or directory"


def test_a_bad_until_is_refused_before_anything_is_asked(tmp_path):
    result = invoke(tmp_path, "--prometheus", "http://127.0.0.1:9", "--until", "yesterday")
    assert result.exit_code == 2
    assert "'yesterday' is not a time" in " ".join(result.output.replace("│", " ").split())
    assert (tmp_path / "Pulumi.prod.yaml").read_text() == shop_file("prod").read_text()


def test_a_service_scaled_to_zero_is_named_and_nothing_is_written(tmp_path):
    # An HPA cannot hold 0 replicas (nor can `replicas`): nothing to measure or size, refused up front.
    head, worker = shop_file("prod").read_text().split("\n    worker:\n")
    text = head + "\n    worker:\n" + worker.replace("min_replicas: 2", "min_replicas: 0", 1)
    (tmp_path / "Pulumi.prod.yaml").write_text(text)
    result = runner.invoke(app, ["rightsize", "--stack", "prod", "--prometheus", "http://127.0.0.1:9",
                                 "--work-dir", str(tmp_path)])
    assert result.exit_code == 2
    (line,) = result.output.splitlines()
    assert line == "Pulumi.prod.yaml: services.worker.autoscaling.min_replicas: 0 is out of range; must be >= 1"
    assert (tmp_path / "Pulumi.prod.yaml").read_text() == text


def test_a_bad_min_history_is_refused_before_anything_is_asked(tmp_path):
    result = invoke(tmp_path, "--prometheus", "http://127.0.0.1:9", "--min-history", "an hour")
    assert result.exit_code == 2
    assert "--min-history" in result.output and "'an hour' is not a duration" in result.output
