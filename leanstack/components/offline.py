"""Run the Platform without the engine, under Pulumi's mocks, and keep what it registers.

The unit tests use it to assert the exact resource inputs the program asks for; `leanstack render`
uses it to write a stack's objects as YAML files for the scanners (no toolchain, Docker or image
builds needed; the e2e tests scan what a real `pulumi up` renders). Mocks return a resource's inputs
as its state, plus a digest for built images.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Optional

import pulumi
import yaml
from pulumi.runtime.mocks import MockMonitor, MockResourceArgs

from leanstack.components.platform import Platform, PlatformArgs
from leanstack.costing.images import IMAGE_TYPE
from leanstack.config.schema import StackConfig
from leanstack.images.source import ImageContents

# How the Pulumi SDK marks a secret value on the wire; rendered files get a placeholder instead.
SECRET_SIG = "4dabf18193072939515e22adb298388d"
PLACEHOLDER = "redacted-by-leanstack-render"
MOCK_SECRET = "offline-placeholder-secret"
DEFAULT_IMAGE_SIZE = 50 << 20


def fake_digest(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


class RecordingMocks(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.registered: list[MockResourceArgs] = []

    def new_resource(self, args: MockResourceArgs):
        self.registered.append(args)
        state = dict(args.inputs)
        if args.typ == IMAGE_TYPE:
            tags = args.inputs.get("tags") or []  # an OCI layout's build (build_on_preview) has none
            state["digest"] = fake_digest(tags[0] if tags else args.name)
            if tags:
                state["ref"] = f"{tags[0]}@{state['digest']}"
        return f"{args.name}-id", state

    def call(self, args):
        return {}


class RecordingMonitor(MockMonitor):
    """Also keeps what each resource was registered to depend on (its depends_on, by URN)."""

    def __init__(self, mocks: RecordingMocks) -> None:
        super().__init__(mocks)
        self.dependencies: dict[str, list[str]] = {}

    def RegisterResource(self, request):
        self.dependencies[request.name] = list(request.dependencies)
        return super().RegisterResource(request)


@dataclass
class ProgramRun:
    """What one program run registered, in order."""

    resources: list[MockResourceArgs]
    outputs: dict[str, Any] = field(default_factory=dict)
    dependencies: dict[str, list[str]] = field(default_factory=dict)

    def of_type(self, typ: str) -> list[MockResourceArgs]:
        return [r for r in self.resources if r.typ == typ]

    def kind(self, kind: str) -> dict[str, dict]:
        """Kubernetes objects of one kind by metadata.name, e.g. run.kind("apps/v1:Deployment")."""
        return {r.inputs["metadata"]["name"]: r.inputs for r in self.of_type(f"kubernetes:{kind}")}

    def quota_caps(self) -> dict[str, str]:
        """The namespace's quota caps, from its ResourceQuotas (one per cap)."""
        return {cap: value for quota in self.kind("core/v1:ResourceQuota").values()
                for cap, value in quota["spec"]["hard"].items()}

    def types(self) -> list[str]:
        return sorted(r.typ for r in self.resources)

    def kubernetes_objects(self) -> list[dict]:
        """Every Kubernetes object registered, as the provider writes it, in registration order."""
        return [ordered(plain(r.inputs)) for r in self.resources
                if r.typ.startswith("kubernetes:") and not r.typ.startswith("pulumi:")]


def run_platform(config: StackConfig, stack: str, preview: bool = False,
                 image_sizes: Optional[dict[str, int]] = None, mocks: Optional[RecordingMocks] = None,
                 secret: str = MOCK_SECRET, project_dir: Optional[Path] = None,
                 image_layers: Optional[dict[str, ImageContents]] = None,
                 read_live_caps: Callable[[Optional[str], Optional[str], str], Mapping[str, str]] = lambda *_: {},
                 ) -> ProgramRun:
    """Build the Platform for `config` under mocks and wait for every output.

    Images measure 50Mi unless `image_sizes` (bytes by service) says otherwise, and read as one empty
    layer (keeping every dive rule) unless `image_layers` (by service) says otherwise; every secret the
    config names is `secret`; config file sources are read from `project_dir` (default: the working directory);
    the quota caps in force come from `read_live_caps` (default none: no cluster is read, as for a new namespace).
    """
    mocks = mocks or RecordingMocks()
    monitor = RecordingMonitor(mocks)
    pulumi.runtime.set_mocks(mocks, project="leanstack", stack=stack, preview=preview, monitor=monitor)
    secret_keys = [f"leanstack:{key}" for key in config.secret_keys()]
    pulumi.runtime.set_all_config({key: secret for key in secret_keys}, secret_keys)
    run = ProgramRun(mocks.registered, dependencies=monitor.dependencies)
    service = lambda ref: ref.split("/")[-1].split(":")[0]  # noqa: E731  (<registry>/<prefix>/<service>:<stack>@...)
    measure: Callable[[str], int] = lambda ref: (image_sizes or {}).get(service(ref), DEFAULT_IMAGE_SIZE)
    read: Callable[[str], ImageContents] = lambda ref: (image_layers or {}).get(
        service(ref), ImageContents(ref, {}, ["empty"], [[]]))

    @pulumi.runtime.test
    def program():
        platform = Platform(config.namespace, PlatformArgs(config=config, stack=stack, measure_image_size=measure,
                                                           read_image=read, project_dir=project_dir or Path.cwd(),
                                                           read_live_caps=read_live_caps))
        images = pulumi.Output.all(**{name: s.image for name, s in platform.services.items()})
        run.outputs["cost"] = platform.cost
        return pulumi.Output.all(platform.namespace, images, platform.image_cost).apply(
            lambda values: run.outputs.update(namespace=values[0], images=values[1], image_cost=values[2]))

    program()
    return run


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
    """The provider's render-mode naming: '/' in apiVersion -> '_', cluster-scoped objects under "default"."""
    api_version = manifest["apiVersion"].replace("/", "_").replace(":", "_")
    namespace = manifest["metadata"].get("namespace") or "default"
    return f"{api_version}-{manifest['kind'].lower()}-{namespace}-{manifest['metadata']['name']}.yaml"


def write_manifests(config: StackConfig, stack: str, outdir: Path, project_dir: Optional[Path] = None) -> list[Path]:
    """Write every object the stack registers to outdir/1-manifest/, one YAML file each, as render mode does."""
    target = outdir / "1-manifest"
    target.mkdir(parents=True, exist_ok=True)
    for stale in target.glob("*.yaml"):  # an object the stack no longer has must not be scanned
        stale.unlink()
    written = []
    for manifest in run_platform(config, stack, project_dir=project_dir).kubernetes_objects():
        path = target / file_name(manifest)
        path.write_text(yaml.safe_dump(manifest, sort_keys=False), encoding="utf-8")
        written.append(path)
    return written
