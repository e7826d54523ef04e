#!/usr/bin/env python3
"""The floor runtime base against the old one, side by side in one run.

  bases     3.11-runtime (minbase + python3, apt purged) vs 3.11-floor (distroless-like) and
            3.11-floor-debug: uncompressed size (`docker image inspect .Size`)
  apps      for each app: naive (bench/images/<app>/Dockerfile), optimized on 3.11-runtime and
            optimized on 3.11-floor: size, each as a ratio of naive; start -> healthy under the
            pod's hardening flags, confirmed by the image's exec probe (bench/images/run.py)
  rebuilds  for each app, optimized on 3.11-floor: a cold build (--no-cache), warm rebuilds after a
            one-line change to the app's code, rebuilds with nothing changed (bench/images/run.py's
            rebuilds(): medians of --runs), and each as a ratio of the cold build
  analysis  `leanstack images` on every image, read over the registry API: dive's efficiency,
            wasted bytes, findings, and its wall time and peak memory (a child process each);
            also on the seeds' bloated "before" api (bench/images/bloated/Dockerfile: JRE, curl,
            apt lists deleted a layer later, site-packages tests, on the build base)
  django    the django-celery example's shop (examples/django-celery/app) twice, from one context:
            seed 003's "before" (bench/images/django-before/Dockerfile: one stage on the build base,
            a JDK, gcc and libpq-dev, curl, pip's cache, site-packages tests) and its optimized
            Dockerfile on the floor (psycopg2 compiled, libpq bundled by auditwheel): sizes, the
            after/before ratio, and `leanstack images` on both

Usage:
  .venv/bin/python -m bench.images.floor [--apps api,worker] [--runs 3] [--no-django] [--write-doc docs/benchmarks.md]
      [--dive PATH]

`--dive`: dive built from its Go module (`GOBIN=/tmp/dive-bin go install github.com/wagoodman/dive@v0.13.1`).

Needs the engine, registry and bases (scripts/docker.sh, scripts/base-images.sh); redis-server for the
worker. Images are tagged leanstack-bench/<app>:<variant> and pushed to the registry under that name;
the engine's copies are removed at the end unless --keep.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.images import run
from leanstack.images.output import human

REGISTRY = run.REGISTRY
BASES = {"runtime": f"{REGISTRY}/leanstack/python:3.11-runtime", "floor": f"{REGISTRY}/leanstack/python:3.11-floor",
         "floor-debug": f"{REGISTRY}/leanstack/python:3.11-floor-debug"}
VARIANTS = ("naive", "runtime", "floor")  # naive, then optimized on each runtime base


def analyse(ref: str) -> dict:
    """`leanstack images REF --format json` in a child process: its report, wall time and peak RSS."""
    start = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-m", "leanstack.cli", "images", ref, "--format", "json"],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=run.ROOT)
    out = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode not in (0, 3):  # 3: a dive rule broken, still a report
        raise SystemExit(f"leanstack images {ref} failed ({child.returncode})")
    (report,) = json.loads(out)
    return {"seconds": time.perf_counter() - start, "max_rss_mb": usage.ru_maxrss / 1024, "report": report}


def dive_agrees(tag: str, report: dict) -> str:
    """dive's own CI numbers for the engine's copy of the image, against ours ("" without --dive)."""
    if not DIVE:
        return ""
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch, "dive.json")
        run.sh([DIVE, "--ci", tag, "--json", str(out)], check=False, env={**os.environ, "CI": "true"})
        image = json.loads(out.read_text())["image"]
    ours = report["efficiency"]
    same = image["efficiencyScore"] == ours["score"] and image["inefficientBytes"] == ours["wasted_bytes"]
    return "same" if same else f"dive {image['efficiencyScore']:.6f} / {image['inefficientBytes']} B"


def dive_version(binary: str) -> str:
    """The module version Go stamped into the binary (`dive --version` says none for a go install)."""
    found = run.sh(["go", "version", "-m", binary], check=False).stdout
    match = re.search(r"^\s+mod\s+(\S+)\s+(\S+)", found, re.M)
    return f"{match[1]} {match[2]}" if match else binary


def push(tag: str) -> str:
    ref = f"{REGISTRY}/{tag}"
    run.sh(["docker", "tag", tag, ref])
    run.sh(["docker", "push", "-q", ref])
    return ref


def bench_app(app: str, work: Path, runs: int) -> dict:
    opt_ctx, naive_ctx = run.make_contexts(app, work)
    results = {}
    for variant in VARIANTS:  # floor last: its one-line changes land in the optimized context
        tag = f"leanstack-bench/{app}:{variant}"
        ctx, args = ((naive_ctx, {"BASE": run.BUILD_BASE}) if variant == "naive" else
                     (opt_ctx, {"BUILD_BASE": run.BUILD_BASE, "RUNTIME_BASE": BASES[variant]}))
        if variant == "floor":
            run.log(f"{app}/{variant}: cold build (--no-cache), then {runs} warm and {runs} unchanged rebuilds")
            times = run.rebuilds(ctx, run.APPS[app][0], tag, args, runs)
            run.log(f"{app}/{variant}: cold {times['cold']:.2f}s, warm {times['warm']:.2f}s, "
                    f"unchanged {times['unchanged']:.2f}s")
        else:
            run.log(f"{app}/{variant}: build")
            times = {"build": run.build(ctx, tag, args, no_cache=False)}
        size, layers = run.inspect(tag)
        healthy = run.start_to_healthy(app, tag, hardened=variant != "naive")
        found = analyse(push(tag))
        found["dive"] = dive_agrees(tag, found["report"])
        results[variant] = {"size": size, "layers": layers, **times, "start": healthy, **found}
        run.log(f"{app}/{variant}: {size / 1e6:.1f} MB, healthy in {healthy:.2f}s, "
                f"leanstack images {found['seconds']:.2f}s / {found['max_rss_mb']:.0f} MB")
    return results


def top_findings(analysis: dict, count: int = 4) -> str:
    return ", ".join(f"{f['kind']} {human(f['bytes'])}" for f in analysis["report"]["findings"][:count]) or "none"


def bench_before(name: str, source: Path, dockerfile: Path, tag: str, work: Path, args: dict) -> dict:
    """A copy of `source` built with `dockerfile` as `tag`: its size and `leanstack images` report."""
    ctx = work / name
    shutil.copytree(source, ctx, ignore=shutil.ignore_patterns("__pycache__", ".dockerignore"))
    shutil.copy(dockerfile, ctx / "Dockerfile")
    run.log(f"{name}: build")
    run.build(ctx, tag, args, no_cache=False)
    found = analyse(push(tag))
    found["dive"] = dive_agrees(tag, found["report"])
    run.log(f"{name}: leanstack images {found['seconds']:.2f}s / {found['max_rss_mb']:.0f} MB")
    return {"size": run.inspect(tag)[0], **found}


def bench_bloated(work: Path) -> dict:
    """The seeds' "before" image (bench/images/bloated/Dockerfile) on a copy of apps/api."""
    return bench_before("api-bloated", run.ROOT / "apps" / "api", run.BENCH / "bloated" / "Dockerfile",
                        "leanstack-bench/api:bloated", work, {"BASE": run.BUILD_BASE})


