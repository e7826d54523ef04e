"""The S3 side of team state, for scripts/s3.sh and the team-state tests (docs/state.md):

    python -m tools.s3 --endpoint URL free                        fail if something listens there already
    python -m tools.s3 --endpoint URL wait --pid PID --log FILE   until the server answers (or its process dies)
    python -m tools.s3 --endpoint URL ensure-bucket BUCKET        create it unless there, versioning on, checked
    python -m tools.s3 --endpoint URL versioning BUCKET           print the bucket's versioning status
    python -m tools.s3 --endpoint URL backend-url BUCKET          the PULUMI_BACKEND_URL of that bucket

Credentials and region come from the environment as for any AWS client (AWS_ACCESS_KEY_ID, ...).
Runs on the venv's python (boto3 is in requirements.lock): scripts/s3.sh calls it through
lib.sh's venv_tool. Every failure is one line naming what is wrong, exit 1.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import sys
import time
from typing import Any, Callable
from urllib.parse import urlsplit

# S3's bucket naming rules (the general-purpose ones): 3-63 characters, lowercase letters, digits,
# dots and hyphens, a letter or digit at each end.
BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
# How long `wait` gives a server that has just been started: the bound of a wait, not a test threshold.
START_TIMEOUT_SECONDS = 30.0


class S3Error(Exception):
    pass


def backend_url(bucket: str, endpoint: str) -> str:
    """Pulumi's DIY-backend URL for BUCKET on a plain-HTTP, path-style S3 server at ENDPOINT
    (http://host:port or host:port). The engine opens it with gocloud.dev's s3blob, whose query
    parameters these are: `endpoint` without a scheme, `disableSSL` for http, and path-style
    addressing, since 127.0.0.1 has no per-bucket DNS names."""
    host, port = host_port(endpoint)
    return f"s3://{check_bucket_name(bucket)}?endpoint={host}:{port}&disableSSL=true&s3ForcePathStyle=true"


def host_port(endpoint: str) -> tuple[str, int]:
    """http://HOST:PORT or HOST:PORT -> (host, port)."""
    host = urlsplit(endpoint).netloc if "://" in endpoint else endpoint
    name, _, port = host.rpartition(":")
    if not name or not port.isdigit() or "/" in host:
        raise S3Error(f"endpoint {endpoint!r} is not HOST:PORT or http://HOST:PORT")
    return name, int(port)


def check_bucket_name(bucket: str) -> str:
    if not BUCKET_NAME.fullmatch(bucket) or ".." in bucket:
        raise S3Error(f"bucket name {bucket!r} breaks S3's naming rules: 3-63 lowercase letters, digits, dots "
                      "or hyphens, a letter or digit at each end")
    return bucket


def check_free(endpoint: str) -> None:
    """Nothing listens on ENDPOINT yet: a server started there would fail to bind, while answers from
    the one already there made it look up."""
    host, port = host_port(endpoint)
    with socket.socket() as probe:
        probe.settimeout(1)
        if probe.connect_ex((host, port)) == 0:
            raise S3Error(f"{host}:{port} is in use by another process: stop it or choose another port "
                          "(LEANSTACK_S3_PORT)")


def client(endpoint: str) -> Any:
    """A boto3 S3 client on ENDPOINT, path-style, a few quick retries (a local server either answers
    or is down)."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3", endpoint_url=endpoint, region_name=os.environ.get("AWS_REGION", "us-east-1"),
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 2, "mode": "standard"},
                      connect_timeout=2, read_timeout=10),
    )


def describe(error: Exception) -> str:
    """One line for a botocore error: the S3 error code and message, or the connection failure."""
    response = getattr(error, "response", None)
    if isinstance(response, dict) and "Error" in response:
        code = response["Error"].get("Code", "")
        message = response["Error"].get("Message", "")
        return f"{code}: {message}".strip(": ")
    return str(error).splitlines()[0] if str(error) else type(error).__name__


def wait(probe: Callable[[], None], alive: Callable[[], bool], log_tail: Callable[[], str],
         timeout: float = START_TIMEOUT_SECONDS, interval: float = 0.2,
         clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> None:
    """Until `probe` returns without raising. A process that died, or no answer within `timeout`,
    is an S3Error naming the cause: the server's last log line, or the last probe error."""
    deadline = clock() + timeout
    while True:
        try:
            probe()
            return
        except Exception as error:  # noqa: BLE001 - any failure to answer means "not yet"
            last = describe(error)
        if not alive():
            raise S3Error(f"the server exited before answering: {log_tail() or last}")
        if clock() > deadline:
            raise S3Error(f"the server did not answer within {timeout:.0f}s: {last}")
        sleep(interval)


def ensure_bucket(s3: Any, bucket: str) -> str:
    """BUCKET exists with versioning Enabled, read back from the server; returns what was done."""
    import botocore.exceptions

    done = "exists"
    check_bucket_name(bucket)
    try:
        s3.head_bucket(Bucket=bucket)
    except botocore.exceptions.ClientError as error:
        if error.response.get("Error", {}).get("Code") not in ("404", "NoSuchBucket", "NotFound"):
            raise S3Error(f"bucket {bucket}: {describe(error)}") from None
        s3.create_bucket(Bucket=bucket)
        done = "created"
    if versioning(s3, bucket) != "Enabled":
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        status = versioning(s3, bucket)
        if status != "Enabled":
            raise S3Error(f"bucket {bucket}: versioning is {status!r} after enabling it (is the server's "
                          "versioning directory configured?)")
        done += ", versioning enabled"
    return done


def versioning(s3: Any, bucket: str) -> str:
    """The bucket's versioning status: Enabled, Suspended, or Off (never configured)."""
    return s3.get_bucket_versioning(Bucket=bucket).get("Status", "Off")


def process_alive(pid: int) -> bool:
    """PID runs and is not a zombie (a server that exited but was not reaped yet counts as dead)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def last_line(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as log:
            lines = [line.strip() for line in log if line.strip()]
    except OSError:
        return ""
    return lines[-1] if lines else ""


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.s3", description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint", required=True, help="http://HOST:PORT of the S3 server")
    commands = parser.add_subparsers(dest="command", required=True)
    waiting = commands.add_parser("wait")
    waiting.add_argument("--pid", type=int, required=True)
    waiting.add_argument("--log", required=True)
    commands.add_parser("free")
    for name in ("ensure-bucket", "versioning", "backend-url"):
        commands.add_parser(name).add_argument("bucket")
    args = parser.parse_args(argv)
    try:
        if args.command == "backend-url":
            print(backend_url(args.bucket, args.endpoint))
            return 0
        if args.command == "free":
            check_free(args.endpoint)
            return 0
        s3 = client(args.endpoint)
        if args.command == "wait":
            wait(s3.list_buckets, lambda: process_alive(args.pid), lambda: last_line(args.log))
        elif args.command == "ensure-bucket":
            print(f"bucket {args.bucket}: {ensure_bucket(s3, args.bucket)}", file=sys.stderr)
        else:
            print(f"bucket {args.bucket}: versioning {versioning(s3, args.bucket)}")
    except S3Error as error:
        print(f"[s3] ERROR: {error}", file=sys.stderr)
        return 1
    except Exception as error:  # botocore's: connection refused, access denied, ...
        print(f"[s3] ERROR: {args.endpoint}: {describe(error)}", file=sys.stderr)
        return 1
    return 0
