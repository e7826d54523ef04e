#!/usr/bin/env bash
# Re-lock apps/*/requirements.txt (pinned + hashed) from requirements.in, resolved
# INSIDE the build base image so the lock matches the image's interpreter.
# (Resolving on the host once dropped async-timeout: redis needs it only on
# Python < 3.11.3, the host has 3.11.7, Debian bookworm's python3 is 3.11.2.)
#
#   apps/lock.sh [api worker DIR ...]   default: every app with a requirements.in
# An argument with a slash is a directory (examples/django-celery/app); every *requirements.in in
# it becomes the matching *requirements.txt. A build-packages.txt next to them names the Debian
# packages an sdist needs to report its metadata (psycopg2 runs pg_config): installed first, as root,
# and the locks handed back to the caller's uid.
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
  dir="$here/$app"
  case "$app" in */*) dir="$(cd "$app" && pwd)" ;; esac
  echo "locking $app in $BUILD_BASE" >&2
  user_args=(--user "$(id -u):$(id -g)")
  if [ -s "$dir/build-packages.txt" ]; then user_args=(-e OWNER="$(id -u):$(id -g)"); fi
  docker run --rm "${cert_args[@]}" "${user_args[@]}" -v "$dir:/w" -w /w -e HOME=/tmp "$BUILD_BASE" sh -ec '
      if [ -n "${OWNER:-}" ]; then
        apt-get update -qq && xargs -a build-packages.txt apt-get install -qq -y --no-install-recommends >/dev/null
      fi
      python3 -m venv /tmp/v
      /tmp/v/bin/pip install -q --disable-pip-version-check pip-tools==7.6.2
      for in in *requirements.in; do
        CUSTOM_COMPILE_COMMAND="apps/lock.sh" /tmp/v/bin/pip-compile -q --generate-hashes --strip-extras \
          --allow-unsafe --no-emit-index-url --no-emit-trusted-host --no-emit-find-links \
          -o "${in%.in}.txt" "$in"
        if [ -n "${OWNER:-}" ]; then chown "$OWNER" "${in%.in}.txt"; fi
      done'
done
