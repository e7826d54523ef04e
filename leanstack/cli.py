"""`leanstack`: the command line (typer + rich). Each command is a thin shell over the library.

    leanstack cost --stack prod [--format table|markdown|json|comment] [--fail-above 10%] [--all]
    leanstack render --stack prod --out rendered/prod
"""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from leanstack.config.errors import ConfigError
from leanstack.config.stack_file import load_stack_file, stack_file_name
from leanstack.costing.budget import Budget, BudgetError
from leanstack.costing.delta import cost_delta
from leanstack.costing.output import print_table, signed, to_comment, to_json, to_markdown
from leanstack.costing.preview import PreviewError, run_preview

ROOT = Path(__file__).resolve().parents[1]
app = typer.Typer(add_completion=False, no_args_is_help=True, help="leanstack tools")


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
    err.print(message, markup=False, highlight=False)
    return typer.Exit(code)


@app.command()
def cost(
    stack: str = typer.Option(..., "--stack", "-s", help="Stack to preview (dev, staging, prod)."),
    output: Format = typer.Option(None, "--format", "-f", help="table (default in a terminal), markdown, json, or comment (the PR comment body)."),
    fail_above: Optional[str] = typer.Option(None, "--fail-above", help="Exit 3 if the monthly baseline rises by more than PCT% or AMOUNT USD."),
    everything: bool = typer.Option(False, "--all", help="List resources that cost nothing too (folded into one line by default)."),
    work_dir: Path = typer.Option(ROOT, "--work-dir", help="Pulumi project directory."),
) -> None:
    """Preview STACK and print the per-resource and total monthly cost delta, with the resources behind it."""
    err = Console(stderr=True)
    budget = _budget(fail_above)
    try:
        sheet = load_stack_file(work_dir / stack_file_name(stack)).cost.sheet()
    except ConfigError as error:
        raise _fail(err, str(error), 2)
    try:
        with err.status(f"previewing {stack} ..."):
            preview = run_preview(stack, work_dir)
    except PreviewError as error:
        raise _fail(err, str(error), 1)
    report = cost_delta(stack, preview.steps, sheet, preview.counts)
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


@app.command()
def render(
    stack: str = typer.Option(..., "--stack", "-s", help="Stack whose objects to write."),
    out: Path = typer.Option(..., "--out", help="Directory; objects go to OUT/1-manifest/, one YAML file each."),
    work_dir: Path = typer.Option(ROOT, "--work-dir", help="Pulumi project directory."),
) -> None:
    """Write the Kubernetes objects STACK registers, without the engine (Pulumi mocks), as render mode names them."""
    from leanstack.components.offline import write_manifests  # Pulumi loads only for this command

    err = Console(stderr=True)
    try:
        config = load_stack_file(work_dir / stack_file_name(stack))
    except ConfigError as error:
        raise _fail(err, str(error), 2)
    written = write_manifests(config, stack, out)
    err.print(f"render: {len(written)} objects of stack {stack} -> {out / '1-manifest'}")


if __name__ == "__main__":
    app()
