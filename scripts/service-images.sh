#!/usr/bin/env bash
# Build the database and cache images the local stack runs (Docker Hub cannot be reached here) from
# Debian bookworm packages, and push them to the local registry (see scripts/docker.sh):
#
#   127.0.0.1:5000/leanstack/postgres:15  Debian's postgresql-15; an empty $PGDATA is initialised with
#                                         the password in $POSTGRES_PASSWORD_FILE (scripts/images/postgres-entrypoint.sh)
#   127.0.0.1:5000/leanstack/redis:7      Debian's redis-server 7.0 and redis-cli
#
# Both run as UID/GID 10999 (the stacks' security.run_as_user), which has a passwd and group entry
# (postgres refuses to start when getpwuid fails), with a read-only root: postgres writes only $PGDATA
# (/var/lib/postgresql/data/pgdata), /var/run/postgresql and /tmp, redis only /data.
#
# The recipe is scripts/base-images.sh's: debootstrap --variant=minbase from the mirror apt uses,
# packages installed in a chroot, apt and caches removed, `docker import`, `docker push`; idempotent by
# the label org.leanstack.base.hash. Its helpers are copied here in short: base-images.sh runs when
# sourced, so they cannot be shared without changing it (both should move to one scripts/ library).
#
# Environment: REGISTRY (127.0.0.1:5000), LEANSTACK_CACHE (~/.cache/leanstack; debs shared with the
# Python bases), DEBIAN_MIRROR / SECURITY_MIRROR (default: apt's), FORCE=1 (rebuild), ONLY=postgres|redis.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$LEANSTACK_ROOT"

REGISTRY="${REGISTRY:-127.0.0.1:5000}"
DEB_CACHE="$LEANSTACK_CACHE/base/debs"
WORK="$LEANSTACK_CACHE/service-images"
SUITE=bookworm
UID_GID=10999
# Bump when the recipe changes in a way that should rebuild the images.
RECIPE_VERSION=1

[ "$(id -u)" -eq 0 ] || die "debootstrap and chroot need root"
docker info >/dev/null 2>&1 || die "no Docker engine: run scripts/docker.sh first"
curl -fsS -m 3 -o /dev/null "http://$REGISTRY/v2/" || die "registry $REGISTRY does not answer: run scripts/docker.sh first"
command -v debootstrap >/dev/null || die "debootstrap missing: run scripts/docker.sh first"

# apt's own reading of its sources: "<suite> <uri>" for each 'main' index target.
# shellcheck disable=SC2016 # $(...) are apt's format fields, not shell
mirror_of() { apt-get indextargets --format '$(RELEASE) $(COMPONENT) $(REPO_URI)' | awk -v s="$1" '$1 == s && $2 == "main" {print $3; exit}'; }
MIRROR="${DEBIAN_MIRROR:-$(mirror_of "$SUITE")}"
SEC_MIRROR="${SECURITY_MIRROR:-$(mirror_of "$SUITE-security")}"
[ -n "$MIRROR" ] || die "apt has no '$SUITE main' source (apt-get indextargets); set DEBIAN_MIRROR"

MOUNTS=()
unmount_all() { local m; for m in "${MOUNTS[@]}"; do umount -l "$m" 2>/dev/null || true; done; MOUNTS=(); }
trap unmount_all EXIT

# Run a command in the rootfs with /proc mounted (apt-get also with the shared .deb cache: not for
# dpkg --purge, as apt's postrm empties /var/cache/apt); output to the log.
chrooted() { # $1 = rootfs, rest = command
  local root="$1"; shift
  mountpoint -q "$root/proc" || { mount -t proc proc "$root/proc"; MOUNTS=("$root/proc" "${MOUNTS[@]}"); }
  if [ "$1" = apt-get ] && ! mountpoint -q "$root/var/cache/apt/archives"; then
    mount --bind "$DEB_CACHE" "$root/var/cache/apt/archives"; MOUNTS=("$root/var/cache/apt/archives" "${MOUNTS[@]}")
  fi
  cp -L /etc/resolv.conf "$root/etc/resolv.conf"
  echo "+ $*" >>"$WORK/chroot.log"
  chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
    DEBIAN_FRONTEND=noninteractive "$@" >>"$WORK/chroot.log" 2>&1 \
    || { tail -n 30 "$WORK/chroot.log" >&2; die "in chroot: $* failed (log: $WORK/chroot.log)"; }
}