def bench_django(work: Path) -> dict:
    """The shop before (seed 003's shape) and optimized on the floor, each from a copy of its context."""
    app = run.ROOT / "examples" / "django-celery" / "app"
    before = bench_before("django-before", app, run.BENCH / "django-before" / "Dockerfile", DJANGO_TAGS[0], work,
                          {"BASE": run.BUILD_BASE})
    after = bench_before("django-floor", app, app / "Dockerfile", DJANGO_TAGS[1], work,
                         {"BUILD_BASE": run.BUILD_BASE, "RUNTIME_BASE": BASES["floor"]})
    return {"before": before, "after": after}


def before_table(tag: str, bloated: dict, optimized: dict, what: str) -> str:
    """The "before" image's report, its findings by layer, and `what` (the optimized image) as a ratio of it."""
    report = bloated["report"]
    eff = report["efficiency"]
    head = (f"`{tag}`: {human(bloated['size'])} (layer tars {human(report['size'])}); efficiency "
            f"{eff['score']:.4f}, wasted {human(eff['wasted_bytes'])}, hidden {human(report['hidden'])}; "
            f"`leanstack images` {bloated['seconds']:.2f} s, {bloated['max_rss_mb']:.0f} MB"
            f"{'; dive: ' + bloated['dive'] if DIVE else ''}. {what} is "
            f"{human(optimized['size'])}, {optimized['size'] / bloated['size']:.2f} of it (after/before).\n\n")
    rows = ["| finding | bytes | layer | biggest paths |", "|---|---:|---|---|"]
    for f in report["findings"]:
        paths = ", ".join(f"{path} ({human(size)})" for path, size in sorted(f["paths"].items(), key=lambda i: -i[1])[:3])
        rows.append(f"| {f['title']} | {human(f['bytes'])} | {f['layer']}: "
                    f"`{report['layers'][f['layer']]['instruction'][:60]}` | {paths} |")
    return head + "\n".join(rows)


