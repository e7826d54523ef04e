#!/usr/bin/env python3
"""Naive vs optimized container images for the sample apps, measured side by side.

For each app (apps/api, apps/worker, apps/web) this builds
  naive      bench/images/<app>/Dockerfile: one stage, full build base, root,
             `COPY . .` of the whole context (no .dockerignore), pip cache kept
  optimized  apps/<app>/Dockerfile: multi-stage, runtime base, venv only, non-root
and reports image size, layer count, cold build time (--no-cache), warm rebuild
time after a one-line change to the app's code, and container start -> healthy
(/health answers 200 for api and web; for the worker, its heartbeat appears and
`python -m worker.health` exits 0), with optimized/naive ratios.

Builds run one at a time (shared CPU). Contexts are temporary copies, so the
one-line change never touches the work tree. The optimized containers run
hardened: --read-only --tmpfs /tmp --user 10001 --cap-drop ALL
--security-opt no-new-privileges. The naive ones run as their Dockerfile says.

Usage:
  bench/images/run.py [--apps api,worker,web] [--runs 3] [--write-doc docs/benchmarks.md]

Needs: scripts/docker.sh and scripts/base-images.sh done (engine, registry,
bases); redis-server on PATH for the worker (started on 127.0.0.1:6390).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BENCH = Path(__file__).resolve().parent
REGISTRY = os.environ.get("REGISTRY", "127.0.0.1:5000")
BUILD_BASE = os.environ.get("BUILD_BASE", f"{REGISTRY}/leanstack/python:3.11-build")
RUNTIME_BASE = os.environ.get("RUNTIME_BASE", f"{REGISTRY}/leanstack/python:3.11-runtime")
CA_BUNDLE = os.environ.get("PIP_CERT_FILE", "/etc/ssl/certs/ca-certificates.crt")
REDIS_PORT = int(os.environ.get("BENCH_REDIS_PORT", "6390"))
HARDENED = ["--read-only", "--tmpfs", "/tmp", "--user", "10001", "--cap-drop", "ALL",
            "--security-opt", "no-new-privileges"]

# app -> (file to change for the warm rebuild, health kind, port)
APPS = {
    "api": ("app/main.py", "http", 18080),
    "worker": ("worker/__main__.py", "heartbeat", None),
    "web": ("webserver/__main__.py", "http", 18081),
}


def sh(cmd: list[str], check: bool = True, env: dict | None = None, capture: bool = True) -> subprocess.CompletedProcess:
    p = subprocess.run(cmd, text=True, capture_output=capture, env=env)
    if check and p.returncode != 0:
        sys.stderr.write(f"$ {' '.join(cmd)}\n{p.stdout}\n{p.stderr}\n")
        raise SystemExit(f"command failed ({p.returncode}): {' '.join(cmd[:4])} ...")
    return p


def builder() -> tuple[list[str], dict]:
    """A BuildKit-capable `docker build` (buildx if present, else Debian's 20.10 client)."""
    env = dict(os.environ)
    if sh(["docker", "buildx", "version"], check=False).returncode == 0:
        return ["docker", "buildx", "build", "--load"], env
    for c in ("/usr/bin/docker", shutil.which("docker")):
        if c and Path(c).exists():
            env["DOCKER_BUILDKIT"] = "1"
            probe = subprocess.run([c, "build", "-q", "-t", "leanstack-buildkit-probe", "-"],
                                   input="FROM scratch\nLABEL probe=1\n", text=True, capture_output=True, env=env)
            sh(["docker", "rmi", "leanstack-buildkit-probe"], check=False)
            if probe.returncode == 0:
                return [c, "build"], env
    raise SystemExit("no BuildKit-capable docker client (docker buildx, or Debian's docker.io client)")


def build(ctx: Path, tag: str, build_args: dict, no_cache: bool) -> float:
    cmd, env = BUILD
    args = [*cmd, "-q", "-t", tag, "-f", str(ctx / "Dockerfile")]
    for k, v in build_args.items():
        args += ["--build-arg", f"{k}={v}"]
    if Path(CA_BUNDLE).is_file():
        args += ["--secret", f"id=pip_cert,src={CA_BUNDLE}"]
    if no_cache:
        args.append("--no-cache")
    args.append(str(ctx))
    old = image_id(tag)
    t = time.perf_counter()
    sh(args, env=env)
    elapsed = time.perf_counter() - t
    if old and old != image_id(tag):
        sh(["docker", "rmi", old], check=False)  # the previous build of this tag, now dangling
    return elapsed


def image_id(tag: str) -> str:
    p = sh(["docker", "image", "inspect", "-f", "{{.Id}}", tag], check=False)
    return p.stdout.strip() if p.returncode == 0 else ""


def inspect(tag: str) -> tuple[int, int]:
    out = sh(["docker", "image", "inspect", "-f", "{{.Size}} {{len .RootFS.Layers}}", tag]).stdout.split()
    return int(out[0]), int(out[1])


def free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=0.5) as r:
            return r.status == 200
    except Exception:  # noqa: BLE001
        return False


