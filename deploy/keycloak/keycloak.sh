#!/usr/bin/env bash
# A real Keycloak (the embedded OpenID Connect provider) on loopback, without Docker: the distribution zip
# from Maven Central (deploy/keycloak/pom.xml), `kc.sh start-dev`, data and logs under a data directory,
# and the realm of deploy/keycloak/mentoring-realm.json imported at the first start. See the README.
#
# usage: keycloak.sh fetch
#        keycloak.sh up        start (idempotent) and wait until the realm's discovery document answers
#        keycloak.sh down      stop (idempotent)
#        keycloak.sh status    exit 0 when up, 3 when down
#        keycloak.sh reset     down, then remove the data directory (the realm is imported again)
#        keycloak.sh issuer    print the realm's issuer URL
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"

VERSION="$(sed -n 's:.*<keycloak.version>\(.*\)</keycloak.version>.*:\1:p' "$SCRIPT_DIR/pom.xml")"
DIST_ROOT="${KEYCLOAK_DIST_DIR:-$REPO_ROOT/.var/keycloak/dist}"
DIST="$DIST_ROOT/keycloak-$VERSION"
HOME_DIR="${KEYCLOAK_HOME_DIR:-$REPO_ROOT/.var/keycloak}"
PORT="${KEYCLOAK_PORT:-18080}"
REALM_FILE="$SCRIPT_DIR/mentoring-realm.json"
REALM="mentoring"
HEAP="${KEYCLOAK_HEAP:--Xms64m -Xmx512m}"
# C1 only: a loopback IdP starts much sooner on a busy machine and issues tokens fast enough.
JAVA_EXTRA="${KEYCLOAK_JAVA_OPTS:--XX:TieredStopAtLevel=1}"
UP_TIMEOUT="${KEYCLOAK_UP_TIMEOUT:-300}"
STOP_TIMEOUT="${KEYCLOAK_STOP_TIMEOUT:-30}"
MVN="${MVN:-mvn}"
ISSUER="http://127.0.0.1:$PORT/realms/$REALM"

