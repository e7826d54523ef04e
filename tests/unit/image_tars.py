"""Small synthetic layer tars and images for the image-analysis tests, built in memory."""

from __future__ import annotations

import gzip
import io
import json
import tarfile


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
