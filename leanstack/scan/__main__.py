"""Scan rendered manifests and the apps' Dockerfiles; or render all stacks, scan them and write the report.

    scripts/scan.sh <manifest-dir>...              scan rendered manifests, plus every Dockerfile under apps/
    scripts/scan.sh --report docs/security.md      render dev, staging and prod, scan them, write the report
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from leanstack.components.offline import write_manifests
from leanstack.config.stack_file import load_stack_file, stack_file_name
from leanstack.scan.report import write_report
from leanstack.scan.scanners import ROOT, STACKS, manifest_files, relative, scan, summary


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="scripts/scan.sh", description=__doc__.split("\n\n")[0])
    parser.add_argument("directories", nargs="*", type=Path, help="directories of rendered manifests")
    parser.add_argument("--report", type=Path, help="render dev, staging and prod, scan them and write this markdown file")
    args = parser.parse_args(argv)
    if bool(args.report) == bool(args.directories):
        parser.error("give manifest directories, or --report FILE")
    if args.report:
        directories = {stack: ROOT / "rendered" / stack for stack in STACKS}
        for stack, directory in directories.items():
            write_manifests(load_stack_file(ROOT / stack_file_name(stack)), stack, directory)
    else:
        directories = {relative(directory): directory for directory in args.directories}
    missing = [str(d) for d in directories.values() if not manifest_files(d)]
    if missing:
        parser.error(f"no manifests (*.yaml) under {', '.join(missing)}")
    groups, stale = scan(directories)
    print(summary(groups, stale))
    if args.report:
        write_report(args.report, groups, stale)
        print(f"report: {args.report}")
    return 1 if any(r.status == "failed" for results in groups.values() for r in results) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
