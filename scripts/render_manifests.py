"""Write a stack's Kubernetes objects as YAML files, one per object, the way render mode names them.

    .venv/bin/python scripts/render_manifests.py <stack> <outdir>    # e.g. prod rendered/prod

The fast path for `scripts/scan.sh --report` (no toolchain, Docker or image builds needed; the
end-to-end tests scan what `pulumi up` really renders): it runs the program under the unit tests'
mock harness (so the objects are exactly the ones the program registers) and writes <outdir>/1-manifest/<apiVersion>-<kind>-<namespace>-<name>.yaml,
the provider's own file naming ('/' in apiVersion -> '_', cluster-scoped objects under "default").
Secret values are replaced by a placeholder: scanners need the shape, never the value.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from tests.unit.conftest import run_platform, stack_config  # noqa: E402

SECRET_SIG = "4dabf18193072939515e22adb298388d"  # how the Pulumi SDK marks a secret value on the wire
PLACEHOLDER = "redacted-by-render-manifests"


def plain(value: Any, secret: bool = False) -> Any:
    """A registered input as the provider writes it: secrets unwrapped (and redacted), and whole
    numbers as integers (the engine carries every number as a double; the provider writes 1, not 1.0)."""
    if isinstance(value, dict):
        if value.get(SECRET_SIG) is not None and "value" in value:
            return plain(value["value"], secret=True)
        return {key: plain(item, secret) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item, secret) for item in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if secret and isinstance(value, str):
        return PLACEHOLDER
    return value


def ordered(manifest: dict) -> dict:
    """apiVersion, kind and metadata first, as people write manifests."""
    head = ("apiVersion", "kind", "metadata")
    return {**{key: manifest[key] for key in head if key in manifest}, **{k: v for k, v in manifest.items() if k not in head}}


def file_name(manifest: dict) -> str:
    api_version = manifest["apiVersion"].replace("/", "_").replace(":", "_")
    namespace = manifest["metadata"].get("namespace") or "default"
    return f"{api_version}-{manifest['kind'].lower()}-{namespace}-{manifest['metadata']['name']}.yaml"


def manifests(stack: str) -> list[dict]:
    """Every Kubernetes object the stack registers, in registration order."""
    run = run_platform(stack_config(stack), stack)
    return [ordered(plain(r.inputs)) for r in run.resources if r.typ.startswith("kubernetes:") and not r.typ.startswith("pulumi:")]


def render(stack: str, outdir: Path) -> list[Path]:
    target = outdir / "1-manifest"
    target.mkdir(parents=True, exist_ok=True)
    for stale in target.glob("*.yaml"):  # an object the stack no longer has must not be scanned
        stale.unlink()
    written = []
    for manifest in manifests(stack):
        path = target / file_name(manifest)
        path.write_text(yaml.safe_dump(manifest, sort_keys=False), encoding="utf-8")
        written.append(path)
    return written


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    written = render(argv[0], Path(argv[1]))
    print(f"render_manifests: {len(written)} objects of stack {argv[0]} -> {Path(argv[1]) / '1-manifest'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
