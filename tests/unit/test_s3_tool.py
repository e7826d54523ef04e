"""tools.s3, which scripts/s3.sh uses to wait for the S3 server and to make the state bucket; the
bucket calls themselves run against the real server in tests/e2e/test_team_state.py."""

from __future__ import annotations

import socket

import pytest
from botocore.exceptions import ClientError

from tools.s3 import S3Error, backend_url, check_free, describe, main, wait


def test_the_backend_url_names_the_bucket_a_plain_http_endpoint_without_scheme_and_path_style():
    expected = "s3://state?endpoint=127.0.0.1:9010&disableSSL=true&s3ForcePathStyle=true"
    assert backend_url("state", "http://127.0.0.1:9010") == expected
    assert backend_url("state", "127.0.0.1:9010") == expected


@pytest.mark.parametrize("endpoint", ["http://", "127.0.0.1:9010/extra"])
def test_an_endpoint_that_is_not_host_and_port_is_refused_naming_the_form(endpoint):
    with pytest.raises(S3Error, match="is not HOST:PORT or http://HOST:PORT"):
        backend_url("state", endpoint)


class Clock:
    """Time that passes only when the waiter sleeps: the loop's bound without real waiting."""

    def __init__(self) -> None:
        self.now = 0.0

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def refusing(times: int):
    calls = {"n": 0}

    def probe() -> None:
        calls["n"] += 1
        if calls["n"] <= times:
            raise ConnectionRefusedError("connection refused")
    return probe


def test_wait_returns_once_the_server_answers():
    clock = Clock()
    wait(refusing(3), lambda: True, lambda: "", timeout=30, interval=0.2, clock=lambda: clock.now, sleep=clock.sleep)
    assert clock.now == pytest.approx(0.6)


def test_a_server_that_exits_is_reported_with_its_last_log_line_at_once():
    clock = Clock()
    with pytest.raises(S3Error, match="exited before answering: listen tcp 127.0.0.1:9010: bind: address already in use"):
        wait(refusing(99), lambda: False, lambda: "listen tcp 127.0.0.1:9010: bind: address already in use",
             clock=lambda: clock.now, sleep=clock.sleep)
    assert clock.now == 0


def test_a_server_that_never_answers_is_reported_after_the_bound_with_the_last_error():
    clock = Clock()
    with pytest.raises(S3Error, match="did not answer within 5s: connection refused"):
        wait(refusing(999), lambda: True, lambda: "", timeout=5, interval=1, clock=lambda: clock.now, sleep=clock.sleep)


def test_an_s3_error_is_described_by_its_code_and_message_on_one_line():
    missing = ClientError({"Error": {"Code": "NoSuchBucket", "Message": "The specified bucket does not exist"}}, "HeadBucket")
    assert describe(missing) == "NoSuchBucket: The specified bucket does not exist"
    assert describe(OSError("first line\nsecond line")) == "first line"


def test_the_command_line_prints_the_backend_url_and_refuses_a_bad_endpoint_in_one_line(capsys):
    assert main(["--endpoint", "http://127.0.0.1:9010", "backend-url", "state"]) == 0
    assert capsys.readouterr().out == "s3://state?endpoint=127.0.0.1:9010&disableSSL=true&s3ForcePathStyle=true\n"
    assert main(["--endpoint", "http://", "backend-url", "state"]) == 1
    assert capsys.readouterr().err == "[s3] ERROR: endpoint 'http://' is not HOST:PORT or http://HOST:PORT\n"


@pytest.mark.parametrize("bucket", ["Bad_Name", "ab", "-state", "state-", "a..b", "x" * 64])
def test_a_bucket_name_outside_s3s_rules_is_refused_before_any_request(bucket):
    with pytest.raises(S3Error, match="breaks S3's naming rules"):
        backend_url(bucket, "127.0.0.1:9010")


def test_a_port_something_listens_on_is_not_free(tmp_path):
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        with pytest.raises(S3Error, match=f"127.0.0.1:{port} is in use by another process"):
            check_free(f"http://127.0.0.1:{port}")
    check_free(f"http://127.0.0.1:{port}")  # closed again
