"""OptimizedImage: build a service image with BuildKit, push it, and hand back a digest reference.

The digest (repo@sha256:...) is what Deployments run, so a rebuild that changes nothing changes
nothing downstream. The image's size is checked against its budget after the build; an image
over budget fails `pulumi up` before any workload that uses it is touched, because those
workloads take their image from the checked reference.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Callable, Optional

import docker as docker_engine
import pulumi
import pulumi_docker as docker

from components.config import ImageBuild
from components.quantities import parse_quantity


class ImageOverBudget(Exception):
    pass


def check_size_budget(service: str, ref: str, size_bytes: int, budget: Optional[str]) -> str:
    """Return `ref` if the image fits its budget, else raise naming image, size and budget."""
    if budget is not None and Decimal(size_bytes) > parse_quantity(budget):
        mib = Decimal(size_bytes) / (1 << 20)
        raise ImageOverBudget(
            f"image {ref} of service {service} is {mib:.1f}Mi, over its size budget {budget} "
            f"(services.{service}.image.build.size_budget); its workloads were left unchanged"
        )
    return ref


def local_image_size(ref: str) -> int:
    """Size of an image in the local Docker engine (the one that just built it)."""
    client = docker_engine.from_env()
    try:
        return int(client.images.get(ref).attrs["Size"])
    finally:
        client.close()


@dataclass(frozen=True)
class OptimizedImageArgs:
    service: str
    build: ImageBuild
    repository: str
    tag: str
    measure_size: Callable[[str], int] = local_image_size


class OptimizedImage(pulumi.ComponentResource):
    ref: pulumi.Output[str]

    def __init__(self, name: str, args: OptimizedImageArgs, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__("leanstack:image:OptimizedImage", name, None, opts)
        build = args.build
        image_name = f"{args.repository}:{args.tag}"
        build_args = dict(build.args)
        cache_from = None
        if build.cache_from_registry:
            # Inline cache metadata lets the next build reuse layers straight from the registry.
            build_args["BUILDKIT_INLINE_CACHE"] = "1"
            cache_from = docker.CacheFromArgs(images=[image_name])
        image = docker.Image(
            f"{name}-image",
            image_name=image_name,
            build=docker.DockerBuildArgs(
                context=build.context,
                dockerfile=f"{build.context}/{build.dockerfile}",
                target=build.target,
                args=build_args,
                platform=build.platform,
                builder_version=docker.BuilderVersion.BUILDER_BUILD_KIT,
                cache_from=cache_from,
            ),
            skip_push=False,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.ref = image.repo_digest.apply(
            lambda ref: check_size_budget(args.service, ref, args.measure_size(ref), build.size_budget)
        )
        self.register_outputs({"ref": self.ref})
