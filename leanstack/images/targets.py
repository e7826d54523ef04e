"""Which images to read and which rules apply: refs the user names, and the images a stack builds
(each pushed as <registry>/<prefix>/<service>:<stack>, checked against its `image.build.rules`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional, Union

from leanstack.config.resolve import ImageRules, builds
from leanstack.config.schema import StackConfig
from leanstack.costing.images import ImageFacts
from leanstack.images.gates import RuleResult, evaluate, failures
from leanstack.images.report import ImageReport, build_report
from leanstack.images.source import ImageContents, ImageReadError, read_image


@dataclass(frozen=True)
class Target:
    """An image and the rules it is held to: dive's defaults (as `dive --ci` without a config) unless
    the stack file sets them at `key_path`."""

    ref: str
    rules: ImageRules = ImageRules()
    key_path: Optional[str] = None


def stack_targets(config: StackConfig, stack: str) -> list[Target]:
    """Each image the stack builds, with its bound rules (config.resolve.builds, as the Platform binds
    them; reading an image needs no build secrets)."""
    return [Target(f"{config.registry.server}/{config.registry.prefix}/{service}:{stack}", build.rules,
                   build.rules_setting)
            for service, build in builds(config, {}).items()]


def inspect(target: Target, top: int = 10,
            read: Callable[[str], ImageContents] = read_image) -> tuple[ImageReport, list[RuleResult]]:
    contents = read(target.ref)
    report = build_report(target.ref, contents.config, contents.digests, contents.layers, top)
    return report, evaluate(report, target.rules)


def failure_lines(ref: str, results: list[RuleResult], key_path: Optional[str]) -> list[str]:
    """One line per broken rule: image, rule, value and threshold, and the key path to change."""
    def where(rule: str) -> str:
        return f"{key_path}.{rule}" if key_path else "dive's default"

    return [f"image {ref} breaks dive rule {result.rule} ({where(result.rule)}): {result.message}"
            for result in failures(results)]


def preview_facts(ref: str, read: Callable[[str], ImageContents] = read_image) -> Union[ImageFacts, str]:
    """An image's size and dive efficiency for the preview's image delta, or the one line saying why
    it could not be read (a registry that does not answer): the cost report still prints."""
    try:
        contents = read(ref)
    except ImageReadError as error:
        return str(error)
    report = build_report(ref, contents.config, contents.digests, contents.layers, top=0)
    return ImageFacts(report.size, report.efficiency.score)