def start_to_healthy(app: str, tag: str, hardened: bool, timeout: float = 30.0) -> float:
    _, kind, port = APPS[app]
    name = f"leanstack-bench-{app}-{os.getpid()}"
    flags = list(HARDENED) if hardened else []
    tmpdir = None
    if kind == "http":
        if not free(port):
            raise SystemExit(f"port {port} busy")
        run = ["docker", "run", "-d", "--name", name, *flags, "-p", f"127.0.0.1:{port}:8080", tag]
    else:
        # Heartbeat written to a host directory mounted at /tmp (root fs stays read-only),
        # so it can be watched without `docker exec` overhead in the measurement.
        tmpdir = tempfile.mkdtemp(prefix="bench-hb-")
        os.chmod(tmpdir, 0o1777)
        flags = [f for f in flags if f not in ("--tmpfs", "/tmp")]
        run = ["docker", "run", "-d", "--name", name, *flags, "--network", "host",
               "-v", f"{tmpdir}:/tmp", "-e", f"REDIS_URL=redis://127.0.0.1:{REDIS_PORT}/0", tag]
    t0 = time.perf_counter()
    sh(run)
    try:
        while True:
            elapsed = time.perf_counter() - t0
            if elapsed > timeout:
                logs = sh(["docker", "logs", name], check=False)
                raise SystemExit(f"{tag}: not healthy after {timeout}s\n{logs.stdout}{logs.stderr}")
            if kind == "http":
                if http_ok(f"http://127.0.0.1:{port}/health"):
                    break
            elif Path(tmpdir, "worker.heartbeat").is_file():
                break
            time.sleep(0.02)
        # Confirm with the probe the image ships (exec probe, as Kubernetes would).
        probe = ["python", "-m", "app.healthcheck"] if app == "api" else (
            ["python", "-m", "worker.health"] if app == "worker" else ["python3", "-m", "webserver.healthcheck"])
        if sh(["docker", "exec", name, *probe], check=False).returncode != 0:
            raise SystemExit(f"{tag}: exec health probe failed")
        return elapsed
    finally:
        sh(["docker", "rm", "-f", name], check=False)
        if tmpdir:
            shutil.rmtree(tmpdir, ignore_errors=True)


def ensure_redis() -> None:
    with socket.socket() as s:
        if s.connect_ex(("127.0.0.1", REDIS_PORT)) == 0:
            return
    if not shutil.which("redis-server"):
        raise SystemExit("redis-server missing: apt-get install -y redis-server")
    d = Path(tempfile.gettempdir(), "leanstack-bench-redis")
    d.mkdir(exist_ok=True)
    sh(["redis-server", "--port", str(REDIS_PORT), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
        "--dir", str(d), "--daemonize", "yes", "--pidfile", str(d / "redis.pid"), "--logfile", str(d / "redis.log")])
    for _ in range(50):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", REDIS_PORT)) == 0:
                return
        time.sleep(0.1)
    raise SystemExit("redis-server did not start")


def make_contexts(app: str, work: Path) -> tuple[Path, Path]:
    src = ROOT / "apps" / app
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache")
    opt = work / f"{app}-optimized"
    shutil.copytree(src, opt, ignore=ignore)
    naive = work / f"{app}-naive"
    shutil.copytree(src, naive, ignore=ignore)
    (naive / ".dockerignore").unlink(missing_ok=True)  # naive: whole context
    shutil.copy(BENCH / app / "Dockerfile", naive / "Dockerfile")
    return opt, naive


def one_line_change(ctx: Path, rel: str, n: int) -> None:
    # Unique per run: BuildKit's cache is content-addressed, so a change that an
    # earlier benchmark run already built would be a cache hit, not a rebuild.
    with open(ctx / rel, "a") as f:
        f.write(f"BENCH_CHANGE = '{time.time_ns()}-{n}'  # one-line app change\n")


