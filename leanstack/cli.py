"""`leanstack`: the command line (typer + rich). Each command is a thin shell over the library.

    leanstack cost --stack prod [--format table|markdown|json|comment] [--fail-above 10%] [--all]
    leanstack render --stack prod --out rendered/prod
    leanstack rightsize --stack prod --prometheus URL [--window 14d] [--step 5m] [--strategy krr|vpa] [--write]
    leanstack derive-stack --from dev --to local --kubeconfig PATH [--context NAME] [--image REPOSITORY=REF]
    leanstack images [REF...] [--stack dev] [--format table|markdown|json] [--top 10]

Each command imports the library modules it uses when it runs, so `cost` has the engine's preview
running before pydantic and our config layer load (its overhead over `pulumi preview`:
bench/cost_overhead.py, docs/benchmarks.md).
"""

from __future__ import annotations

import os
import sys
from enum import Enum
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from leanstack.config.errors import ConfigError
from leanstack.costing.budget import Budget, BudgetError
from leanstack.costing.preview import PreviewError, RunningPreview

app = typer.Typer(add_completion=False, no_args_is_help=True, help="leanstack tools")
# Like `pulumi` itself, every command works on the project in the current directory unless told otherwise.
WORK_DIR = typer.Option(Path("."), "--work-dir", help="Pulumi project directory (Pulumi.yaml, Pulumi.<stack>.yaml); "
                        "default: the current directory.", show_default=False)


class Format(str, Enum):
    table = "table"
    markdown = "markdown"
    json = "json"
    comment = "comment"  # markdown behind a marker that CI uses to update its one comment per stack


@app.callback()
def main() -> None:
    """leanstack tools."""


def _budget(text: Optional[str]) -> Optional[Budget]:
    if text is None:
        return None
    try:
        return Budget.parse(text)
    except BudgetError as error:
        raise typer.BadParameter(str(error), param_hint="--fail-above") from None


def _fail(err: Console, message: str, code: int) -> typer.Exit:
    err.print(message, markup=False, highlight=False, emoji=False)  # a ref like repo:x: stays text
    return typer.Exit(code)


@app.command()
def cost(
    stack: str = typer.Option(..., "--stack", "-s", help="Stack to preview (dev, staging, prod)."),
    output: Format = typer.Option(None, "--format", "-f", help="table (default in a terminal), markdown, json, or comment (the PR comment body)."),
    fail_above: Optional[str] = typer.Option(None, "--fail-above", help="Exit 3 if the monthly baseline rises by more than PCT% or AMOUNT USD."),
    everything: bool = typer.Option(False, "--all", help="List resources that cost nothing too (folded into one line by default)."),
    work_dir: Path = WORK_DIR,
) -> None:
    """Preview STACK and print the per-resource and total monthly cost delta, with the resources behind it."""
    err = Console(stderr=True, soft_wrap=True)  # an error stays one line, however narrow the terminal
    budget = _budget(fail_above)
    # The engine's preview runs while the stack file is validated and checked (and everything after it
    # is imported): a config error stops it.
    with RunningPreview(stack, work_dir) as running:
        from leanstack.config.lint import warnings as config_warnings
        from leanstack.config.stack_file import load_stack_file, stack_file_name
        from leanstack.costing.checks import platform_problems
        from leanstack.costing.delta import cost_delta
        from leanstack.costing.images import image_changes, image_rows
        from leanstack.costing.output import print_table, signed, to_comment, to_json, to_markdown
        from leanstack.images.targets import built_facts, preview_facts

        source = stack_file_name(stack)
        try:
            config = load_stack_file(work_dir / source)
        except ConfigError as error:
            raise _fail(err, str(error), 2)
        # Config advice and platform checks (costing.checks): warnings go to stderr, errors stop like config errors.
        checked = platform_problems(config)
        _warn(err, source, [*config_warnings(config), *checked.warnings])
        if checked.errors:
            raise _fail(err, str(ConfigError(source, checked.errors)), 2)
        try:
            with err.status(f"previewing {stack} ..."):
                preview = running.result()
        except PreviewError as error:
            raise _fail(err, str(error), 1)
    # Old sides from the registry (by the digest in state); the new side of an image this preview
    # built, from the OCI layout that build wrote (leanstack.images.layout).
    image_delta = image_rows(image_changes(preview.steps), preview_facts, built_facts(work_dir, stack))
    report = cost_delta(stack, preview.steps, config.cost.sheet(), preview.counts, config.cost.cluster_fee_share, image_delta)
    chosen = output or (Format.table if sys.stdout.isatty() else Format.markdown)
    if chosen is Format.table:
        print_table(report, Console(), everything)
    elif chosen is Format.json:
        sys.stdout.write(to_json(report))
    elif chosen is Format.comment:
        sys.stdout.write(to_comment(report, everything))
    else:
        sys.stdout.write(to_markdown(report, everything))
    if budget is not None and budget.exceeded_by(report.delta.baseline, report.old_total.baseline):
        raise _fail(err, f"monthly baseline rises by {signed(report.delta.baseline)} USD, above the budget {budget}", 3)


