"""Output: a delta report as a terminal table, markdown (the PR comment body) or json.

Every row shows the money and the resources behind it (pods x requests, the billed size where the
platform rounds or raises it, storage); rows that cost nothing on either side fold into one line
unless `everything` is asked for (Infracost folds free resources the same way).
"""

from __future__ import annotations

import json
from collections import Counter
from decimal import Decimal
from typing import Mapping

from rich.console import Console
from rich.table import Table

from leanstack.costing.delta import DeltaReport, Row
from leanstack.costing.images import change_text
from leanstack.costing.money import MoneyRange, cents, money

SYMBOLS = {"create": "+", "update": "~", "replace": "+-", "delete": "-", "same": " "}
UNITS_NOTE = "USD per month (730 hours); ranges are HPA minReplicas–maxReplicas"


def comment_marker(stack: str) -> str:
    """The first line of the PR comment: CI finds and updates its one comment per stack by it."""
    return f"<!-- leanstack-preview:{stack} -->"


def span(amounts: MoneyRange) -> str:
    low, high = amounts.baseline, amounts.ceiling
    return money(low) if cents(low) == cents(high) else f"{money(low)}–{money(high)}"


def signed(amount: Decimal) -> str:
    value = cents(amount)
    return f"+{value:.2f}" if value > 0 else f"{value:.2f}"


def signed_span(amounts: MoneyRange) -> str:
    low, high = amounts.baseline, amounts.ceiling
    return signed(low) if cents(low) == cents(high) else f"{signed(low)} (ceiling {signed(high)})"


def count_line(counts: Mapping[str, int]) -> str:
    return (f"+{counts.get('create', 0)} created, ~{counts.get('update', 0)} updated, "
            f"+-{counts.get('replace', 0)} replaced, -{counts.get('delete', 0)} deleted, {counts.get('same', 0)} unchanged")


def folded_line(rows: tuple[Row, ...]) -> str:
    ops = Counter(row.op for row in rows)
    parts = ", ".join(f"{n} {op}" for op, n in sorted(ops.items()))
    return f"Not listed: {len(rows)} resource(s) that cost nothing before or after ({parts}); --all lists them"


def op_cell(row: Row) -> str:
    return f"{SYMBOLS.get(row.op, row.op)} {row.op}"


def to_markdown(report: DeltaReport, everything: bool = False) -> str:
    lines = [
        f"### leanstack cost delta: `{report.stack}`",
        "",
        f"Resources: {count_line(report.counts)}",
        "",
        "| op | resource | billed resources | old $/month | new $/month | delta |",
        "|---|---|---|---:|---:|---:|",
    ]
    for row in report.shown_rows(everything):
        lines.append(f"| {op_cell(row)} | `{row.resource}` | {row.resources_text() or '–'} | {span(row.old)} | "
                     f"{span(row.new)} | {signed_span(row.delta)} |")
    folded = report.folded_rows(everything)
    if folded:
        lines += ["", folded_line(folded) + "."]
    lines += [
        "",
        "| monthly total | old | new | delta |",
        "|---|---:|---:|---:|",
        f"| baseline | {money(report.old_total.baseline)} | {money(report.new_total.baseline)} | {signed(report.delta.baseline)} |",
        f"| ceiling | {money(report.old_total.ceiling)} | {money(report.new_total.ceiling)} | {signed(report.delta.ceiling)} |",
        "",
        f"Prices: `{report.sheet}`, {UNITS_NOTE}.",
    ]
    if report.images:
        lines += ["", "| op | image | size (efficiency): old -> new | note |", "|---|---|---|---|"]
        lines += [f"| {SYMBOLS.get(i.op, i.op)} {i.op} | `{i.name}` | {change_text(i)} | {i.note or '–'} |" for i in report.images]
    if report.warnings:
        lines += ["", "**Warnings**", ""] + [f"- {warning}" for warning in report.warnings]
    return "\n".join(lines) + "\n"


def to_comment(report: DeltaReport, everything: bool = False) -> str:
    return f"{comment_marker(report.stack)}\n{to_markdown(report, everything)}"


def to_json(report: DeltaReport) -> str:
    """Every row, free ones included: machines filter for themselves."""
    return json.dumps({
        "stack": report.stack,
        "sheet": report.sheet,
        "currency": "USD",
        "counts": report.counts,
        "resources": [{"op": r.op, "resource": r.resource, "old": r.old.as_dict(), "new": r.new.as_dict(),
                       "delta": r.delta.as_dict(), "old_resources": r.old_resources, "new_resources": r.new_resources}
                      for r in report.rows],
        "total": {"old": report.old_total.as_dict(), "new": report.new_total.as_dict(), "delta": report.delta.as_dict()},
        "images": [{"op": i.op, "image": i.name, "old_ref": i.old_ref, "new_ref": i.new_ref,
                    "old": i.old and {"size": i.old.size, "efficiency": i.old.efficiency},
                    "new": i.new and {"size": i.new.size, "efficiency": i.new.efficiency}, "note": i.note,
                    "built_digest": i.built_digest}
                   for i in report.images],
        "warnings": list(report.warnings),
    }, indent=2) + "\n"


def print_table(report: DeltaReport, console: Console, everything: bool = False) -> None:
    table = Table(title=f"leanstack cost delta: {report.stack}  ({count_line(report.counts)})", title_justify="left")
    for column, justify in (("op", "left"), ("resource", "left"), ("billed resources", "left"),
                            ("old $/month", "right"), ("new $/month", "right"), ("delta", "right")):
        table.add_column(column, justify=justify)
    for row in report.shown_rows(everything):
        colour = "green" if row.delta.baseline < 0 else "red" if row.delta.baseline > 0 else "dim"
        table.add_row(op_cell(row), row.resource, row.resources_text(), span(row.old), span(row.new),
                      f"[{colour}]{signed_span(row.delta)}[/]")
    table.add_section()
    table.add_row("", "baseline total", "", money(report.old_total.baseline), money(report.new_total.baseline),
                  signed(report.delta.baseline))
    table.add_row("", "ceiling total", "", money(report.old_total.ceiling), money(report.new_total.ceiling),
                  signed(report.delta.ceiling))
    console.print(table)
    folded = report.folded_rows(everything)
    if folded:
        console.print(folded_line(folded), style="dim", markup=False)
    console.print(f"prices: {report.sheet}, {UNITS_NOTE}", style="dim")
    for image in report.images:
        note = f"  [{image.note}]" if image.note else ""
        console.print(f"image {image.op} {image.name}: {change_text(image)}{note}", markup=False, highlight=False)
    for warning in report.warnings:
        console.print(f"warning: {warning}", style="yellow", markup=False)
