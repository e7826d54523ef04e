#!/usr/bin/env bash
# Build leanstack's hermetic Python base images from Debian packages and push
# them to the local registry (see scripts/docker.sh):
#
#   127.0.0.1:5000/leanstack/python:3.11-runtime  minbase + python3 + ca-certificates
#   127.0.0.1:5000/leanstack/python:3.11-build    runtime + python3-venv/pip/dev + build-essential
#   127.0.0.1:5000/leanstack/python:3.11-floor    distroless-like: the interpreter, its stdlib (no test/,
#                                                 idlelib, tkinter, ...), the libraries it links, CA certs,
#                                                 tzdata, passwd/group; no shell, package manager, perl, coreutils
#   127.0.0.1:5000/leanstack/python:3.11-floor-debug  the floor + busybox (a shell and its applets)
#
# How: `debootstrap --variant=minbase bookworm` from the Debian mirror this
# machine's apt uses (read from /etc/apt/sources.list*), security/updates
# applied in a chroot, packages installed, docs/man/caches/apt lists removed,
# then `tar -C rootfs -c . | docker import - IMAGE` and `docker push`.
#
# Idempotent: each image carries a label org.leanstack.base.hash = sha256 of
# (suite, variant, package list, cleanup recipe). If the registry already has
# the tag with the same hash, the image is not rebuilt (it is only pulled into
# the local engine when missing there). FORCE=1 rebuilds anyway.
#
# Environment knobs:
#   REGISTRY        default 127.0.0.1:5000
#   LEANSTACK_CACHE default ~/.cache/leanstack  (debs cached in base/debs)
#   DEBIAN_MIRROR   override the mirror read from apt's sources
#   SECURITY_MIRROR override the security mirror read from apt's sources
#   FORCE=1         rebuild even when the registry has a matching image
#   ONLY=runtime|build|floor  build just one of them (floor = the floor and its -debug variant)
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

REGISTRY="${REGISTRY:-127.0.0.1:5000}"
BASE_DIR="$LEANSTACK_CACHE/base"
DEB_CACHE="$BASE_DIR/debs"
WORK="$BASE_DIR/work"
SUITE=bookworm
VARIANT=minbase
REPO="$REGISTRY/leanstack/python"
SIZES_FILE="$BASE_DIR/sizes.txt"
# Bump when the recipe below changes in a way that should rebuild the images.
RECIPE_VERSION=3

RUNTIME_PKGS=(python3 python-is-python3 ca-certificates tzdata)
BUILD_PKGS=(python3-venv python3-pip python3-dev build-essential)
# Purged from the runtime image only (dpkg --purge, so /var/lib/dpkg/status stays
# true for image scanners): the package manager and tools a container never runs.
# Without apt, extra runtime packages go into RUNTIME_PKGS above, not a Dockerfile.
# libstdc++6 stays on purpose: manylinux wheels may link the system one.
RUNTIME_PURGE=(apt libapt-pkg6.0 gpgv debian-archive-keyring libgnutls30 libhogweed6 libnettle8
  libp11-kit0 libtasn1-6 libidn2-0 libunistring2 libseccomp2 libxxhash0
  e2fsprogs libext2fs2 libss2 logsave)

# The floor copies files out of a rootfs with RUNTIME_PKGS + FLOOR_PKGS installed: the interpreter,
# its stdlib and the shared libraries they link (found with ldd), plus FLOOR_PKGS' libraries:
# all of glibc's (manylinux wheels link librt.so.1, libpthread.so.0, libdl.so.2, which glibc 2.34
# folded into libc but still ships; its gconv charset modules stay out, as in the runtime base),
# libgcc_s (glibc loads it for pthread_cancel) and libstdc++ (manylinux wheels may link it).
# Extra runtime libraries (say libpq5) go into FLOOR_PKGS; what they link comes along.
FLOOR_PKGS=(libc6 libgcc-s1 libstdc++6)
DEBUG_PKGS=(busybox-static)
# Not needed to run a program: the stdlib's tests, IDLE, Tk, turtle demos, ensurepip, pydoc's topic
# data and 2to3; also every test/ and tests/ directory. Of the extension modules, the test ones and
# nis (deprecated, gone in 3.13), which alone pulls in libnsl, libtirpc and Kerberos (1.8 MB).
STDLIB_DROP=(test idlelib tkinter turtledemo ensurepip pydoc_data lib2to3 turtle.py)
EXT_DROP=(nis '_test*' '_xxtest*' 'xxlimited*' _ctypes_test)  # name patterns, before .cpython-*.so
# The fixed ids every leanstack workload runs as (the Dockerfiles' USER, the pods' runAsUser).
APP_UID=10001

