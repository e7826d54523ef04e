"""Where the OCI image layout of a service's image goes, so a preview can weigh a build it never pushes.

A build with `build_on_preview` has a second docker-build Image beside the pushed one (named by
costing.images.layout_of): the same build, with one export, an OCI image layout directory at
`build_layout(stack, image)`. pulumi-docker-build v0.0.22 builds it during a preview (it never
builds a `push: true` Image then) and refuses a second export on the pushed Image (its multiple-
exports check runs before its builder is booted; docs/images.md). `leanstack cost` reads the new
side of a rebuilt image from there, by the digest the preview's step names (a content address: a
blob an earlier build left cannot pass for it). A directory, not a tar: v0.0.22 hands BuildKit a
tar export without the file writer it needs ("FileSend/diffcopy not supported by the client").
BuildKit adds each build's new blobs and keeps the old ones: the directory grows by what changed,
and may be deleted at any time (the next build writes it again).

The path is relative to the project directory (the docker-build provider and the program run there;
the CLI joins it to --work-dir): it is an input of the Image, kept in state, so it must read the
same on every machine that previews or updates the stack, or every Image would show `exports`
changed. It lies outside every build context (apps/<service>), and .gitignore lists it.
"""

from __future__ import annotations

from pathlib import PurePosixPath

BUILDS = PurePosixPath(".leanstack-cache/builds")


def build_layout(stack: str, image: str) -> PurePosixPath:
    """The OCI layout directory of `image` (the pushed docker-build Image's resource name, e.g. api-image) in `stack`."""
    return BUILDS / stack / image