say() { printf 'keycloak: %s\n' "$*"; }
die() {
  printf 'keycloak: error: %s\n' "$*" >&2
  exit 1
}
usage() {
  sed -n '6,11p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

# ---------------------------------------------------------------------------------------------- fetch

fetched() { [[ -x "$DIST/bin/kc.sh" && -f "$DIST/.fetched" ]]; }

cmd_fetch() {
  if fetched; then
    say "Keycloak $VERSION already fetched in $DIST"
    return 0
  fi
  command -v "$MVN" >/dev/null || die "Maven ('$MVN') not found: install it (Debian: apt-get install maven)"
  mkdir -p "$DIST_ROOT"
  rm -rf "$DIST" "$DIST_ROOT/.markers"
  say "fetching org.keycloak:keycloak-quarkus-dist:$VERSION (zip, ~200 MB) into $DIST_ROOT"
  if ! "$MVN" -q -B -f "$SCRIPT_DIR/pom.xml" dependency:unpack "-Dkeycloak.dist.dir=$DIST_ROOT" \
    >"$DIST_ROOT/.mvn.log" 2>&1; then
    cat "$DIST_ROOT/.mvn.log" >&2
    die "mvn could not fetch Keycloak (see above)"
  fi
  [[ -x "$DIST/bin/kc.sh" ]] || die "the zip did not unpack to $DIST"
  touch "$DIST/.fetched"
  say "fetched Keycloak $VERSION"
}

# ---------------------------------------------------------------------------------------------- process

# The pid of our kc.sh, if it is alive and really is the one started for this data directory.
server_pid() {
  local pid
  [[ -f "$HOME_DIR/keycloak.pid" ]] || return 1
  pid="$(cat "$HOME_DIR/keycloak.pid")"
  [[ "$pid" =~ ^[0-9]+$ && -r "/proc/$pid/cmdline" ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "--db-url=jdbc:h2:file:$HOME_DIR/h2/" || return 1
  echo "$pid"
}

alive() {
  local state
  state="$(ps -o stat= -p "$1" 2>/dev/null)" || return 1
  [[ "$state" != Z* ]]
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

answers() { curl -fsS -m 5 -o /dev/null "$ISSUER/.well-known/openid-configuration" 2>/dev/null; }

realm_digest() { sha256sum "$REALM_FILE" | cut -d' ' -f1; }

lock() {
  mkdir -p "$HOME_DIR"
  exec 9>"$HOME_DIR/.lock"
  flock 9
}

cmd_up() {
  command -v java >/dev/null || die "java not found (Java 17+ is needed)"
  lock
  if server_pid >/dev/null && answers; then
    say "already up: $ISSUER (pid $(server_pid))"
    return 0
  fi
  local started=$SECONDS pid
  if server_pid >/dev/null; then
    say "starting already (pid $(server_pid)): waiting for it"
  else
    start_server
  fi
  wait_until_answering "$started"
  realm_digest >"$HOME_DIR/realm.sha256"
  say "up in $((SECONDS - started)) s: Keycloak $VERSION, issuer $ISSUER, pid $(server_pid), data $HOME_DIR"
}

start_server() {
  fetched || cmd_fetch
  port_open "$PORT" && ! server_pid >/dev/null &&
    die "port $PORT on 127.0.0.1 is taken by a process not started from $HOME_DIR (set KEYCLOAK_PORT)"
  # The realm is imported once, into an empty database: a changed realm file starts from a new one.
  if [[ -f "$HOME_DIR/realm.sha256" && "$(cat "$HOME_DIR/realm.sha256")" != "$(realm_digest)" ]]; then
    say "the realm file changed since it was imported: starting from an empty database"
    rm -rf "$HOME_DIR/h2"
  fi
  mkdir -p "$HOME_DIR/logs" "$HOME_DIR/h2" "$DIST/data/import"
  # --import-realm reads the distribution's data/import: the repo's realm file is copied there.
  cp "$REALM_FILE" "$DIST/data/import/$REALM-realm.json"
  rm -f "$HOME_DIR/keycloak.pid"
  # setsid: Keycloak outlives the shell (or make) that started it. The wrapper writes its own pid and
  # execs kc.sh, which runs the JVM as its child and forwards SIGTERM to it.
  # shellcheck disable=SC2016
  KC_BOOTSTRAP_ADMIN_USERNAME="${KEYCLOAK_ADMIN:-admin}" \
    KC_BOOTSTRAP_ADMIN_PASSWORD="${KEYCLOAK_ADMIN_PASSWORD:-admin}" \
    JAVA_OPTS_KC_HEAP="$HEAP" JAVA_OPTS_APPEND="$JAVA_EXTRA" \
    setsid sh -c 'echo $$ >"$0"; exec "$@"' "$HOME_DIR/keycloak.pid" \
    "$DIST/bin/kc.sh" start-dev \
    --http-host=127.0.0.1 "--http-port=$PORT" "--http-management-port=$((PORT + 1))" \
    "--hostname=http://127.0.0.1:$PORT" \
    --db=dev-file "--db-url=jdbc:h2:file:$HOME_DIR/h2/keycloakdb;NON_KEYWORDS=VALUE" \
    --cache=local --import-realm \
    >"$HOME_DIR/logs/keycloak.log" 2>&1 </dev/null 9>&- &
}

# Waits for the realm's discovery document; a server that does not come up in time is stopped.
wait_until_answering() { # started (SECONDS)
  local started="$1" deadline=$((SECONDS + UP_TIMEOUT)) pid
  until answers; do
    if ! pid="$(server_pid)" && ((SECONDS - started > 5)); then
      tail -n 20 "$HOME_DIR/logs/keycloak.log" >&2 || true
      die "Keycloak exited while starting (log: $HOME_DIR/logs/keycloak.log)"
    fi
    if ((SECONDS >= deadline)); then
      tail -n 20 "$HOME_DIR/logs/keycloak.log" >&2 || true
      stop_server
      die "Keycloak did not answer within $UP_TIMEOUT s at $ISSUER (KEYCLOAK_UP_TIMEOUT): stopped it"
    fi
    sleep 0.5
  done
}

cmd_down() {
  lock
  stop_server || say "already down"
}

stop_server() {
  local pid deadline
  if ! pid="$(server_pid)"; then
    rm -f "$HOME_DIR/keycloak.pid"
    return 1
  fi
  kill -TERM "$pid" 2>/dev/null || true
  deadline=$((SECONDS + STOP_TIMEOUT))
  while alive "$pid" && ((SECONDS < deadline)); do sleep 0.2; done
  if alive "$pid"; then
    say "pid $pid ignored SIGTERM for $STOP_TIMEOUT s: SIGKILL to its process group"
    kill -KILL -- "-$pid" 2>/dev/null || true
  fi
  rm -f "$HOME_DIR/keycloak.pid"
  say "stopped (pid $pid)"
}

cmd_status() {
  if server_pid >/dev/null && answers; then
    say "up: $ISSUER (pid $(server_pid))"
    return 0
  elif server_pid >/dev/null; then
    say "starting or unhealthy: pid $(server_pid), $ISSUER does not answer"
  else
    say "down"
  fi
  return 3
}

cmd_reset() {
  cmd_down
  [[ -n "$HOME_DIR" && "$HOME_DIR" != "/" ]] || die "refusing to remove '$HOME_DIR'"
  # The distribution may live inside the data directory (the default): keep it.
  rm -rf "$HOME_DIR/h2" "$HOME_DIR/logs" "$HOME_DIR/realm.sha256"
  say "removed the database and logs under $HOME_DIR"
}

case "${1:-}" in
  fetch) cmd_fetch ;;
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  reset) cmd_reset ;;
  issuer) echo "$ISSUER" ;;
  *) usage ;;
esac
