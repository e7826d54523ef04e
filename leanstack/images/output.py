"""Image reports as a terminal table, markdown or json. Table and markdown render the same sections
(summary, layers, largest directories, findings, rules), so they cannot disagree."""

from __future__ import annotations

import json
from dataclasses import asdict

from rich.console import Console
from rich.table import Table

from leanstack.images.gates import RuleResult
from leanstack.images.report import ImageReport
from leanstack.kube.quantities import human_bytes as human

Section = tuple[str, list[str], list[list[str]]]  # title, column headers, rows


def short(text: str, width: int = 90) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def summary(report: ImageReport) -> str:
    found = report.efficiency
    return (f"{report.ref}: {human(report.size)} in {len(report.layers)} layer(s); efficiency {found.score:.2%}, "
            f"wasted {human(found.wasted_bytes)} ({found.user_wasted_percent:.2%} of the bytes above the first layer); "
            f"hidden by later layers {human(report.hidden)}")


def sections(report: ImageReport, rules: list[RuleResult]) -> list[Section]:
    layer_rows = [[str(layer.index), human(layer.size), human(layer.hidden) if layer.hidden else "", short(layer.instruction)]
                  for layer in report.layers]
    largest = [[path, human(size)] for path, size in report.largest]
    found = [[f.title, human(f.bytes), f"{f.layer}: {short(report.layers[f.layer].instruction, 50)}",
              ", ".join(f"{path} ({human(size)})" for path, size in f.top()), f.advice] for f in report.findings]
    wasted = [[waste.path, str(waste.count), human(waste.cumulative)] for waste in report.efficiency.inefficiencies[:10]]
    result = [
        ("Layers", ["#", "size", "hidden later", "instruction"], layer_rows),
        ("Largest directories", ["directory", "size"], largest),
        ("Findings", ["what", "bytes", "layer", "biggest paths", "advice"], found),
        ("Wasted (paths in more than one layer)", ["path", "layers", "all copies"], wasted),
    ]
    if rules:
        result.append(("Rules (dive)", ["rule", "status", "value", "threshold"],
                       [[r.rule, r.status, f"{r.value:.4g}", "disabled" if r.threshold is None else f"{r.threshold:g}"]
                        for r in rules]))
    return [section for section in result if section[2]]


def print_table(reports: list[tuple[ImageReport, list[RuleResult]]], console: Console) -> None:
    for report, rules in reports:
        console.print(summary(report), markup=False, highlight=False)
        for title, headers, rows in sections(report, rules):
            table = Table(title=title, title_justify="left")
            for header in headers:
                table.add_column(header, overflow="fold")
            for row in rows:
                table.add_row(*row)
            console.print(table)


def to_markdown(reports: list[tuple[ImageReport, list[RuleResult]]]) -> str:
    lines: list[str] = []
    for report, rules in reports:
        lines += [f"### `{report.ref}`", "", summary(report), ""]
        for title, headers, rows in sections(report, rules):
            lines += [f"**{title}**", "", "| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
            lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
            lines.append("")
    return "\n".join(lines)


def to_json(reports: list[tuple[ImageReport, list[RuleResult]]]) -> str:
    return json.dumps([{**asdict(report), "rules": [asdict(rule) for rule in rules]} for report, rules in reports],
                      indent=2) + "\n"