[ "$(id -u)" -eq 0 ] || die "debootstrap and chroot need root"
docker info >/dev/null 2>&1 || die "no Docker engine: run scripts/docker.sh first"
curl -fsS -m 3 -o /dev/null "http://$REGISTRY/v2/" || die "registry $REGISTRY does not answer: run scripts/docker.sh first"
command -v debootstrap >/dev/null || die "debootstrap missing: run scripts/docker.sh first (or apt-get install debootstrap)"

# --- mirrors: the ones this machine's apt uses ---------------------------------
{ read -r AUTO_MAIN; read -r AUTO_SEC; } < <(py_tool aptsources "$SUITE")
MIRROR="${DEBIAN_MIRROR:-$AUTO_MAIN}"
SEC_MIRROR="${SECURITY_MIRROR:-$AUTO_SEC}"
[ -n "$MIRROR" ] || die "no Debian '$SUITE main' source found in /etc/apt/sources.list*; set DEBIAN_MIRROR"
log "Debian mirror: from apt's sources$( [ -n "$SEC_MIRROR" ] && echo ' (+ security)')"

# --- hashing / registry checks --------------------------------------------------
recipe_hash() { # args = packages (+ purge list)
  { echo "recipe=$RECIPE_VERSION suite=$SUITE variant=$VARIANT"; printf '%s\n' "$@";
    declare -f clean_rootfs strip_runtime write_apt_config; } | sha256sum | cut -c1-16
}