def _warn(err: Console, source: str, problems: list) -> None:
    for problem in problems:
        err.print(f"warning: {ConfigError(source, [problem])}", markup=False, highlight=False)


@app.command()
def render(
    stack: str = typer.Option(..., "--stack", "-s", help="Stack whose objects to write."),
    out: Path = typer.Option(..., "--out", help="Directory; objects go to OUT/1-manifest/, one YAML file each."),
    work_dir: Path = WORK_DIR,
) -> None:
    """Write the Kubernetes objects STACK registers, without the engine (Pulumi mocks), as render mode names them."""
    from leanstack.components.offline import write_manifests
    from leanstack.config.files import read_config_files
    from leanstack.config.lint import warnings as config_warnings
    from leanstack.config.stack_file import load_stack_file, stack_file_name

    err = Console(stderr=True)
    try:
        config = load_stack_file(work_dir / stack_file_name(stack))
        read_config_files(config.services, work_dir, stack_file_name(stack))  # said here, not as a traceback
    except ConfigError as error:
        raise _fail(err, str(error), 2)
    _warn(err, stack_file_name(stack), config_warnings(config))
    written = write_manifests(config, stack, out, work_dir)
    err.print(f"render: {len(written)} objects of stack {stack} -> {out / '1-manifest'}")


class ReportFormat(str, Enum):
    table = "table"
    markdown = "markdown"
    json = "json"


def _duration(text: str, option: str) -> float:
    from leanstack.rightsize import parse_duration

    try:
        return parse_duration(text)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint=option) from None


@app.command(name="derive-stack")
def derive_stack(
    source: str = typer.Option(..., "--from", help="Stack whose config to reuse, e.g. dev."),
    target: str = typer.Option(..., "--to", help="Name of the derived stack, e.g. local."),
    kubeconfig: str = typer.Option(..., "--kubeconfig", help="Kubeconfig (path) of the cluster to apply to."),
    context: Optional[str] = typer.Option(None, "--context", help="Kubeconfig context; its current one by default."),
    images: list[str] = typer.Option([], "--image", help="REPOSITORY=REF (repeatable): every image ref of that repository "
                                     "runs REF instead, e.g. postgres=127.0.0.1:5000/leanstack/postgres:15@sha256:<64 hex>."),
    work_dir: Path = WORK_DIR,
) -> None:
    """Write Pulumi.<TO>.yaml: stack FROM's config applied to a cluster; validated before it is written."""
    from leanstack.config.derive import ImageMappingError, derived_stack_text, image_mapping
    from leanstack.config.stack_file import load_stack_text, read_stack_text, stack_file_name

    err = Console(stderr=True, soft_wrap=True)  # an error stays one line, however narrow the terminal
    source_file, target_file = work_dir / stack_file_name(source), work_dir / stack_file_name(target)
    try:
        text = derived_stack_text(read_stack_text(source_file), source_file.name, kubeconfig, context, image_mapping(images))
        load_stack_text(text, target_file.name)
    except (ConfigError, ImageMappingError) as error:
        raise _fail(err, str(error), 2)
    if not target_file.exists() or target_file.read_text(encoding="utf-8") != text:
        target_file.write_text(text, encoding="utf-8")
    err.print(f"derive-stack: {target_file.name} = {source_file.name} applied to {kubeconfig}", markup=False, highlight=False)


