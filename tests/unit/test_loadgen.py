"""tools.loadgen: bounded by count and by duration, stops by itself, and sends nothing to an address
outside the local cluster's pod and Service networks."""

from __future__ import annotations

import itertools
import json

import pytest

from tools.loadgen import LoadError, check_target, main, run

SERVICE = "http://10.96.12.34:8080/health"


def test_stops_at_the_request_count():
    sent = []
    result = run(SERVICE, 50, 60, 4, get=lambda url, timeout: sent.append(url) or 200)
    assert (result.sent, result.ok, len(sent), result.errors) == (50, 50, 50, {})


def test_stops_at_the_deadline_with_requests_left():
    ticks = itertools.count(0, 0.5)  # every clock read advances half a second
    result = run(SERVICE, 1000, 10, 1, get=lambda url, timeout: 200, clock=lambda: next(ticks))
    assert 0 < result.sent < 1000


def test_counts_http_errors_and_connection_errors_apart():
    answers = iter([200, 503, ConnectionRefusedError(), 200])

    def get(url, timeout):
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer
    result = run(SERVICE, 4, 60, 1, get=get)
    assert (result.ok, result.errors) == (2, {"http 503": 1, "ConnectionRefusedError": 1})


@pytest.mark.parametrize("url, says", [
    ("http://127.0.0.1:8080/", "outside the local cluster's networks"),
    ("http://192.168.1.10/", "outside the local cluster's networks"),
    ("http://10.245.0.5/", "outside the local cluster's networks"),
    ("http://example.com/", "not a name"),
    ("https://10.96.0.1/", "only http://"),
])
def test_refuses_targets_outside_the_cluster_and_sends_nothing(url, says):
    sent = []
    with pytest.raises(LoadError, match=says):
        run(url, 10, 10, 1, get=lambda u, t: sent.append(u) or 200)
    assert sent == []


def test_pod_and_service_addresses_are_targets():
    assert check_target("http://10.244.0.17:8080/health")
    assert check_target(SERVICE)


@pytest.mark.parametrize("requests, duration, concurrency, says", [
    (0, 10, 1, "requests 0"), (2_000_000, 10, 1, "requests"), (10, 0, 1, "duration 0"),
    (10, 601, 1, "duration"), (10, 10, 0, "concurrency 0"), (10, 10, 65, "concurrency"),
])
def test_refuses_unbounded_runs(requests, duration, concurrency, says):
    with pytest.raises(LoadError, match=says):
        run(SERVICE, requests, duration, concurrency, get=lambda u, t: 200)


def test_cli_prints_one_line_for_a_refused_target_and_exits_2(capsys):
    assert main(["http://8.8.8.8/", "--requests", "1", "--duration", "1"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and "8.8.8.8 is outside" in err


def test_cli_prints_a_json_summary(monkeypatch, capsys):
    monkeypatch.setattr("tools.loadgen.http_get", lambda url, timeout: 200)
    assert main([SERVICE, "--requests", "3", "--duration", "5", "--concurrency", "2"]) == 0
    assert json.loads(capsys.readouterr().out)["ok"] == 3
