"""Read an image: its config (the build history) and its layers' file lists, each layer streamed once.

- A ref that names a registry (`127.0.0.1:5000/leanstack/api:dev`, `host.example/repo@sha256:...`)
  is read over the registry HTTP API (distribution spec): the manifest (an index picks linux/amd64),
  the config blob, then every layer blob through a streaming tar reader (gzip detected).
- Any other ref (`leanstack/api:dev`) is read from the local Docker engine with the docker SDK: the
  image's `save` stream (the `docker save` tar, as a stream of chunks), read once from front to back.
- A build in an OCI image layout directory (BuildKit's `type=oci,tar=false` export: the build a
  preview wrote without pushing it, leanstack.images.layout) is read by its digest from the
  layout's blobs, as the registry's are read.

Every failure is an ImageReadError whose text is one line naming the image.
"""

from __future__ import annotations

import io
import json
import posixpath
import tarfile
import urllib.error
import urllib.request
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Iterable, Iterator, Optional

from leanstack.config.fields import DIGEST
from leanstack.images.filesystem import Entry, read_layer

INDEX_TYPES = ("application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json")
MANIFEST_TYPES = ("application/vnd.oci.image.manifest.v1+json", "application/vnd.docker.distribution.manifest.v2+json")
# OCI-layout blobs of a docker save small enough to hold while telling a JSON document from a layer tar.
SMALL_MEMBER = 4 << 20


class ImageReadError(Exception):
    """The image could not be read; the message is one line naming it."""


@dataclass(frozen=True)
class Reference:
    """`registry` is None for an image of the local engine; `reference` is a tag or a digest."""

    registry: Optional[str]
    repository: str
    reference: str

    @classmethod
    def parse(cls, ref: str) -> "Reference":
        name, digest = ref.split("@", 1) if "@" in ref else (ref, "")
        head, _, rest = name.partition("/")
        registry = head if rest and ("." in head or ":" in head or head == "localhost") else None
        path = rest if registry else name
        repository, tag = path, "latest"
        if ":" in path.rsplit("/", 1)[-1]:
            repository, tag = path.rsplit(":", 1)
        if not repository:
            raise ImageReadError(f"image {ref}: not an image reference; use [registry/]repository[:tag][@sha256:...]")
        return cls(registry, repository, digest or tag)


@dataclass(frozen=True)
class ImageContents:
    """What an analysis needs: the image config and, bottom first, each layer's digest and entries."""

    ref: str
    config: dict
    digests: list[str]
    layers: list[list[Entry]]


def read_image(ref: str, platform: str = "linux/amd64", timeout: float = 30) -> ImageContents:
    parsed = Reference.parse(ref)
    if parsed.registry is None:
        return from_engine(ref)
    return Registry(ref, parsed, timeout).read(parsed.reference, platform)


class Manifests(ABC):
    """Where an image's manifests and blobs are read from (a registry, an OCI layout): one walk from
    the manifest a reference names (an index picks the platform's) to the config and each layer."""

    ref: str
    source: str  # names the store in errors: "registry 127.0.0.1:5000", "the OCI layout at ..."

    @abstractmethod
    def manifest(self, reference: str, accept: Iterable[str]) -> dict:
        """The manifest or index `reference` (a tag or a digest) names, as JSON."""

    @abstractmethod
    def blob(self, digest: str) -> IO[bytes]:
        """The blob `digest` names, as a stream."""

    def read(self, reference: str, platform: str) -> ImageContents:
        manifest = self.manifest(reference, (*INDEX_TYPES, *MANIFEST_TYPES))
        if manifest.get("mediaType") in INDEX_TYPES or "manifests" in manifest:
            manifest = self.manifest(pick(self.ref, manifest, platform), MANIFEST_TYPES)
        if "config" not in manifest:
            raise ImageReadError(f"image {self.ref}: {self.source} holds a manifest without a config "
                                 f"({manifest.get('mediaType') or 'schema ' + str(manifest.get('schemaVersion'))})")
        config_digest = manifest["config"]["digest"]
        with self.blob(config_digest) as blob:
            config = self.parse(blob, config_digest)
        digests = [layer["digest"] for layer in manifest.get("layers", [])]
        layers = []
        for digest in digests:
            with self.blob(digest) as blob:
                layers.append(layer_entries(self.ref, digest, blob))
        return ImageContents(self.ref, config, digests, layers)

    def parse(self, stream: IO[bytes], what: str) -> dict:
        try:
            return json.load(stream)
        except ValueError:
            raise ImageReadError(f"image {self.ref}: {self.source} holds no JSON for {what}") from None


class Registry(Manifests):
    def __init__(self, ref: str, parsed: Reference, timeout: float):
        self.ref, self.parsed, self.timeout = ref, parsed, timeout
        self.source = f"registry {parsed.registry}"
        # Plain HTTP on loopback, as Docker treats 127.0.0.0/8 and localhost as insecure registries.
        host = (parsed.registry or "").rsplit(":", 1)[0]
        scheme = "http" if host.startswith("127.") or host in ("localhost", "[::1]") else "https"
        self.base = f"{scheme}://{parsed.registry}/v2/{parsed.repository}"

    def open(self, path: str, accept: Iterable[str] = ()) -> IO[bytes]:
        request = urllib.request.Request(f"{self.base}/{path}", headers={"Accept": ", ".join(accept)} if accept else {})
        try:
            return urllib.request.urlopen(request, timeout=self.timeout)
        except urllib.error.HTTPError as error:
            if error.code == 404:
                raise ImageReadError(f"image {self.ref}: not found in {self.source} "
                                     f"(HTTP 404 for {path.split('/')[0]})") from None
            hint = "; pull it and name the engine's image instead (no registry login here)" if error.code == 401 else ""
            raise ImageReadError(f"image {self.ref}: {self.source} answered HTTP {error.code} "
                                 f"for {path.split('/')[0]}{hint}") from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise ImageReadError(f"image {self.ref}: {self.source} does not answer ({reason})") from None

    def manifest(self, reference: str, accept: Iterable[str]) -> dict:
        path = f"manifests/{reference}"
        with self.open(path, accept) as response:
            return self.parse(response, path)

    def blob(self, digest: str) -> IO[bytes]:
        return self.open(f"blobs/{digest}")


