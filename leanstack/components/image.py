"""OptimizedImage: build a service image with BuildKit, push it, and hand back a digest reference.

Built with pulumi-docker-build (BuildKit). The digest reference (repo:tag@sha256:...) is what Deployments run, so a rebuild that changes nothing changes
nothing downstream. The image's size is checked against its budget after the build; an image
over budget fails `pulumi up` before any workload that uses it is touched, because those
workloads take their image from the checked reference.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Callable, Optional

import docker as docker_engine
import pulumi
import pulumi_docker_build as docker_build

from leanstack.config.schema import ImageBuild
from leanstack.images.source import ImageContents, ImageReadError, read_image
from leanstack.images.targets import Target, failure_lines, inspect
from leanstack.kube.quantities import parse_quantity


class ImageBuildError(pulumi.RunError):
    """Ends `pulumi up` with just this message (RunError), before dependent workloads change."""


class ImageOverBudget(ImageBuildError):
    pass


def check_size_budget(service: str, ref: str, size_bytes: int, budget: Optional[str], config_path: str) -> str:
    """Return `ref` if the image fits its budget, else raise naming image, size, budget and its config key."""
    if budget is not None and Decimal(size_bytes) > parse_quantity(budget):
        mib = Decimal(size_bytes) / (1 << 20)
        raise ImageOverBudget(
            f"image {ref} of service {service} is {mib:.1f}Mi, over its size budget {budget} "
            f"({config_path}.size_budget); its workloads were left unchanged"
        )
    return ref


class ImageBreaksRules(ImageBuildError):
    pass


def check_rules(ref: str, build: ImageBuild, config_path: str, read: Callable[[str], ImageContents]) -> str:
    """Return `ref` if the pushed image keeps its dive rules (`rules`), else raise naming image, rule,
    value and key path (leanstack.images reads the image from the registry)."""
    try:
        _, results = inspect(Target(ref, build.rules, f"{config_path}.rules"), read=read)
    except ImageReadError as error:
        raise ImageBuildError(f"{error}; its workloads were left unchanged") from None
    broken = failure_lines(ref, results, f"{config_path}.rules")
    if broken:
        raise ImageBreaksRules("; ".join(broken) + "; its workloads were left unchanged")
    return ref


def local_image_size(ref: str) -> int:
    """Unpacked size of a pushed image, as `docker images` shows it: pulled into the local engine
    (a no-op when the build already left it there) and inspected."""
    client = docker_engine.from_env()
    try:
        return int(client.images.pull(ref).attrs["Size"])
    finally:
        client.close()


def read_secret_file(config_path: str, secret: str, path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise ImageBuildError(f"{config_path}.secret_files.{secret}: cannot read {path}: {error.strerror}") from None


@dataclass(frozen=True)
class OptimizedImageArgs:
    """service: whose image it is (named in errors). build: Dockerfile, target, args, size budget,
    cache and secrets (leanstack.config.schema.ImageBuild). repository and tag: where it is pushed.
    builder: a buildx builder (BuildKit); None lets the provider start its own. measure_size: how the
    pushed image is measured for its budget (the local Docker engine by default). read_image: how it is
    read for its dive rules (the registry API by default). config_path: where
    the build settings live, named in errors (services.<service>.image.build by default)."""

    service: str
    build: ImageBuild
    repository: str
    tag: str
    builder: Optional[str] = None
    measure_size: Callable[[str], int] = local_image_size
    read_image: Callable[[str], ImageContents] = read_image
    config_path: Optional[str] = None

    @property
    def settings_path(self) -> str:
        return self.config_path or f"services.{self.service}.image.build"


class OptimizedImage(pulumi.ComponentResource):
    image: docker_build.Image
    ref: pulumi.Output[str]
    size_bytes: pulumi.Output[int]

    def __init__(self, name: str, args: OptimizedImageArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("leanstack:image:OptimizedImage", name, None, opts)
        build = args.build
        tag = f"{args.repository}:{args.tag}"
        cache: dict = {}
        if build.cache_from_registry:
            # Inline cache metadata travels with the pushed image; the next build reuses its layers.
            cache = {"cache_from": [{"registry": {"ref": tag}}], "cache_to": [{"inline": {}}]}
        secrets = {secret: pulumi.Output.secret(read_secret_file(args.settings_path, secret, path))
                   for secret, path in build.secret_files.items()}
        self.image = image = docker_build.Image(
            f"{name}-image",
            tags=[tag],
            context={"location": build.context},
            dockerfile={"location": f"{build.context}/{build.dockerfile}"},
            target=build.target,
            build_args=dict(build.args),
            platforms=[build.platform],
            push=True,
            builder={"name": args.builder} if args.builder else None,
            build_on_preview=build.build_on_preview,
            secrets=secrets,
            **cache,
            opts=pulumi.ResourceOptions(parent=self),
        )
        measured = image.ref.apply(lambda ref: (ref, args.measure_size(ref)))
        self.size_bytes = measured.apply(lambda pair: pair[1])
        self.ref = measured.apply(lambda pair: check_rules(
            check_size_budget(args.service, pair[0], pair[1], build.size_budget, args.settings_path),
            build, args.settings_path, args.read_image))
        self.register_outputs({"ref": self.ref, "size_bytes": self.size_bytes})
