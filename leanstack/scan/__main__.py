"""Scan rendered manifests and the apps' Dockerfiles; or render all stacks, scan them and write the report.

    scripts/scan.sh <manifest-dir>...              scan rendered manifests, plus every Dockerfile under apps/
    scripts/scan.sh --report docs/security.md      render dev, staging and prod, scan them, write the report

scripts/scan.sh passes `--project-dir <checkout>`; run as `python -m leanstack.scan`, the project is the
current directory, and every other path defaults to its place under the project (ScanPaths).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from leanstack.components.offline import write_manifests
from leanstack.config.stack_file import load_stack_file, stack_file_name
from leanstack.scan.report import write_report
from leanstack.scan.scanners import STACKS, ScanPaths, manifest_files, overridable, relative, scan, summary


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="scripts/scan.sh", description=__doc__.split("\n\n")[0])
    parser.add_argument("directories", nargs="*", type=Path, help="directories of rendered manifests")
    parser.add_argument("--report", type=Path, help="render dev, staging and prod, scan them and write this markdown file")
    parser.add_argument("--project-dir", type=Path, default=Path.cwd(),
                        help="the Pulumi project: stack files, and the root of the paths below (default: the current directory)")
    for path in overridable():
        parser.add_argument(f"--{path.name.replace('_', '-')}", dest=path.name, type=Path, help=f"default: {path.metadata['where']}")
    args = parser.parse_args(argv)
    if bool(args.report) == bool(args.directories):
        parser.error("give manifest directories, or --report FILE")
    paths = ScanPaths.under(args.project_dir, **{path.name: getattr(args, path.name) for path in overridable()})
    if args.report:
        directories = {stack: paths.rendered / stack for stack in STACKS}
        for stack, directory in directories.items():
            write_manifests(load_stack_file(paths.project / stack_file_name(stack)), stack, directory, paths.project)
    else:
        directories = {relative(directory, paths.project): directory for directory in args.directories}
    missing = [str(d) for d in directories.values() if not manifest_files(d)]
    if missing:
        parser.error(f"no manifests (*.yaml) under {', '.join(missing)}")
    groups, stale = scan(directories, paths)
    print(summary(groups, stale))
    if args.report:
        write_report(args.report, groups, stale, paths)
        print(f"report: {args.report}")
    return 1 if any(r.status == "failed" for results in groups.values() for r in results) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
