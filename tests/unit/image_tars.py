"""Small synthetic layer tars and images for the image-analysis tests, built in memory."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from pathlib import Path


def layer_tar(*specs: tuple, compress: bool = False) -> bytes:
    """specs: ("file", path, size), ("dir", path), ("link", path, target), ("whiteout", path), ("opaque", dir)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for kind, path, *rest in specs:
            name = path
            if kind == "whiteout":
                head, _, base = path.rpartition("/")
                name = f"{head}/.wh.{base}" if head else f".wh.{base}"
            elif kind == "opaque":
                name = f"{path}/.wh..wh..opq"
            info = tarfile.TarInfo(name)
            data = b""
            if kind == "dir":
                info.type = tarfile.DIRTYPE
            elif kind == "link":
                info.type, info.linkname = tarfile.SYMTYPE, rest[0]
            elif kind == "file":
                data = b"x" * rest[0]
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    raw = buffer.getvalue()
    return gzip.compress(raw) if compress else raw


def image_config(*instructions: str) -> dict:
    """History with an empty-layer ENV first, then one entry per layer."""
    history = [{"created_by": "ENV PATH=/usr/bin", "empty_layer": True}]
    history += [{"created_by": text} for text in instructions]
    return {"architecture": "amd64", "os": "linux", "history": history, "rootfs": {"type": "layers", "diff_ids": []}}


def docker_save(config: dict, layers: list[bytes]) -> bytes:
    """A `docker save` archive as Docker 20.10 writes it; a repeated layer becomes a symlink."""
    buffer = io.BytesIO()
    seen: dict[bytes, str] = {}
    names = []

    def add(name: str, data: bytes = b"", link: str = "") -> None:
        info = tarfile.TarInfo(name)
        if link:
            info.type, info.linkname = tarfile.SYMTYPE, link
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))

    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for number, layer in enumerate(layers):
            name = f"layer{number}/layer.tar"
            add(f"layer{number}/VERSION", b"1.0")
            if layer in seen:
                add(name, link=f"../{seen[layer]}")
            else:
                seen[layer] = name
                add(name, layer)
            names.append(name)
        add("cfg.json", json.dumps(config).encode())
        add("manifest.json", json.dumps([{"Config": "cfg.json", "RepoTags": ["x:y"], "Layers": names}]).encode())
    return buffer.getvalue()


def oci_layout(root: Path, config: dict, layers: list[bytes], index: bool = True) -> str:
    """An OCI image layout directory at `root` as BuildKit's `type=oci,tar=false` export writes it,
    and the digest of the build: with `index`, an image index holding the amd64 manifest and an
    attestation manifest (platform unknown/unknown), else the manifest itself."""
    blobs = root / "blobs" / "sha256"
    blobs.mkdir(parents=True, exist_ok=True)

    def blob(data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()
        (blobs / digest).write_bytes(data)
        return "sha256:" + digest

    def manifest(config_digest: str, layer_digests: list[str]) -> bytes:
        return json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                           "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest},
                           "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": d}
                                      for d in layer_digests]}).encode()

    top = image = blob(manifest(blob(json.dumps(config).encode()), [blob(layer) for layer in layers]))
    if index:
        statement = blob(b'{"_type": "https://in-toto.io/Statement/v0.1"}')
        attestation = blob(manifest(blob(b"{}"), [statement]))
        top = blob(json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": image,
             "platform": {"architecture": "amd64", "os": "linux"}},
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": attestation,
             "platform": {"architecture": "unknown", "os": "unknown"}}]}).encode())
    (root / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    (root / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [
        {"mediaType": "application/vnd.oci.image.index.v1+json", "digest": top}]}))
    return top