# A bookworm minbase with updates and security fixes, no docs, no recommends, no daemons started;
# made once a run, copied for each image.
minbase() {
  local root="$WORK/minbase"
  [ -f "$root/.ready" ] && return 0
  rm -rf "$root"; mkdir -p "$root" "$DEB_CACHE/partial"
  log "debootstrap --variant=minbase $SUITE"
  debootstrap --variant=minbase --cache-dir="$DEB_CACHE" "$SUITE" "$root" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 \
    || { tail -n 30 "$WORK/debootstrap.log" >&2; die "debootstrap failed (log: $WORK/debootstrap.log)"; }
  { printf 'deb %s %s main\n' "$MIRROR" "$SUITE"; printf 'deb %s %s-updates main\n' "$MIRROR" "$SUITE"
    [ -z "$SEC_MIRROR" ] || printf 'deb %s %s-security main\n' "$SEC_MIRROR" "$SUITE"; } >"$root/etc/apt/sources.list"
  printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\nAcquire::Languages "none";\n' \
    >"$root/etc/apt/apt.conf.d/90leanstack"
  { printf 'path-exclude /usr/share/%s/*\n' doc man info locale lintian
    echo 'path-include /usr/share/doc/*/copyright'; } >"$root/etc/dpkg/dpkg.cfg.d/90leanstack-nodoc"
  printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"; chmod +x "$root/usr/sbin/policy-rc.d"
  chrooted "$root" apt-get update -qq
  chrooted "$root" apt-get -y -qq -o Dpkg::Options::=--force-confold dist-upgrade
  unmount_all
  touch "$root/.ready"
}

# The package's own system user becomes UID/GID 10999, and what it owned follows.
renumber_user() { # $1 = rootfs, $2 = user (also its group)
  local root="$1" user="$2" old_uid old_gid
  old_uid="$(awk -F: -v u="$user" '$1 == u {print $3}' "$root/etc/passwd")"
  old_gid="$(awk -F: -v u="$user" '$1 == u {print $3}' "$root/etc/group")"
  { [ -n "$old_uid" ] && [ -n "$old_gid" ]; } || die "the $user package made no $user user and group"
  chrooted "$root" groupmod -g "$UID_GID" "$user"
  chrooted "$root" usermod -u "$UID_GID" -g "$UID_GID" "$user"
  unmount_all
  find "$root" -xdev \( -uid "$old_uid" -o -gid "$old_gid" \) -exec chown -h "$UID_GID:$UID_GID" {} +
}

# Without a package manager: apt and its keys go (dpkg stays, and its status stays true for scanners).
strip_rootfs() { # $1 = rootfs
  local root="$1"
  unmount_all
  chrooted "$root" dpkg --purge apt libapt-pkg6.0 gpgv debian-archive-keyring
  unmount_all
  rm -rf "$root/etc/apt" "$root"/var/lib/apt "$root"/var/cache/* "$root"/var/log/* "$root"/tmp/* "$root"/var/tmp/* \
    "$root"/root/.cache "$root"/var/lib/dpkg/*-old "$root/usr/sbin/policy-rc.d" \
    "$root"/usr/share/{man,info,locale,lintian}/*
  find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
  find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete
  : >"$root/etc/resolv.conf"; : >"$root/etc/hostname"  # the engine mounts its own
}

postgres_rootfs() { # $1 = rootfs
  local root="$1" bin=/usr/lib/postgresql/15/bin tool
  # No cluster of Debian's own layout (/var/lib/postgresql/15/main): the entrypoint makes $PGDATA.
  mkdir -p "$root/etc/postgresql-common/createcluster.d"
  echo 'create_main_cluster = false' >"$root/etc/postgresql-common/createcluster.d/leanstack.conf"
  chrooted "$root" apt-get install -y -qq postgresql-15
  # Dropped although packages name them (228 MB of 401): LLVM for JIT compilation (the server runs
  # without its llvmjit module: jit is off), Perl for Debian's cluster tools and locales' sources
  # (initdb uses glibc's built-in C.UTF-8). dpkg's status stays true: they are purged, not deleted.
  unmount_all
  chrooted "$root" dpkg --purge --force-depends libllvm14 libz3-4 perl libperl5.36 perl-modules-5.36 libjson-perl locales
  rm -rf "$root/usr/lib/postgresql/15/lib/llvmjit"* "$root/usr/lib/postgresql/15/lib/bitcode"
  renumber_user "$root" postgres
  # /usr/bin/psql, pg_isready, ... are Debian's Perl wrapper choosing a cluster: point them at 15's binaries.
  for tool in "$root"/usr/bin/*; do
    [ "$(readlink "$tool")" = ../share/postgresql-common/pg_wrapper ] && [ -x "$root$bin/${tool##*/}" ] \
      && ln -sfn "$bin/${tool##*/}" "$tool"
  done
  install -m 0755 scripts/images/postgres-entrypoint.sh "$root/usr/local/bin/postgres-entrypoint"
  install -d -o "$UID_GID" -g "$UID_GID" -m 0700 "$root/var/lib/postgresql/data"
  # Sticky and world-writable like /tmp: an engine's tmpfs mounted here copies the mode, not the owner.
  # (run/, not var/run/: that is a link to /run, the host's while building.)
  install -d -o "$UID_GID" -g "$UID_GID" -m 1777 "$root/run/postgresql"
}
# shellcheck disable=SC2034 # read by build() through a nameref
POSTGRES_CHANGES=(
  "ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
  "ENV PGDATA=/var/lib/postgresql/data/pgdata"
  "USER $UID_GID:$UID_GID"
  'ENTRYPOINT ["/usr/local/bin/postgres-entrypoint"]'
  'CMD ["postgres"]'
  # SIGINT is postgres's fast shutdown: sessions are ended, the data is consistent.
  'STOPSIGNAL SIGINT'
  'EXPOSE 5432'
)

