"""OptimizedImage: build a service image with BuildKit, push it, and hand back a digest reference.

Built with pulumi-docker-build (BuildKit). The digest reference (repo:tag@sha256:...) is what Deployments run, so a rebuild that changes nothing changes
nothing downstream. The image's size is checked against its budget after the build, then its
layers against its dive rules (leanstack.images); an image over budget or breaking a rule fails
`pulumi up` before any workload that uses it is touched, because those workloads take their image
from the checked reference.

With `build_on_preview`, a second Image, `layout` (named costing.images.layout_of the pushed one),
builds the same build with one export, an OCI image layout directory (leanstack.images.layout),
and does so in previews too: `leanstack cost` weighs a changed image's new side from it. pulumi-docker-build
v0.0.22 never builds a `push: true` Image in a preview, and refuses a second export on it.
BuildKit answers the layout's build from the cache the pushed build just filled.
"""

from dataclasses import dataclass
from decimal import Decimal
from typing import Callable, Optional

import docker as docker_engine
import pulumi
import pulumi_docker_build as docker_build

from leanstack.config.resolve import ImageBuild
from leanstack.costing.images import layout_of
from leanstack.images.layout import build_layout
from leanstack.images.source import ImageContents, ImageReadError, read_image
from leanstack.images.targets import Target, failure_lines, inspect
from leanstack.kube.quantities import MIB, parse_quantity


class ImageOverBudget(pulumi.RunError):
    """Ends `pulumi up` with just this message (RunError), before dependent workloads change."""


def check_size_budget(service: str, ref: str, size_bytes: int, build: ImageBuild) -> str:
    """Return `ref` if the image fits its budget, else raise naming image, size, budget and its setting."""
    budget = build.size_budget
    if budget is not None and Decimal(size_bytes) > parse_quantity(budget):
        mib = Decimal(size_bytes) / MIB
        raise ImageOverBudget(
            f"image {ref} of service {service} is {mib:.1f}Mi, over its size budget {budget} "
            f"({build.budget_setting}); its workloads were left unchanged"
        )
    return ref


class ImageBreaksRules(pulumi.RunError):
    """A pushed image breaks its dive rules (or cannot be read for them): ends `pulumi up` with just
    this message, before dependent workloads change."""


def check_rules(ref: str, build: ImageBuild, read: Callable[[str], ImageContents]) -> str:
    """Return `ref` if the pushed image keeps its dive rules (`build.rules`), else raise naming image,
    rule, value and its setting (`build.rules_setting`; leanstack.images reads the image)."""
    try:
        _, results = inspect(Target(ref, build.rules, build.rules_setting), read=read)
    except ImageReadError as error:
        raise ImageBreaksRules(f"{error}; its workloads were left unchanged") from None
    broken = failure_lines(ref, results, build.rules_setting)
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


@dataclass(frozen=True)
class OptimizedImageArgs:
    """One image build and where it is pushed."""

    service: str
    """Whose image it is (named in errors). Required."""
    build: ImageBuild
    """Dockerfile, target, args, size budget, dive rules, cache and secrets (leanstack.config.resolve.ImageBuild). Required."""
    repository: str
    """Where it is pushed, e.g. 127.0.0.1:5000/leanstack/api. Required."""
    tag: str
    """The pushed tag. Required."""
    builder: Optional[str] = None
    """A buildx builder (BuildKit). Default None: the provider starts its own."""


class OptimizedImage(pulumi.ComponentResource):
    image: docker_build.Image
    layout: Optional[docker_build.Image]
    ref: pulumi.Output[str]
    size_bytes: pulumi.Output[int]

    def __init__(self, name: str, args: OptimizedImageArgs, opts: Optional[pulumi.ResourceOptions] = None,
                 measure_size: Callable[[str], int] = local_image_size,
                 read_image: Callable[[str], ImageContents] = read_image):
        """`measure_size` measures the pushed image for its budget (the local Docker engine by default),
        `read_image` reads it for its dive rules (the registry API by default); parameters, not args,
        because component args hold data only."""
        super().__init__("leanstack:image:OptimizedImage", name, None, opts)
        build = args.build
        tag = f"{args.repository}:{args.tag}"
        cache: dict = {}
        if build.cache_from_registry:
            # Inline cache metadata travels with the pushed image; the next build reuses its layers.
            cache = {"cache_from": [{"registry": {"ref": tag}}], "cache_to": [{"inline": {}}]}
        secrets = {secret: pulumi.Output.secret(content) for secret, content in build.secrets.items()}
        same_build = dict(
            context={"location": build.context},
            dockerfile={"location": f"{build.context}/{build.dockerfile}"},
            target=build.target,
            build_args=dict(build.args),
            platforms=[build.platform],
            builder={"name": args.builder} if args.builder else None,
            secrets=secrets,
        )
        image_name = f"{name}-image"
        self.image = image = docker_build.Image(
            image_name,
            tags=[tag],
            push=True,
            # v0.0.22 never builds a pushed Image in a preview, only warns that it skipped it: the
            # layout Image below is the build a preview makes.
            build_on_preview=False,
            **same_build,
            **cache,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.layout = None
        if build.build_on_preview:
            layout = build_layout(pulumi.get_stack(), image_name)
            self.layout = docker_build.Image(
                layout_of(image_name),
                push=False,
                exports=[docker_build.ExportArgs(oci=docker_build.ExportOCIArgs(dest=str(layout), tar=False))],
                build_on_preview=True,
                **same_build,
                cache_from=cache.get("cache_from"),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[image]),
            )
        measured = image.ref.apply(lambda ref: (ref, measure_size(ref)))
        self.size_bytes = measured.apply(lambda pair: pair[1])
        self.ref = measured.apply(lambda pair: check_rules(check_size_budget(args.service, pair[0], pair[1], build),
                                                           build, read_image))
        self.register_outputs({"ref": self.ref, "size_bytes": self.size_bytes})
