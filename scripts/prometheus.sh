#!/usr/bin/env bash
# Installs Debian's prometheus package for the rightsize end-to-end tests and bench: they need the
# `prometheus` server and `promtool` (to backfill blocks). Idempotent: a no-op when both exist.
# The package's postinst would enable and start a system-wide server on :9090; we start our own
# on 127.0.0.1 with a temp data dir instead, so service starts are refused during the install.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if command -v prometheus >/dev/null && command -v promtool >/dev/null; then
  prometheus --version 2>&1 | head -n1
  promtool --version 2>&1 | head -n1
  exit 0
fi

[ "$(id -u)" -eq 0 ] || die "needs root to apt-get install prometheus"

# policy-rc.d exit 101 = "action forbidden": invoke-rc.d (sysvinit and systemd alike) skips the
# start. Only install our guard when none exists, and remove only the one we installed.
guard=/usr/sbin/policy-rc.d
own_guard=false
if [ ! -e "$guard" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$guard"
  chmod 755 "$guard"
  own_guard=true
fi
remove_own_guard() { if $own_guard; then rm -f "$guard"; fi; }
trap remove_own_guard EXIT

# Without recommends: node-exporter and friends we never run stay out.
apt_install_missing prometheus

prometheus --version 2>&1 | head -n1
promtool --version 2>&1 | head -n1
