# shellcheck shell=bash
# Shared by the scripts that install Debian packages (source it after defining log and die).

# apt_install_missing PACKAGE...: install those not installed yet (apt lists fetched once if absent);
# LEANSTACK_NO_INSTALL=1 makes a missing package an error instead.
apt_install_missing() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  [ "${LEANSTACK_NO_INSTALL:-0}" = 1 ] && die "missing packages: ${missing[*]} (LEANSTACK_NO_INSTALL=1)"
  [ "$(id -u)" -eq 0 ] || die "installing ${missing[*]} needs root"
  log "apt-get install -y ${missing[*]}"
  # Update the lists once if apt has none yet (fresh machine).
  if ! ls /var/lib/apt/lists/*_Packages >/dev/null 2>&1; then
    apt-get update -qq
  fi
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
    log "install failed; retrying after apt-get update"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}