def base_table(sizes: dict[str, int], analyses: dict[str, dict]) -> str:
    old = sizes["runtime"]
    rows = ["| base | size | size / 3.11-runtime | findings |", "|---|---:|---:|---|"]
    for name, size in sizes.items():
        rows.append(f"| `{BASES[name].split('/', 1)[1]}` | {size / 1e6:.1f} MB | {size / old:.2f} "
                    f"| {top_findings(analyses[name])} |")
    return "\n".join(rows)


def app_table(results: dict) -> str:
    rows = ["| app | variant | size | layer tars | size / naive | efficiency | wasted | hidden | start -> healthy "
            "| `leanstack images` | findings | dive |", "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|"]
    for app, variants in results.items():
        naive = variants["naive"]["size"]
        for variant, r in variants.items():
            eff = r["report"]["efficiency"]
            label = "naive" if variant == "naive" else f"optimized on 3.11-{variant}"
            rows.append(f"| {app} | {label} | {r['size'] / 1e6:.1f} MB | {r['report']['size'] / 1e6:.1f} MB | "
                        f"{r['size'] / naive:.2f} | {eff['score']:.4f} | {eff['wasted_bytes'] / 1e6:.1f} MB | "
                        f"{r['report']['hidden'] / 1e6:.1f} MB | {r['start']:.2f} s | "
                        f"{r['seconds']:.2f} s, {r['max_rss_mb']:.0f} MB | {top_findings(r, 3)} | {r['dive']} |")
    return "\n".join(rows)


def rebuild_table(results: dict) -> str:
    rows = ["| app (optimized on 3.11-floor) | cold (--no-cache) | warm (1-line change) | warm / cold "
            "| nothing changed | nothing changed / cold | warm - nothing changed |",
            "|---|---:|---:|---:|---:|---:|---:|"]
    for app, variants in results.items():
        r = variants["floor"]
        rows.append(f"| {app} | {r['cold']:.2f} s | {r['warm']:.2f} s | {r['warm'] / r['cold']:.2f} | "
                    f"{r['unchanged']:.2f} s | {r['unchanged'] / r['cold']:.2f} | "
                    f"{r['warm'] - r['unchanged']:+.2f} s |")
    return "\n".join(rows)


