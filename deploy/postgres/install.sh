#!/usr/bin/env bash
# Make sure the PostgreSQL server binaries (initdb, pg_ctl) are installed and print their directory.
# Idempotent: installs the Debian package only when no /usr/lib/postgresql/<version>/bin/initdb exists.
# The tests start their own throwaway cluster from these binaries; no system service is used.
set -euo pipefail

find_bin_dir() {
  local initdb
  initdb=$(ls -1d /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1 || true)
  [[ -n "$initdb" ]] && dirname "$initdb"
}

if ! bin_dir=$(find_bin_dir); then
  if [[ $(id -u) -eq 0 ]]; then
    as_root=()
  elif command -v sudo >/dev/null; then
    as_root=(sudo)
  else
    echo "PostgreSQL is not installed and installing it needs root (or sudo)" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${as_root[@]}" apt-get update -qq >&2
  # The package's post-install creates a default cluster; the tests never use it.
  "${as_root[@]}" apt-get install -y -qq postgresql >&2
  bin_dir=$(find_bin_dir) || { echo "postgresql installed but no initdb found" >&2; exit 1; }
fi
echo "$bin_dir"