# --- rootfs steps -----------------------------------------------------------------
MOUNTS=()
cleanup_mounts() {
  local i
  for (( i=${#MOUNTS[@]}-1; i>=0; i-- )); do umount -l "${MOUNTS[$i]}" 2>/dev/null || true; done
  MOUNTS=()
}
trap cleanup_mounts EXIT

in_chroot() { # $1 = rootfs, rest = command
  local root="$1"; shift
  mountpoint -q "$root/proc" || { mount -t proc proc "$root/proc"; MOUNTS+=("$root/proc"); }
  # Share downloaded .debs between runs and images (removed from the image by
  # clean_rootfs). Not for dpkg --purge: apt's postrm wipes /var/cache/apt.
  if [ "$1" = apt-get ]; then
    mkdir -p "$DEB_CACHE/apt/partial" "$root/var/cache/apt/archives"
    mountpoint -q "$root/var/cache/apt/archives" || {
      mount --bind "$DEB_CACHE/apt" "$root/var/cache/apt/archives"; MOUNTS+=("$root/var/cache/apt/archives"); }
  fi
  cp -L /etc/resolv.conf "$root/etc/resolv.conf"
  # Output goes to a log (apt's "Can not write log (Is /dev/pts mounted?)" is
  # harmless noise); shown only when the command fails.
  echo "+ $*" >>"$WORK/chroot.log"
  if ! chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
      DEBIAN_FRONTEND=noninteractive "$@" >>"$WORK/chroot.log" 2>&1; then
    tail -n 30 "$WORK/chroot.log" >&2
    die "in chroot: $* failed (log: $WORK/chroot.log)"
  fi
}

write_apt_config() { # $1 = rootfs
  local root="$1"
  rm -f "$root/etc/apt/sources.list"
  {
    printf 'Types: deb\nURIs: %s\nSuites: %s %s-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
      "$MIRROR" "$SUITE" "$SUITE"
    if [ -n "$SEC_MIRROR" ]; then
      printf '\nTypes: deb\nURIs: %s\nSuites: %s-security\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
        "$SEC_MIRROR" "$SUITE"
    fi
  } >"$root/etc/apt/sources.list.d/debian.sources"
  # Keep images small for anything installed later, too.
  cat >"$root/etc/apt/apt.conf.d/90leanstack" <<'EOF'
APT::Install-Recommends "false";
APT::Install-Suggests "false";
Acquire::Languages "none";
EOF
  cat >"$root/etc/dpkg/dpkg.cfg.d/90leanstack-nodoc" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
EOF
  # No daemons may start inside the chroot.
  printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"; chmod +x "$root/usr/sbin/policy-rc.d"
}

clean_rootfs() { # $1 = rootfs
  local root="$1"
  rm -f "$root/usr/sbin/policy-rc.d"
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/* "$root"/var/cache/debconf/*-old \
    "$root"/var/lib/dpkg/*-old "$root"/var/log/* "$root"/tmp/* "$root"/var/tmp/* "$root"/root/.cache \
    "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/usr/share/lintian "$root"/usr/share/linda \
    "$root"/usr/share/locale/* "$root"/var/cache/ldconfig/aux-cache
  find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete 2>/dev/null || true
  find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete 2>/dev/null || true
  : >"$root/etc/resolv.conf"
  # Empty, so the engine's own files are bind-mounted over them at run time.
  : >"$root/etc/hostname"
}

# Runtime only: purge the package manager, drop glibc's iconv charset modules
# (Python's codecs are built in; nothing in a Python runtime calls iconv).
strip_runtime() { # $1 = rootfs, rest = packages to purge
  local root="$1"; shift
  cleanup_mounts  # unmount the deb cache first: apt's postrm empties /var/cache/apt
  [ "$#" -gt 0 ] && in_chroot "$root" dpkg --purge "$@"
  cleanup_mounts
  find "$root/usr/lib/x86_64-linux-gnu/gconv" -maxdepth 1 -type f -name '*.so' -delete 2>/dev/null || true
  rm -f "$root/usr/lib/x86_64-linux-gnu/gconv/gconv-modules.cache"
  rm -rf "$root/etc/apt" "$root/var/lib/apt" "$root/var/cache/apt"
}

# debootstrap minbase once per run (into $WORK/minbase), reused by both images.
MINBASE_READY=0
make_minbase() {
  [ "$MINBASE_READY" = 1 ] && return 0
  rm -rf "$WORK/minbase"; mkdir -p "$WORK/minbase" "$DEB_CACHE"
  local t=$SECONDS
  log "debootstrap --variant=$VARIANT $SUITE (debs cached in $DEB_CACHE)"
  if ! debootstrap --variant="$VARIANT" --cache-dir="$DEB_CACHE" "$SUITE" "$WORK/minbase" "$MIRROR" \
      >"$WORK/debootstrap.log" 2>&1; then
    tail -n 30 "$WORK/debootstrap.log" >&2
    die "debootstrap failed (full log: $WORK/debootstrap.log)"
  fi
  log "debootstrap done in $((SECONDS - t))s"
  t=$SECONDS
  write_apt_config "$WORK/minbase"
  in_chroot "$WORK/minbase" apt-get update -qq
  in_chroot "$WORK/minbase" apt-get -y -qq -o Dpkg::Options::=--force-confold dist-upgrade
  cleanup_mounts
  log "security/updates applied in $((SECONDS - t))s"
  MINBASE_READY=1
}

build_image() { # $1 = tag, $2 = description, $3 = packages to purge (space separated), rest = packages
  local tag="$1" desc="$2" purge="$3"; shift 3
  local pkgs=("$@") hash ref="$REPO:$tag" root="$WORK/$tag" t
  hash="$(recipe_hash "${pkgs[@]}" "purge: $purge")"
  local have; have="$(registry_hash "$ref")"
  if [ "${FORCE:-0}" != 1 ] && [ "$have" = "$hash" ]; then
    log "$ref is up to date in the registry (hash $hash): skipping"
    docker image inspect "$ref" >/dev/null 2>&1 || { log "pulling $ref into the local engine"; docker pull -q "$ref" >/dev/null; }
    return 0
  fi
  log "building $ref (hash $hash; registry has '${have:-none}')"
  make_minbase
  t=$SECONDS
  rm -rf "$root"; cp -a "$WORK/minbase" "$root"
  in_chroot "$root" apt-get update -qq
  in_chroot "$root" apt-get install -y -qq "${pkgs[@]}"
  # Debian's own "python3 -m pip install" outside a venv stays refused (PEP 668):
  # images are expected to use a venv, as the leanstack Dockerfiles do.
  log "installed ${pkgs[*]} in $((SECONDS - t))s"
  if [ -n "$purge" ]; then
    # shellcheck disable=SC2086 # word splitting intended
    strip_runtime "$root" $purge
    log "purged: $purge"
  fi
  cleanup_mounts
  clean_rootfs "$root"
  import_image "$root" "$ref" "$hash" "$desc"
  rm -rf "$root"
}

import_image() { # $1 = rootfs, $2 = ref, $3 = recipe hash, $4 = description, rest = extra --change values
  local root="$1" ref="$2" hash="$3" desc="$4"; shift 4
  local changes=() change t=$SECONDS
  for change in "$@"; do changes+=(--change "$change"); done
  local created old_id; created="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  old_id="$(docker image inspect -f '{{.Id}}' "$ref" 2>/dev/null || true)"
  tar --numeric-owner --xattrs --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' -C "$root" -c . | docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'CMD ["python3"]' \
    "${changes[@]}" \
    --change "LABEL org.leanstack.base.hash=$hash" \
    --change "LABEL org.opencontainers.image.title=leanstack/python:${ref##*:}" \
    --change "LABEL org.opencontainers.image.description=\"$desc\"" \
    --change "LABEL org.opencontainers.image.created=$created" \
    --change "LABEL org.opencontainers.image.base.name=debian:$SUITE-$VARIANT" \
    - "$ref" >/dev/null
  log "imported $ref in $((SECONDS - t))s"
  # Drop the image this tag pointed at before, unless something still uses it.
  if [ -n "$old_id" ] && [ "$old_id" != "$(docker image inspect -f '{{.Id}}' "$ref")" ]; then
    docker rmi "$old_id" >/dev/null 2>&1 || true
  fi
  t=$SECONDS
  docker push -q "$ref" >/dev/null
  log "pushed $ref in $((SECONDS - t))s"
}

# --- the floor --------------------------------------------------------------------
# The files a Python process needs, as paths relative to the rootfs $1 (merged /usr: /lib/x -> usr/lib/x),
# every symlink followed by its target.
floor_paths() { # $1 = rootfs with RUNTIME_PKGS and FLOOR_PKGS installed
  local root="$1" path modules libs drop pkg skip=()
  for drop in "${EXT_DROP[@]}"; do skip+=(-not -name "$drop.cpython-*.so"); done
  # The extension modules the floor keeps and FLOOR_PKGS' libraries, as paths inside the rootfs.
  modules="$(find "$root/usr/lib/python3.11/lib-dynload" -name '*.so' "${skip[@]}" | sed "s#^$root##")"
  libs="$(for pkg in "${FLOOR_PKGS[@]}"; do
    chroot "$root" dpkg-query -L "$pkg" | grep -E '\.so(\.[0-9]+)*$' | grep -v /gconv/; done)"
  {
    printf '%s\n' bin lib lib64 sbin usr/bin/python3.11 usr/bin/python3 usr/bin/python usr/lib/python3.11 \
      usr/lib/python3/dist-packages etc/ssl usr/lib/ssl/cert.pem usr/lib/ssl/certs usr/lib/ssl/openssl.cnf \
      usr/lib/ssl/private usr/share/ca-certificates usr/share/zoneinfo \
      etc/localtime etc/timezone etc/mime.types etc/nsswitch.conf etc/host.conf etc/os-release \
      usr/lib/os-release etc/debian_version etc/python3.11
    echo "$libs"
    # shellcheck disable=SC2086 # one path per word
    chroot "$root" ldd /usr/bin/python3.11 $modules $libs 2>/dev/null \
      | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// && $2 ~ /^\(/ {print $1}' || true  # ldd fails on the static ones
  } | sed -E 's#^/##; s#^(bin|sbin|lib|lib64)/#usr/\1/#' | sort -u | while read -r path; do
    [ -e "$root/$path" ] || [ -L "$root/$path" ] || continue
    echo "$path"
    if [ -L "$root/$path" ] && [ -f "$root/$path" ]; then
      chroot "$root" readlink -f "/$path" | sed -E 's#^/##; s#^(bin|sbin|lib|lib64)/#usr/\1/#'
    fi
  done | sort -u
}

# Copy the floor out of $1 into $2: the paths above, the stdlib without STDLIB_DROP, fresh
# passwd/group, and for image scanners a status.d entry (as distroless writes them) and the
# copyright file of every package a file came from.
floor_rootfs() { # $1 = rootfs with RUNTIME_PKGS and FLOOR_PKGS installed, $2 = destination
  local root="$1" dest="$2" list="$WORK/floor.paths" stdlib="$2/usr/lib/python3.11" pkg drop
  rm -rf "$dest"; mkdir -p "$dest"
  floor_paths "$root" >"$list"
  tar --numeric-owner -C "$root" -c -T "$list" | tar --numeric-owner -C "$dest" -xp
  for drop in "${STDLIB_DROP[@]}"; do rm -rf "${stdlib:?}/$drop" "$stdlib/__pycache__/${drop%.py}".*; done
  find "$stdlib" -type d \( -name test -o -name tests -o -name idle_test \) -prune -exec rm -rf {} +
  for drop in "${EXT_DROP[@]}"; do find "$stdlib/lib-dynload" -name "$drop.cpython-*.so" -delete; done
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\napp:x:%s:%s:app:/tmp:/sbin/nologin\n' \
    "$APP_UID" "$APP_UID" >"$dest/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\napp:x:%s:\n' "$APP_UID" >"$dest/etc/group"
  install -d -m 1777 "$dest/tmp"
  install -d -m 0700 "$dest/root"
  : >"$dest/etc/hostname"; : >"$dest/etc/hosts"; : >"$dest/etc/resolv.conf"
  mkdir -p "$dest/var/lib/dpkg/status.d"
  { printf '%s\n' python3.11-minimal libpython3.11-minimal libpython3.11-stdlib python3-minimal python3 \
      python-is-python3 ca-certificates tzdata media-types "${FLOOR_PKGS[@]}"
    grep -E '\.so' "$list" | xargs -n1 basename | sed 's#^#*/#' | xargs chroot "$root" dpkg-query -S 2>/dev/null \
      | sed 's#: /.*##; s#, #\n#g' || true  # a library no package owns is still copied, just not listed
  } | sed 's#:.*##' | sort -u | while read -r pkg; do
    chroot "$root" dpkg-query -s "$pkg" >"$dest/var/lib/dpkg/status.d/$pkg"
    if [ -f "$root/usr/share/doc/$pkg/copyright" ]; then
      install -D -m 0644 "$root/usr/share/doc/$pkg/copyright" "$dest/usr/share/doc/$pkg/copyright"
    fi
  done
}

# The -debug variant: busybox and a link per applet (sh, ls, ps, ...), none over an existing file.
add_debug_shell() { # $1 = rootfs with DEBUG_PKGS installed, $2 = floor copy to extend
  local root="$1" dest="$2" applet
  install -m 0755 "$root/bin/busybox" "$dest/usr/bin/busybox"
  for applet in $(chroot "$dest" /usr/bin/busybox --list); do
    [ -e "$dest/usr/bin/$applet" ] || ln -s busybox "$dest/usr/bin/$applet"
  done
}

build_floor() {
  local ref="$REPO:3.11-floor" debug_ref="$REPO:3.11-floor-debug" root="$WORK/floor-src" hash debug_hash t
  hash="$({ recipe_hash "${RUNTIME_PKGS[@]}" "floor: ${FLOOR_PKGS[*]}" "drop: ${STDLIB_DROP[*]}" "ext: ${EXT_DROP[*]}" "uid: $APP_UID"
            declare -f floor_paths floor_rootfs; } | sha256sum | cut -c1-16)"
  debug_hash="$({ echo "$hash ${DEBUG_PKGS[*]}"; declare -f add_debug_shell; } | sha256sum | cut -c1-16)"
  if [ "${FORCE:-0}" != 1 ] && [ "$(registry_hash "$ref")" = "$hash" ] \
      && [ "$(registry_hash "$debug_ref")" = "$debug_hash" ]; then
    log "$ref and $debug_ref are up to date in the registry: skipping"
    local tag; for tag in "$ref" "$debug_ref"; do
      docker image inspect "$tag" >/dev/null 2>&1 || { log "pulling $tag into the local engine"; docker pull -q "$tag" >/dev/null; }
    done
    return 0
  fi
  log "building $ref (hash $hash) and $debug_ref"
  make_minbase
  t=$SECONDS
  rm -rf "$root"; cp -a "$WORK/minbase" "$root"
  in_chroot "$root" apt-get update -qq
  in_chroot "$root" apt-get install -y -qq "${RUNTIME_PKGS[@]}" "${FLOOR_PKGS[@]}" "${DEBUG_PKGS[@]}"
  cleanup_mounts
  log "installed the floor's source packages in $((SECONDS - t))s"
  floor_rootfs "$root" "$WORK/floor"
  import_image "$WORK/floor" "$ref" "$hash" "Debian $SUITE python3, distroless-like: no shell, no package manager" \
    'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt' "USER $APP_UID:$APP_UID"
  add_debug_shell "$root" "$WORK/floor"
  import_image "$WORK/floor" "$debug_ref" "$debug_hash" "the leanstack floor + busybox (a shell, for debugging)" \
    'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt' "USER $APP_UID:$APP_UID"
  rm -rf "$root" "$WORK/floor"
}