def bench_app(app: str, runs: int, work: Path) -> dict:
    opt_ctx, naive_ctx = make_contexts(app, work)
    rel = APPS[app][0]
    res: dict = {}
    for variant, ctx, args, hardened in (
        ("naive", naive_ctx, {"BASE": BUILD_BASE}, False),
        ("optimized", opt_ctx, {"BUILD_BASE": BUILD_BASE, "RUNTIME_BASE": RUNTIME_BASE}, True),
    ):
        tag = f"leanstack-bench/{app}:{variant}"
        log(f"{app}/{variant}: cold build (--no-cache)")
        times = rebuilds(ctx, rel, tag, args, runs)
        size, layers = inspect(tag)
        log(f"{app}/{variant}: start -> healthy x{runs}")
        st = [start_to_healthy(app, tag, hardened) for _ in range(runs)]
        res[variant] = {"size": size, "layers": layers, **times, "start": statistics.median(st), "start_all": st}
        log(f"{app}/{variant}: {size / 1e6:.1f} MB, {layers} layers, cold {times['cold']:.1f}s, "
            f"warm {times['warm']:.2f}s, healthy {statistics.median(st):.2f}s")
    return res


def rebuilds(ctx: Path, rel: str, tag: str, build_args: dict, runs: int) -> dict:
    """A cold build (--no-cache), then `runs` warm rebuilds each after a one-line change to `rel`, then
    `runs` rebuilds with nothing changed: seconds (medians for the warm ones)."""
    cold = build(ctx, tag, build_args, no_cache=True)
    warm = []
    for i in range(runs):
        one_line_change(ctx, rel, i)
        warm.append(build(ctx, tag, build_args, no_cache=False))
    # Nothing changed: every step cached, so this is the fixed cost (client, context, export)
    # that a 1-line change pays too; warm minus this is what the change itself costs.
    unchanged = statistics.median(build(ctx, tag, build_args, no_cache=False) for _ in range(runs))
    return {"cold": cold, "warm": statistics.median(warm), "unchanged": unchanged, "warm_all": warm}


T0 = time.perf_counter()


def log(msg: str) -> None:
    print(f"[bench {time.perf_counter() - T0:6.1f}s] {msg}", file=sys.stderr, flush=True)


def fmt_table(results: dict) -> str:
    rows = ["| app | metric | naive | optimized | optimized/naive |", "|---|---|---:|---:|---:|"]
    for app, r in results.items():
        n, o = r["naive"], r["optimized"]
        rows += [
            f"| {app} | image size | {n['size'] / 1e6:.1f} MB | {o['size'] / 1e6:.1f} MB | {o['size'] / n['size']:.2f} |",
            f"| {app} | layers | {n['layers']} | {o['layers']} | {o['layers'] / n['layers']:.2f} |",
            f"| {app} | cold build (--no-cache) | {n['cold']:.1f} s | {o['cold']:.1f} s | {o['cold'] / n['cold']:.2f} |",
            f"| {app} | warm rebuild (1-line change) | {n['warm']:.2f} s | {o['warm']:.2f} s | {o['warm'] / n['warm']:.2f} |",
            f"| {app} | warm / cold (same image) | {n['warm'] / n['cold']:.2f} | {o['warm'] / o['cold']:.2f} | |",
            f"| {app} | rebuild, nothing changed (fixed cost) | {n['unchanged']:.2f} s | {o['unchanged']:.2f} s | {o['unchanged'] / n['unchanged']:.2f} |",
            f"| {app} | nothing-changed / cold (same image) | {n['unchanged'] / n['cold']:.2f} | {o['unchanged'] / o['cold']:.2f} | |",
            f"| {app} | start -> healthy | {n['start']:.2f} s | {o['start']:.2f} s | {o['start'] / n['start']:.2f} |",
        ]
    return "\n".join(rows)


def targets(results: dict) -> list[str]:
    out = []
    if "api" in results:
        r = results["api"]["optimized"]["size"] / results["api"]["naive"]["size"]
        out.append(f"- optimized api size <= 25% of naive: {r:.0%} -> {'PASS' if r <= 0.25 else 'FAIL'}")
    for app, r in results.items():
        o = r["optimized"]
        wc = o["warm"] / o["cold"]
        out.append(f"- {app}: optimized warm rebuild <= 20% of cold: {wc:.0%} -> {'PASS' if wc <= 0.20 else 'FAIL'}")
        out.append(f"- {app}: optimized start -> healthy <= 2 s: {o['start']:.2f} s -> {'PASS' if o['start'] <= 2 else 'FAIL'}")
    return out


def machine() -> str:
    cpu = "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "?"
    try:
        kb = int(re.search(r"MemTotal:\s+(\d+)", open("/proc/meminfo").read()).group(1))
        mem = f"{kb / 1024 / 1024:.0f} GiB"
    except (OSError, AttributeError):
        pass
    sv = sh(["docker", "version", "--format", "{{.Server.Version}}"], check=False).stdout.strip()
    return f"{os.cpu_count()} cores ({cpu}), {mem} RAM, {platform.system()} {platform.release()}, Docker engine {sv}"