def write_doc(path: Path, section: str) -> None:
    text = path.read_text()
    pattern = re.compile(r"^## Image floor\n.*?(?=^## |\Z)", re.S | re.M)
    text = pattern.sub(lambda _: section, text, count=1) if pattern.search(text) else text.rstrip("\n") + "\n\n" + section
    path.write_text(text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--apps", default="api,worker")
    parser.add_argument("--runs", type=int, default=3, help="warm and nothing-changed rebuilds on the floor (median)")
    parser.add_argument("--write-doc", type=Path, help="replace the '## Image floor' section of this markdown file")
    parser.add_argument("--keep", action="store_true", help="keep the leanstack-bench/* images in the engine afterwards")
    parser.add_argument("--no-django", action="store_true", help="skip the django-celery shop before/after")
    parser.add_argument("--dive", help="a dive binary: compare its --ci efficiency and wasted bytes with ours")
    args = parser.parse_args()
    global DIVE, DIVE_VERSION
    DIVE = args.dive
    DIVE_VERSION = dive_version(DIVE) if DIVE else ""
    apps = [app for app in args.apps.split(",") if app]
    unknown = [app for app in apps if app not in run.APPS]
    if unknown:
        raise SystemExit(f"unknown app(s): {', '.join(unknown)}; choose from {', '.join(run.APPS)}")
    run.BUILD = run.builder()
    for image in (run.BUILD_BASE, *BASES.values()):
        if run.sh(["docker", "image", "inspect", image], check=False).returncode != 0:
            run.sh(["docker", "pull", "-q", image])
    if "worker" in apps:
        run.ensure_redis()
    load0, start = os.getloadavg()[0], time.perf_counter()
    sizes = {name: run.inspect(ref)[0] for name, ref in BASES.items()}
    base_analyses = {name: analyse(ref) for name, ref in BASES.items()}
    with tempfile.TemporaryDirectory(prefix="leanstack-floor-") as work:
        results = {app: bench_app(app, Path(work), args.runs) for app in apps}
        bloated = bench_bloated(Path(work)) if "api" in apps else None
        django = None if args.no_django else bench_django(Path(work))
    if not args.keep:  # the engine's copies; the registry keeps its blobs (docs/images.md, gotcha 7)
        tags = [f"leanstack-bench/{app}:{variant}" for app in apps for variant in VARIANTS]
        tags += ["leanstack-bench/api:bloated", *DJANGO_TAGS]
        for tag in tags:
            run.sh(["docker", "rmi", tag, f"{REGISTRY}/{tag}"], check=False)
    load1, minutes = os.getloadavg()[0], (time.perf_counter() - start) / 60
    tables = base_table(sizes, base_analyses) + "\n\n" + app_table(results) + "\n\n" + rebuild_table(results)
    if bloated:
        tables += "\n\n" + before_table("leanstack-bench/api:bloated", bloated, results["api"]["floor"],
                                         "The optimized api on the floor")
    if django:
        tables += "\n\n" + before_table(DJANGO_TAGS[0], django["before"], django["after"],
                                         f"The optimized shop on the floor (`{DJANGO_TAGS[1]}`, efficiency "
                                         f"{django['after']['report']['efficiency']['score']:.4f})")
    info = (f"Machine: {run.machine()}. Load average (1 min) {load0:.1f} at start, {load1:.1f} at end; "
            f"the run took {minutes:.1f} min. Builder: `{' '.join(run.BUILD[0])}`"
            f"{' (DOCKER_BUILDKIT=1)' if run.BUILD[1].get('DOCKER_BUILDKIT') else ''}.")
    print(tables + "\n\n" + info)
    if args.write_doc:
        section = (f"## Image floor\n\nProduced by `python -m bench.images.floor {' '.join(sys.argv[1:])}` on "
                   f"{time.strftime('%Y-%m-%d', time.gmtime())}. {info}\n\n{tables}\n\n"
                   "Sizes are uncompressed (`docker image inspect .Size`); layer tars is the same counted independently "
                   "by `leanstack images` from the pushed layer tars (sum of their entries). "
                   "Efficiency and wasted bytes are dive's "
                   "(docs/images.md); start -> healthy runs the optimized images with `--read-only --tmpfs /tmp "
                   "--user 10001 --cap-drop ALL --security-opt no-new-privileges` and confirms with the exec probe; "
                   "`leanstack images` reads each image from the local registry (wall time, peak RSS of the process)"
                   + (f"; dive: `{DIVE_VERSION}` `--ci` on the engine's copy, \"same\" when its efficiency and wasted "
                      "bytes equal ours exactly" if DIVE else "") + ". "
                   f"Rebuilds, the optimized Dockerfile on the floor: cold is one `--no-cache` build (both stages, the "
                   f"downloads from PyPI included); warm is the median of {args.runs} rebuilds, each after a new line "
                   "appended to the app's code (api `app/main.py`, worker `worker/__main__.py`, web "
                   f"`webserver/__main__.py`); nothing changed is the median of {args.runs} rebuilds with every step "
                   "cached, the fixed cost (client, context, export) a warm rebuild pays too. The sizes and the "
                   "floor's start -> healthy and `leanstack images` are of the image after those changes (a few "
                   "bytes more)."
                   + (" web installs nothing: its cold build is one small RUN (gzip of the assets), and a 1-line "
                      "change misses the cache only at its last step (`COPY webserver/`), so its warm rebuild is "
                      "about the fixed cost and its warm/cold stays far above api's and worker's (the Images "
                      "section's note)." if "web" in results else "") + "\n\n")
        write_doc(args.write_doc, section)
        run.log(f"wrote section '## Image floor' in {args.write_doc}")
    return 0


DIVE: str | None = None
DIVE_VERSION = ""
DJANGO_TAGS = ("leanstack-bench/django:before", "leanstack-bench/django:floor")

if __name__ == "__main__":
    sys.exit(main())