redis_rootfs() { # $1 = rootfs
  local root="$1"
  chrooted "$root" apt-get install -y -qq redis-server
  renumber_user "$root" redis
  install -d -o "$UID_GID" -g "$UID_GID" -m 1777 "$root/data"  # as /run/postgresql above
}
# shellcheck disable=SC2034 # read by build() through a nameref
REDIS_CHANGES=(
  "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
  "USER $UID_GID:$UID_GID"
  'WORKDIR /data'
  # Debian's /etc/redis/redis.conf daemonizes and writes /var/log; the built-in defaults bind every
  # address. Protected mode off, as in the official image: the stack's NetworkPolicy guards the port.
  'CMD ["redis-server", "--protected-mode", "no", "--dir", "/data"]'
  'EXPOSE 6379'
)

build() { # $1 = name (postgres|redis), $2 = tag, $3 = description
  local name="$1" tag="$2" desc="$3" ref="$REGISTRY/leanstack/$1:$2" root="$WORK/$1" hash have
  local -n changes="${name^^}_CHANGES"
  hash="$({ echo "recipe=$RECIPE_VERSION suite=$SUITE uid=$UID_GID"; printf '%s\n' "${changes[@]}"
            declare -f minbase renumber_user strip_rootfs "${name}_rootfs"
            find scripts/images -name "$name-*" -exec cat {} +; } | sha256sum | cut -c1-16)"
  have="$(registry_hash "$ref")"
  if [ "${FORCE:-0}" != 1 ] && [ "$have" = "$hash" ]; then
    log "$ref is up to date in the registry (hash $hash)"
    docker image inspect "$ref" >/dev/null 2>&1 || docker pull -q "$ref" >/dev/null
    return 0
  fi
  log "building $ref (hash $hash; registry has '${have:-none}')"
  minbase
  rm -rf "$root"; cp -a "$WORK/minbase" "$root"; rm "$root/.ready"
  "${name}_rootfs" "$root"
  strip_rootfs "$root"
  local args=() later="" change out old_id
  old_id="$(docker image inspect -f '{{.Id}}' "$ref" 2>/dev/null || true)"
  for change in "${changes[@]}"; do
    # docker import (engine 20.10) refuses STOPSIGNAL: it is set by a metadata-only build below.
    case "$change" in STOPSIGNAL*) later+="$change"$'\n' ;; *) args+=(--change "$change") ;; esac
  done
  tar --numeric-owner --xattrs --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' -C "$root" -c . \
    | docker import "${args[@]}" --change 'ENV LANG=C.UTF-8' \
        --change "LABEL org.leanstack.base.hash=$hash" \
        --change "LABEL org.opencontainers.image.title=leanstack/$name:$tag" \
        --change "LABEL org.opencontainers.image.description=\"$desc\"" \
        --change "LABEL org.opencontainers.image.created=$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
        --change "LABEL org.opencontainers.image.base.name=debian:$SUITE-minbase" - "$ref" >/dev/null
  # The legacy builder: FROM the local image, no layer added, nothing pulled. Its output (a
  # deprecation notice) is shown only when it fails.
  if [ -n "$later" ] && ! out="$(printf 'FROM %s\n%s' "$ref" "$later" | DOCKER_BUILDKIT=0 docker build -q -t "$ref" - 2>&1)"; then
    die "setting ${later%$'\n'} on $ref failed: $out"
  fi
  docker push -q "$ref" >/dev/null
  # The image the tag pointed at before goes (with its imported parent), unless something uses it.
  [ -z "$old_id" ] || [ "$old_id" = "$(docker image inspect -f '{{.Id}}' "$ref")" ] || docker rmi "$old_id" >/dev/null 2>&1 || true
  rm -rf "$root"
  log "pushed $ref ($(docker image inspect -f '{{.Size}}' "$ref" | awk '{printf "%.1f MB", $1 / 1e6}'))"
}

mkdir -p "$WORK"; rm -rf "$WORK/minbase"; : >"$WORK/chroot.log"
case "${ONLY:-all}" in postgres|redis|all) ;; *) die "ONLY must be postgres, redis or all" ;; esac
[ "${ONLY:-all}" = redis ] || build postgres 15 "Debian $SUITE minbase + postgresql-15, non-root, initialises an empty PGDATA"
[ "${ONLY:-all}" = postgres ] || build redis 7 "Debian $SUITE minbase + redis-server 7.0, non-root"
rm -rf "$WORK/minbase"
log "done"