def write_doc(path: Path, section: str) -> None:
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    pat = re.compile(r"^## Images\n.*?(?=^## |\Z)", re.S | re.M)
    if pat.search(text):
        text = pat.sub(lambda _: section, text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--apps", default="api,worker,web")
    ap.add_argument("--runs", type=int, default=3, help="warm rebuilds and starts per variant (median)")
    ap.add_argument("--write-doc", type=Path, help="replace the '## Images' section of this markdown file")
    ap.add_argument("--json", type=Path, help="also write raw results here")
    ap.add_argument("--keep", action="store_true", help="keep the leanstack-bench/* images afterwards")
    a = ap.parse_args()
    apps = [x for x in a.apps.split(",") if x]
    for x in apps:
        if x not in APPS:
            raise SystemExit(f"unknown app {x}")
    global BUILD
    BUILD = builder()
    for img in (BUILD_BASE, RUNTIME_BASE):
        if sh(["docker", "image", "inspect", img], check=False).returncode != 0:
            sh(["docker", "pull", "-q", img])
    if "worker" in apps:
        ensure_redis()
    load0 = os.getloadavg()[0]
    results = {}
    with tempfile.TemporaryDirectory(prefix="leanstack-bench-") as work:
        for app in apps:
            results[app] = bench_app(app, a.runs, Path(work))
    load1 = os.getloadavg()[0]
    if not a.keep:
        for app in apps:
            for variant in ("naive", "optimized"):
                sh(["docker", "rmi", f"leanstack-bench/{app}:{variant}"], check=False)
    cmd = "bench/images/run.py " + " ".join(sys.argv[1:])
    table = fmt_table(results)
    tg = "\n".join(targets(results))
    info = (f"Machine: {machine()}. Load average (1 min) {load0:.1f} at start, {load1:.1f} at end "
            f"(other work shares the CPU). Builder: `{' '.join(BUILD[0])}`"
            f"{' (DOCKER_BUILDKIT=1)' if BUILD[1].get('DOCKER_BUILDKIT') else ''}. "
            f"Medians of {a.runs} warm rebuilds / starts; cold = one `--no-cache` build (downloads from PyPI included).")
    print(table)
    print()
    print(tg)
    print()
    print(info)
    if a.json:
        a.json.write_text(json.dumps(results, indent=2))
    if a.write_doc:
        date = time.strftime("%Y-%m-%d", time.gmtime())
        section = (
            "## Images\n\n"
            f"Produced by `{cmd}` on {date}, after `scripts/docker.sh` and `scripts/base-images.sh`.\n"
            f"Bases: naive = `{BUILD_BASE}` (single stage); optimized = build `{BUILD_BASE}`, "
            f"runtime `{RUNTIME_BASE}` (see docs/images.md).\n\n"
            f"{info}\n\n{table}\n\nTargets:\n\n{tg}\n\n"
            "Naive = `bench/images/<app>/Dockerfile` (one stage on the build base, root, `COPY . .` "
            "before `pip install`, pip cache kept, no .dockerignore). Optimized = `apps/<app>/Dockerfile` "
            "run with `--read-only --tmpfs /tmp --user 10001 --cap-drop ALL --security-opt no-new-privileges`. "
            "Start -> healthy: from `docker run -d` until `/health` answers 200 on a published loopback port "
            "(api, web) or the worker's heartbeat file appears (worker, Redis on loopback, host network); "
            "each is then confirmed by the image's own exec probe.\n\n"
            "Notes:\n\n"
            "- The naive images keep pip's cache on purpose, but on this machine pip stores none: "
            "the egress proxy answers without caching headers, so the naive sizes are base + "
            "packages only. Elsewhere they are larger by the size of the downloaded wheels.\n"
            "- Cold builds include the downloads from PyPI, so network speed adds noise. The "
            "optimized cold build does more (two stages, a venv), so it is not faster "
            "than the naive one. The gain is in warm rebuilds, size and attack surface.\n"
            "- Optimized here runs on 3.11-runtime (the stacks use 3.11-floor): the sizes and rebuild times "
            "on the floor, and the size target met there, are in the Image floor section below "
            "(bench/images/floor.py).\n"
            + ("- web installs nothing, so its cold build is well under 1 s, most of it the one RUN "
               "(a Python start that gzips the assets). A 1-line change misses the cache only at the "
               "last step (`COPY webserver/`; `--progress=plain` shows every other step CACHED, "
               "build stage included), so web's warm rebuild is about its nothing-changed rebuild: "
               "the fixed cost of client, context and export, not a cache miss of ours. warm/cold "
               "cannot get near 20% there: the target is meant for images with a dependency "
               "layer (api, worker).\n" if "web" in results else "")
            + "\n"
        )
        write_doc(a.write_doc, section)
        log(f"wrote section '## Images' in {a.write_doc}")
    return 0


BUILD: tuple[list[str], dict]

if __name__ == "__main__":
    sys.exit(main())
