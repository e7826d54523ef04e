#!/bin/sh
# Entry point of 127.0.0.1:5000/leanstack/postgres (scripts/service-images.sh): like the official
# image's, an empty $PGDATA is initialised once with the superuser password from
# $POSTGRES_PASSWORD_FILE and, when $POSTGRES_DB names another one, that database; then the command
# runs (postgres by default). Runs as the image's
# non-root user; writes only $PGDATA and /var/run/postgresql (the server's socket and lock).
set -eu

if [ "${1:-}" = postgres ] && [ ! -s "$PGDATA/PG_VERSION" ]; then
  password_file="${POSTGRES_PASSWORD_FILE:-}"
  if [ -z "$password_file" ] || [ ! -r "$password_file" ]; then
    echo "postgres-entrypoint: $PGDATA is empty and POSTGRES_PASSWORD_FILE ('$password_file') is not a readable file:" \
      "set it to the file that holds the superuser's password" >&2
    exit 1
  fi
  # A volume that ignores fsGroup (e.g. a hostPath one) stays root's: say so, not just initdb's EACCES.
  if [ ! -d "$PGDATA" ] && [ ! -w "${PGDATA%/*}" ]; then
    echo "postgres-entrypoint: ${PGDATA%/*} is not writable by uid $(id -u) ($(stat -c '%u:%g %a' "${PGDATA%/*}")):" \
      "the volume must be writable by the pod's fsGroup" >&2
    exit 1
  fi
  # scram-sha-256 for every connection, local ones included: no trust anywhere.
  initdb --username="${POSTGRES_USER:-postgres}" --pwfile="$password_file" --auth=scram-sha-256 \
    --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  # Password logins from any address of the pod network; the stack's NetworkPolicy decides who gets here.
  printf 'host all all 0.0.0.0/0 scram-sha-256\nhost all all ::/0 scram-sha-256\n' >>"$PGDATA/pg_hba.conf"
  # The image has no LLVM: no JIT compilation.
  printf "listen_addresses = '*'\njit = off\n" >>"$PGDATA/postgresql.conf"
  # The official image's POSTGRES_DB, made in single-user mode (no server, no socket yet).
  if [ -n "${POSTGRES_DB:-}" ] && [ "$POSTGRES_DB" != "${POSTGRES_USER:-postgres}" ]; then
    printf 'CREATE DATABASE "%s";\n' "$(printf '%s' "$POSTGRES_DB" | sed 's/"/""/g')" \
      | postgres --single -D "$PGDATA" postgres >/dev/null
  fi
  echo "postgres-entrypoint: initialised $PGDATA" >&2
fi
exec "$@"