record_sizes() {
  mkdir -p "$BASE_DIR"
  {
    printf '# leanstack base images, %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    local tag
    for tag in 3.11-runtime 3.11-build 3.11-floor 3.11-floor-debug; do
      local ref="$REPO:$tag"
      docker image inspect "$ref" >/dev/null 2>&1 || continue
      local bytes pyv
      bytes="$(docker image inspect -f '{{.Size}}' "$ref")"
      pyv="$(docker run --rm --network none "$ref" python3 -c 'import sys; print(sys.version.split()[0])' 2>/dev/null || echo '?')"
      printf '%-45s %7.1f MB  python %s\n' "$ref" "$(awk -v b="$bytes" 'BEGIN{print b/1000000}')" "$pyv"
    done
  } | tee "$SIZES_FILE" >&2
}

mkdir -p "$WORK"; : >"$WORK/chroot.log"
ONLY="${ONLY:-all}"
case "$ONLY" in runtime|build|floor|all) ;; *) die "ONLY must be runtime, build, floor or all" ;; esac
if [ "$ONLY" = runtime ] || [ "$ONLY" = all ]; then
  build_image 3.11-runtime "Debian $SUITE minbase + python3 (runtime, no apt)" \
    "${RUNTIME_PURGE[*]}" "${RUNTIME_PKGS[@]}"
fi
if [ "$ONLY" = build ] || [ "$ONLY" = all ]; then
  build_image 3.11-build "Debian $SUITE minbase + python3, venv, pip, dev headers, build-essential" \
    "" "${RUNTIME_PKGS[@]}" "${BUILD_PKGS[@]}"
fi
if [ "$ONLY" = floor ] || [ "$ONLY" = all ]; then
  build_floor
fi
rm -rf "$WORK/minbase"
record_sizes
log "done"