@app.command()
def rightsize(
    stack: str = typer.Option(..., "--stack", "-s", help="Stack whose services to right-size."),
    prometheus: str = typer.Option(..., "--prometheus", help="Base URL of Prometheus (or Thanos, Mimir, VictoriaMetrics)."),
    window: str = typer.Option("14d", "--window", help="How much usage history to read, e.g. 14d or 36h."),
    step: str = typer.Option("5m", "--step", help="Resolution of the usage samples, e.g. 5m."),
    until: Optional[str] = typer.Option(None, "--until", help="End of the window: RFC 3339 or Unix seconds (default: now). "
                                        "Two runs with the same --until read the same samples."),
    strategy: str = typer.Option("krr", "--strategy", help="krr (Robusta KRR simple) or vpa (the VPA recommender)."),
    min_samples: int = typer.Option(100, "--min-samples", min=1, help="Leave a service alone with fewer CPU or memory "
                                    "samples than this (KRR's points_required)."),
    min_history: str = typer.Option("3h", "--min-history", help="Leave a service alone with less history than this."),
    output: ReportFormat = typer.Option(None, "--format", "-f", help="table (default in a terminal), markdown or json."),
    write: bool = typer.Option(False, "--write", help="Write the recommended values into Pulumi.<stack>.yaml."),
    work_dir: Path = WORK_DIR,
) -> None:
    """Recommend requests, limits and HPA replicas from observed usage, and what the change would cost."""
    from leanstack.config.stack_file import load_stack_file, stack_file_name
    from leanstack.costing.output import print_table, to_markdown
    from leanstack.rightsize import STRATEGIES, Policy, PrometheusError, aligned_end, analyze, parse_instant
    from leanstack.rightsize import report as rightsize_report
    from leanstack.rightsize.patch import PatchError, current_specs, patch_stack_text, validated, write_stack_file

    err = Console(stderr=True, soft_wrap=True)  # an error stays one line, however narrow the terminal
    if strategy not in STRATEGIES:
        raise typer.BadParameter(f"{strategy!r} is not one of: {', '.join(STRATEGIES)}", param_hint="--strategy")
    window_seconds, step_seconds = _duration(window, "--window"), _duration(step, "--step")
    policy = Policy(min_samples=min_samples, min_history_seconds=_duration(min_history, "--min-history"))
    if step_seconds >= window_seconds:
        raise typer.BadParameter(f"{step} is not shorter than --window {window}", param_hint="--step")
    try:
        end = aligned_end(parse_instant(until), step_seconds)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--until") from None
    path = work_dir / stack_file_name(stack)
    try:
        config = load_stack_file(path)
    except ConfigError as error:
        raise _fail(err, str(error), 2)
    try:
        with err.status(f"reading {len(config.services)} services' usage over {window} from {prometheus} ..."):
            recommendations = analyze(prometheus, config.namespace, current_specs(config), window_seconds,
                                      strategy, step_seconds, end=end, policy=policy)
    except PrometheusError as error:
        raise _fail(err, str(error), 1)
    try:
        patched, changes = patch_stack_text(path.read_text(encoding="utf-8"), recommendations, path.name)
        written = write and bool(changes)
        new_config = write_stack_file(path, patched) if written else validated(path, patched) if changes else config
    except PatchError as error:
        raise _fail(err, str(error), 2)
    with err.status("pricing the change ..."):
        delta = rightsize_report.change_delta(stack, config, new_config)
    chosen = output or (ReportFormat.table if sys.stdout.isatty() else ReportFormat.markdown)
    context = (stack, strategy, window, step, end, recommendations, changes, path.name, written)
    if chosen is ReportFormat.json:
        sys.stdout.write(rightsize_report.to_json(end, recommendations, changes, delta))
    elif chosen is ReportFormat.table:
        console = Console()
        rightsize_report.print_tables(console, *context)
        print_table(delta, console)
    else:
        sys.stdout.write(rightsize_report.to_markdown(*context) + "\n" + to_markdown(delta))


@app.command()
def images(
    refs: list[str] = typer.Argument(None, help="Images to read: registry/repository:tag over the registry API, else from the local engine."),
    stack: Optional[str] = typer.Option(None, "--stack", "-s", help="Also read every image STACK builds (its pushed tag) and check its rules."),
    output: ReportFormat = typer.Option(None, "--format", "-f", help="table (default in a terminal), markdown or json."),
    top: int = typer.Option(10, "--top", min=1, help="How many of the largest directories to list."),
    work_dir: Path = WORK_DIR,
) -> None:
    """Where each image's bytes are: layers and their instructions, dive's efficiency and wasted bytes, the
    largest directories, findings to remove; exit 3 when an image breaks its dive rules (the stack's, else dive's defaults)."""
    from leanstack.config.stack_file import load_stack_file, stack_file_name
    from leanstack.images import output as image_output
    from leanstack.images.source import ImageReadError
    from leanstack.images.targets import Target, failure_lines, inspect, stack_targets

    err = Console(stderr=True, soft_wrap=True)  # an error stays one line, however narrow the terminal
    targets = [Target(ref) for ref in refs or []]
    if stack:
        try:
            targets += stack_targets(load_stack_file(work_dir / stack_file_name(stack)), stack)
        except ConfigError as error:
            raise _fail(err, str(error), 2)
    if not targets:
        raise typer.BadParameter("name an image, or a stack whose images to read", param_hint="REFS / --stack")
    reports = []
    for target in targets:
        try:
            with err.status(f"reading {target.ref} ..."):
                reports.append(inspect(target, top))
        except ImageReadError as error:
            raise _fail(err, str(error), 1)
    chosen = output or (ReportFormat.table if sys.stdout.isatty() else ReportFormat.markdown)
    if chosen is ReportFormat.json:
        sys.stdout.write(image_output.to_json(reports))
    elif chosen is ReportFormat.table:
        image_output.print_table(reports, Console())
    else:
        sys.stdout.write(image_output.to_markdown(reports))
    broken = [line for target, (report, results) in zip(targets, reports)
              for line in failure_lines(target.ref, results, target.key_path)]
    if broken:
        raise _fail(err, "\n".join(broken), 3)


def run() -> None:
    """The console script (and `python -m leanstack.cli`): the app, then an exit that skips the
    interpreter's teardown of pydantic, pulumi's gRPC stack and the rest (docs/benchmarks.md, cost
    overhead), once the output is flushed. Tests invoke `app` itself."""
    try:
        app()
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    if isinstance(code, str):  # sys.exit("message"): printed, then status 1, as the interpreter does
        sys.stderr.write(code + "\n")
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code or 0)


if __name__ == "__main__":
    run()
