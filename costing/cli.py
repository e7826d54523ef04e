"""`leanstack cost`: run a real preview and show what it does to resources and the monthly bill."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from components.stack_file import ConfigError, load_stack_file
from costing.delta import SYMBOLS, DeltaReport, Step, cost_delta, op_name, count_line, signed, signed_span, span, to_json, to_markdown
from costing.model import money

ROOT = Path(__file__).resolve().parents[1]
app = typer.Typer(add_completion=False, no_args_is_help=True, help="leanstack tools")


class Format(str, Enum):
    table = "table"
    markdown = "markdown"
    json = "json"
    comment = "comment"  # markdown behind a marker that CI uses to update its one comment per stack


def comment_marker(stack: str) -> str:
    return f"<!-- leanstack-preview:{stack} -->"


@app.callback()
def main() -> None:
    """leanstack tools."""


@app.command()
def cost(
    stack: str = typer.Option(..., "--stack", "-s", help="Stack to preview (dev, staging, prod)."),
    output: Format = typer.Option(None, "--format", "-f", help="table (default in a terminal), markdown, json, or comment (the PR comment body)."),
    fail_above: Optional[str] = typer.Option(None, "--fail-above", help="Exit 3 if the monthly baseline rises by more than PCT% or AMOUNT USD."),
    work_dir: Path = typer.Option(ROOT, "--work-dir", help="Pulumi project directory."),
) -> None:
    """Preview STACK and print the per-resource and total monthly cost delta."""
    err = Console(stderr=True)
    if fail_above is not None:
        _check_budget_syntax(fail_above)
    try:
        sheet = load_stack_file(work_dir / f"Pulumi.{stack}.yaml").cost.sheet()
    except ConfigError as error:
        err.print(str(error), markup=False, highlight=False)
        raise typer.Exit(2)
    steps, counts = run_preview(stack, work_dir, err)
    report = cost_delta(stack, steps, sheet, counts)
    chosen = output or (Format.table if sys.stdout.isatty() else Format.markdown)
    if chosen is Format.table:
        print_table(report, Console())
    elif chosen is Format.json:
        sys.stdout.write(to_json(report))
    else:
        marker = f"{comment_marker(stack)}\n" if chosen is Format.comment else ""
        sys.stdout.write(marker + to_markdown(report))
    if fail_above is not None and report.exceeds(fail_above):
        err.print(f"monthly baseline rises by {signed(report.delta[0])} USD, above the budget {fail_above}")
        raise typer.Exit(3)


def _check_budget_syntax(budget: str) -> None:
    text = budget.strip().removesuffix("%")
    try:
        if float(text) < 0:
            raise ValueError
    except ValueError:
        raise typer.BadParameter(f"{budget!r}: use a percentage like 10% or an amount in USD like 50", param_hint="--fail-above")


def run_preview(stack: str, work_dir: Path, err: Console) -> tuple[list[Step], dict[str, int]]:
    """A real `pulumi preview` through the Automation API, collecting every step's old and new inputs."""
    from pulumi import automation as auto

    steps: list[Step] = []

    def on_event(event: "auto.EngineEvent") -> None:
        pre = event.resource_pre_event
        if pre is None:
            return
        meta = pre.metadata
        steps.append(Step(
            op=op_name(meta.op),
            urn=meta.urn,
            type=meta.type,
            old=meta.old.inputs if meta.old else None,
            new=meta.new.inputs if meta.new else None,
        ))
        status.update(f"previewing {stack}: {len(steps)} steps")

    class ExplicitStackWorkspace(auto.LocalWorkspace):
        """Every Automation API command names its stack (--stack), so selecting it first is one more
        CLI run (~0.2 s) that proves only that it exists; a missing stack is created on demand below."""

        def select_stack(self, stack_name: str) -> None:
            pass

    workspace = ExplicitStackWorkspace(work_dir=str(work_dir), pulumi_command=_pinned_cli(auto))
    selected = auto.Stack.select(stack, workspace)
    with err.status(f"previewing {stack} ...") as status:
        try:
            try:
                result = selected.preview(on_event=on_event)
            except auto.CommandError as error:
                if f"no stack named '{stack}' found" not in str(error):
                    raise
                auto.LocalWorkspace.create_stack(workspace, stack)
                steps.clear()
                result = selected.preview(on_event=on_event)
        except auto.CommandError as error:
            err.print(_engine_message(str(error)), markup=False, highlight=False)
            raise typer.Exit(1)
    counts = {op_name(op): n for op, n in (result.change_summary or {}).items()}
    return steps, counts


def _pinned_cli(auto):
    """The Automation API's CLI handle without its `pulumi version` call (~0.2 s on every run): the
    toolchain pins the CLI to the SDK's version (scripts/toolchain-env.sh), so that version is known."""
    from importlib.metadata import version

    from semver import VersionInfo

    class PinnedPulumiCommand(auto.PulumiCommand):
        def __init__(self) -> None:  # no super().__init__: all it does is run and check `pulumi version`
            self.command = "pulumi"
            self.version = VersionInfo.parse(version("pulumi"))

    return PinnedPulumiCommand()


def _engine_message(text: str) -> str:
    """The part of a failed preview worth reading: the program's own error lines."""
    lines = [line.strip() for line in text.splitlines()]
    useful = [line for line in lines if line.startswith("Pulumi.") or line.startswith("error:")]
    return "\n".join(useful) or text


def print_table(report: DeltaReport, console: Console) -> None:
    table = Table(title=f"leanstack cost delta: {report.stack}  ({count_line(report.counts)})", title_justify="left")
    for column, justify in (("op", "left"), ("resource", "left"), ("old $/month", "right"), ("new $/month", "right"), ("delta", "right")):
        table.add_column(column, justify=justify)
    for row in report.rows:
        colour = "green" if row.delta[0] < 0 else "red" if row.delta[0] > 0 else "dim"
        table.add_row(f"{SYMBOLS.get(row.op, row.op)} {row.op}", row.resource, span(row.old), span(row.new),
                      f"[{colour}]{signed_span(row.delta)}[/]")
    table.add_section()
    table.add_row("", "baseline total", money(report.old_total[0]), money(report.new_total[0]), signed(report.delta[0]))
    table.add_row("", "ceiling total", money(report.old_total[1]), money(report.new_total[1]), signed(report.delta[1]))
    console.print(table)
    console.print(f"prices: {report.sheet}, USD per month (730 h); ranges are HPA min–max replicas", style="dim")
    for warning in report.warnings:
        console.print(f"warning: {warning}", style="yellow", markup=False)


if __name__ == "__main__":
    app()
