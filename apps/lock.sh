#!/usr/bin/env bash
# Re-lock apps/*/requirements.txt (pinned + hashed) from requirements.in, resolved
# INSIDE the build base image so the lock matches the image's interpreter.
# (Resolving on the host once dropped async-timeout: redis needs it only on
# Python < 3.11.3, the host has 3.11.7, Debian bookworm's python3 is 3.11.2.)
#
#   apps/lock.sh [api worker ...]      default: every app with a requirements.in
# Env: BUILD_BASE (default 127.0.0.1:5000/leanstack/python:3.11-build),
#      PIP_CERT_FILE (CA bundle to trust, default the host's, if present).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
BUILD_BASE="${BUILD_BASE:-127.0.0.1:5000/leanstack/python:3.11-build}"
PIP_CERT_FILE="${PIP_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}"
apps=("$@")
if [ "${#apps[@]}" -eq 0 ]; then
  for d in "$here"/*/requirements.in; do apps+=("$(basename "$(dirname "$d")")"); done
fi
cert_args=()
if [ -s "$PIP_CERT_FILE" ]; then
  cert_args=(-v "$PIP_CERT_FILE:/run/secrets/pip_cert:ro" -e PIP_CERT=/run/secrets/pip_cert)
fi
for app in "${apps[@]}"; do
  echo "locking $app in $BUILD_BASE" >&2
  docker run --rm "${cert_args[@]}" -v "$here/$app:/w" -w /w -e HOME=/tmp \
    --user "$(id -u):$(id -g)" "$BUILD_BASE" sh -ec '
      python3 -m venv /tmp/v
      /tmp/v/bin/pip install -q --disable-pip-version-check pip-tools==7.6.2
      CUSTOM_COMPILE_COMMAND="apps/lock.sh" /tmp/v/bin/pip-compile -q --generate-hashes --strip-extras \
        --allow-unsafe --no-emit-index-url --no-emit-trusted-host --no-emit-find-links \
        -o requirements.txt requirements.in'
done