class Layout(Manifests):
    """An OCI image layout directory: every manifest and blob is a file under blobs/<algorithm>/."""

    def __init__(self, ref: str, path: Path):
        self.ref, self.path = ref, path
        self.source = f"the OCI layout at {path}"

    def blob(self, digest: str) -> IO[bytes]:
        algorithm, _, encoded = digest.partition(":")
        try:
            return open(self.path / "blobs" / algorithm / encoded, "rb")
        except FileNotFoundError:
            if not (self.path / "oci-layout").is_file():
                raise ImageReadError(f"image {self.ref}: no OCI layout at {self.path}") from None
            raise ImageReadError(f"image {self.ref}: {self.source} holds no blob {digest}") from None
        except OSError as error:
            raise ImageReadError(f"image {self.ref}: {self.source} is not readable ({error})") from None

    def manifest(self, reference: str, accept: Iterable[str]) -> dict:
        with self.blob(reference) as blob:
            return self.parse(blob, reference)


def read_layout(ref: str, path: Path, digest: str, platform: str = "linux/amd64") -> ImageContents:
    """The build `digest` names (an image index or a manifest) in the OCI layout directory at `path`."""
    if not DIGEST.match(digest):
        raise ImageReadError(f"image {ref}: {digest!r} is not a digest; use sha256:<64 hex digits>")
    return Layout(ref, path).read(digest, platform)


def pick(ref: str, index: dict, platform: str) -> str:
    """The digest of the index's manifest for `platform` (an attestation's "unknown/unknown" never matches)."""
    os_name, _, arch = platform.partition("/")
    for entry in index.get("manifests", []):
        wanted = entry.get("platform", {})
        if wanted.get("os") == os_name and wanted.get("architecture") == arch.split("/")[0]:
            return entry["digest"]
    raise ImageReadError(f"image {ref}: has no {platform} manifest")


def layer_entries(ref: str, name: str, stream: IO[bytes]) -> list[Entry]:
    try:
        return read_layer(stream)
    except (tarfile.TarError, EOFError, OSError) as error:
        raise ImageReadError(f"image {ref}: layer {name} is not a readable tar ({error})") from None


class ChunkStream(io.RawIOBase):
    """A read-only file over an iterator of byte chunks (the docker SDK's `save` stream)."""

    def __init__(self, chunks: Iterator[bytes]):
        self.chunks, self.pending = chunks, b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self.pending:
            self.pending = next(self.chunks, b"")
            if not self.pending:
                return 0
        size = min(len(buffer), len(self.pending))
        buffer[:size], self.pending = self.pending[:size], self.pending[size:]
        return size


def from_engine(ref: str) -> ImageContents:
    import docker  # the SDK only for engine images: a registry read needs no engine

    try:
        client = docker.from_env()
    except docker.errors.DockerException as error:
        raise ImageReadError(f"image {ref}: no Docker engine answers ({error})") from None
    try:
        image = client.images.get(ref)
        return read_saved(ref, io.BufferedReader(ChunkStream(iter(image.save(named=False)))))
    except docker.errors.ImageNotFound:
        raise ImageReadError(f"image {ref}: not in the local Docker engine (push it, or name its registry)") from None
    except docker.errors.DockerException as error:
        raise ImageReadError(f"image {ref}: the Docker engine failed ({error})") from None
    finally:
        client.close()


def read_saved(ref: str, stream: IO[bytes]) -> ImageContents:
    """A `docker save` archive, in one pass: its members come in any order, so JSON documents and
    layers are kept by name and put in order by manifest.json at the end."""
    documents: dict[str, dict] = {}
    layers: dict[str, list[Entry]] = {}
    links: dict[str, str] = {}
    with tarfile.open(fileobj=stream, mode="r|") as archive:
        for member in archive:
            if member.issym():  # a layer shared with another image: a link to its tar
                links[member.name] = posixpath.normpath(posixpath.join(posixpath.dirname(member.name), member.linkname))
            elif member.isreg() and (member.name.endswith(".json") or member.name == "repositories"):
                documents[member.name] = json.load(archive.extractfile(member))
            elif member.isreg() and (member.name.endswith("/layer.tar") or member.name.startswith("blobs/")):
                data = archive.extractfile(member)
                if member.name.startswith("blobs/") and member.size <= SMALL_MEMBER:  # OCI layout: JSON or a layer
                    body = data.read()
                    if body[:1] in (b"{", b"["):
                        documents[member.name] = json.loads(body)
                        continue
                    data = io.BytesIO(body)
                layers[member.name] = layer_entries(ref, member.name, data)
    try:
        (manifest,) = documents["manifest.json"]
        config = documents[manifest["Config"]]
        names = [links.get(name, name) for name in manifest["Layers"]]
        return ImageContents(ref, config, config.get("rootfs", {}).get("diff_ids", names), [layers[n] for n in names])
    except (KeyError, ValueError, TypeError) as error:
        raise ImageReadError(f"image {ref}: the engine's archive lacks {error}") from None
