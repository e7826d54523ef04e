"""Which images to read and which rules apply: refs the user names, and the images a stack builds
(each pushed as <registry>/<prefix>/<service>:<stack>, checked against its `image.build.rules`)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional, Union

from leanstack.config.fields import DIGEST, DIGEST_REF
from leanstack.config.resolve import ImageRules, builds
from leanstack.config.schema import StackConfig
from leanstack.costing.images import ImageFacts
from leanstack.images.gates import RuleResult, evaluate, failures
from leanstack.images.layout import build_layout
from leanstack.images.report import ImageReport, build_report
from leanstack.images.source import ImageContents, ImageReadError, read_image, read_layout


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


def facts_cache() -> Optional[Path]:
    """Where preview_facts keeps what it read, per image digest ($XDG_CACHE_HOME, else ~/.cache);
    LEANSTACK_IMAGE_FACTS_CACHE=off keeps nothing."""
    if os.environ.get("LEANSTACK_IMAGE_FACTS_CACHE") == "off":
        return None
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "leanstack" / "image-facts"


def _kept(cache: Optional[Path], digest: Optional[str]) -> Optional[Path]:
    """Where the facts of the image with `digest` (sha256:...) are kept (None: no digest, or no cache).
    Only a digest's shape names a file: anything else is never looked up or kept."""
    return cache / f"{digest.replace(':', '-')}.json" if cache and digest and DIGEST.match(digest) else None


def _load(kept: Optional[Path]) -> Optional[ImageFacts]:
    if kept is None:
        return None
    try:
        data = json.loads(kept.read_text(encoding="utf-8"))
        return ImageFacts(int(data["size"]), float(data["efficiency"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None  # not kept yet, or unreadable: read the image


def _weigh(contents: ImageContents, kept: Optional[Path]) -> ImageFacts:
    report = build_report(contents.ref, contents.config, contents.digests, contents.layers, top=0)
    facts = ImageFacts(report.size, report.efficiency.score)
    if kept:
        try:
            kept.parent.mkdir(parents=True, exist_ok=True)
            partial = kept.with_suffix(f".{os.getpid()}.tmp")
            partial.write_text(json.dumps({"size": facts.size, "efficiency": facts.efficiency}), encoding="utf-8")
            partial.replace(kept)  # atomic: a concurrent preview reads the whole file or none
        except OSError:
            pass  # a read-only cache directory only costs the next preview the read
    return facts


def preview_facts(ref: str, read: Callable[[str], ImageContents] = read_image,
                  cache: Optional[Path] = None) -> Union[ImageFacts, str]:
    """An image's size and dive efficiency for the preview's image delta, or the one line saying why
    it could not be read (a registry that does not answer): the cost report still prints.

    Reading every layer costs about a second per image on each preview, also for images the
    preview leaves as they are; a digest names immutable content, so what was read for a
    `repo@sha256:...` ref is kept in `cache` (default facts_cache()) and read from there next time."""
    kept = _kept(facts_cache() if cache is None else cache, ref.rsplit("@", 1)[1] if DIGEST_REF.match(ref) else None)
    facts = _load(kept)
    if facts is not None:
        return facts
    try:
        contents = read(ref)
    except ImageReadError as error:
        return str(error)
    return _weigh(contents, kept)


def built_facts(work_dir: Path, stack: str, read: Callable[[str, Path, str], ImageContents] = read_layout,
                cache: Optional[Path] = None) -> Callable[[str, str], Union[ImageFacts, str]]:
    """The reader of the builds a preview of `stack` wrote as OCI layouts (costing.images.image_rows'
    `built`): the new side of the Image `image` is the build `digest` (the preview's step names it)
    in the layout directory at images.layout.build_layout, under `work_dir`. Kept per digest as
    preview_facts keeps."""
    cache = facts_cache() if cache is None else cache

    def facts(image: str, digest: str) -> Union[ImageFacts, str]:
        kept = _kept(cache, digest)
        found = _load(kept)
        if found is not None:
            return found
        try:
            contents = read(f"{image}@{digest}", work_dir / build_layout(stack, image), digest)
        except ImageReadError as error:
            return str(error)
        return _weigh(contents, kept)

    return facts
