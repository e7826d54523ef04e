"""Questions to an image registry over its HTTP API (distribution v2), for the scripts:

    python3 -m tools.registry digest HOST/REPO:TAG     the manifest digest, sha256:<hex>; exit 1 when absent
    python3 -m tools.registry label HOST/REPO:TAG KEY  the image config's label KEY; empty when unset or absent

scripts/service-images.sh reads its content-hash label to skip a rebuild; scripts/local-stack.sh pins
the local images by digest. A registry that does not answer is an error (exit 1). Standard library
only: it runs on the host's python3 before any venv exists. Plain HTTP: the registry is on loopback.
"""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
from typing import Callable, Optional

MANIFEST_V2 = "application/vnd.docker.distribution.manifest.v2+json"
# Fetches a URL with an Accept header: returns (headers, body), or None for a 404.
Fetch = Callable[[str, str], Optional[tuple[dict[str, str], bytes]]]


class RegistryError(Exception):
    pass


def split_ref(ref: str) -> tuple[str, str, str]:
    """HOST/REPO:TAG -> (host, repo, tag); the host is the part before the first slash."""
    host, slash, rest = ref.partition("/")
    repo, colon, tag = rest.rpartition(":")
    if not slash or not colon or not repo or not tag or "/" in tag or "@" in ref:
        raise RegistryError(f"{ref!r} is not HOST/REPOSITORY:TAG (e.g. 127.0.0.1:5000/leanstack/redis:7)")
    return host, repo, tag


def http_fetch(url: str, accept: str) -> Optional[tuple[dict[str, str], bytes]]:
    request = urllib.request.Request(url, headers={"Accept": accept})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return {k.lower(): v for k, v in response.headers.items()}, response.read()
    except urllib.error.HTTPError as error:
        if error.code == 404:
            return None
        raise RegistryError(f"{url}: HTTP {error.code}") from None
    except OSError as error:
        raise RegistryError(f"{url}: {error}") from None


def _manifest(ref: str, fetch: Fetch) -> Optional[tuple[str, str, dict[str, str], bytes]]:
    host, repo, tag = split_ref(ref)
    found = fetch(f"http://{host}/v2/{repo}/manifests/{tag}", MANIFEST_V2)
    return None if found is None else (host, repo, *found)


def digest(ref: str, fetch: Fetch = http_fetch) -> Optional[str]:
    """The digest the registry serves REF's manifest under (Docker-Content-Digest); None when absent."""
    found = _manifest(ref, fetch)
    if found is None:
        return None
    value = found[2].get("docker-content-digest", "")
    if not value.startswith("sha256:"):
        raise RegistryError(f"{ref}: the registry sent no Docker-Content-Digest header")
    return value


def label(ref: str, key: str, fetch: Fetch = http_fetch) -> Optional[str]:
    """Label KEY of REF's image config ("" when the image lacks it); None when REF is absent."""
    found = _manifest(ref, fetch)
    if found is None:
        return None
    host, repo, _, body = found
    config = fetch(f"http://{host}/v2/{repo}/blobs/{json.loads(body)['config']['digest']}", "application/json")
    if config is None:
        raise RegistryError(f"{ref}: the registry lacks the config blob its manifest names")
    return (json.loads(config[1]).get("config", {}).get("Labels") or {}).get(key, "")


def main(argv: list[str]) -> int:
    try:
        if argv[:1] == ["digest"] and len(argv) == 2:
            answer = digest(argv[1])
            if answer is None:
                raise RegistryError(f"{argv[1]} is not in the registry")
        elif argv[:1] == ["label"] and len(argv) == 3:
            answer = label(argv[1], argv[2]) or ""
        else:
            print(__doc__, file=sys.stderr)
            return 2
    except RegistryError as error:
        print(f"tools.registry: {error}", file=sys.stderr)
        return 1
    print(answer)
    return 0
