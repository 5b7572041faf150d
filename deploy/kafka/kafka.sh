#!/usr/bin/env bash
# Real Apache Kafka (KRaft) on loopback, without Docker: jars from Maven (deploy/kafka/pom.xml), one JVM
# per node, data and logs under a data directory. See deploy/kafka/README.md.
#
# usage: kafka.sh fetch
#        kafka.sh up     [--nodes 1|3]
#        kafka.sh down   [--nodes 1|3]        (no flag: every mode that runs)
#        kafka.sh status [--nodes 1|3]        exit 0 when up, 3 when down
#        kafka.sh reset                       down, then remove the data directory
#        kafka.sh bootstrap [--nodes 1|3]     print the bootstrap servers
#        kafka.sh stop-node N [--kill]        three-node mode: stop one node (fault tests)
#        kafka.sh start-node N                three-node mode: start it again and wait for it
#        kafka.sh tool CLASS [ARGS...]        run a Kafka tool class with the fetched jars
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"

LIBS_DIR="${KAFKA_LIBS_DIR:-$SCRIPT_DIR/libs}"
HOME_DIR="${KAFKA_HOME_DIR:-$REPO_ROOT/.var/kafka}"
SINGLE_PORT="${KAFKA_PORT:-9092}"
SINGLE_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-$((SINGLE_PORT + 1))}"
CLUSTER_PORT="${KAFKA_CLUSTER_PORT:-19092}"
CLUSTER_CONTROLLER_PORT="${KAFKA_CLUSTER_CONTROLLER_PORT:-$((CLUSTER_PORT + 100))}"
NUM_PARTITIONS="${KAFKA_NUM_PARTITIONS:-3}"
STOP_TIMEOUT="${KAFKA_STOP_TIMEOUT:-30}"
JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"
MVN="${MVN:-mvn}"

TOOLS_JVM_OPTS=(-Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1
  "-Dlog4j.configuration=file:$SCRIPT_DIR/tools-log4j.properties")

say() { printf 'kafka: %s\n' "$*"; }
die() {
  printf 'kafka: error: %s\n' "$*" >&2
  exit 1
}

usage() {
  sed -n '5,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

# ---------------------------------------------------------------------------------------------- layout

check_nodes() {
  [[ "$1" == 1 || "$1" == 3 ]] || die "--nodes must be 1 or 3, not '$1'"
}

mode_dir() { # nodes
  if [[ "$1" == 1 ]]; then echo "$HOME_DIR/single"; else echo "$HOME_DIR/cluster"; fi
}

node_dir() { echo "$(mode_dir "$1")/node-$2"; } # nodes, node id

broker_port() { # nodes, node id
  if [[ "$1" == 1 ]]; then echo "$SINGLE_PORT"; else echo $((CLUSTER_PORT + $2 - 1)); fi
}

controller_port() { # nodes, node id
  if [[ "$1" == 1 ]]; then echo "$SINGLE_CONTROLLER_PORT"; else echo $((CLUSTER_CONTROLLER_PORT + $2 - 1)); fi
}

bootstrap_servers() { # nodes
  local id servers=()
  for ((id = 1; id <= $1; id++)); do servers+=("127.0.0.1:$(broker_port "$1" "$id")"); done
  (IFS=,; echo "${servers[*]}")
}

quorum_voters() { # nodes
  local id voters=()
  for ((id = 1; id <= $1; id++)); do voters+=("$id@127.0.0.1:$(controller_port "$1" "$id")"); done
  (IFS=,; echo "${voters[*]}")
}

# ---------------------------------------------------------------------------------------------- fetch

# Digest of what the pom resolves (coordinates and versions), not of its comments or layout.
pom_digest() {
  grep -E '<(groupId|artifactId|version|kafka\.version|includeScope)>' "$SCRIPT_DIR/pom.xml" | tr -d ' \t' |
    sha256sum | cut -d' ' -f1
}

jars_fetched() {
  [[ -f "$LIBS_DIR/.fetched" && "$(cat "$LIBS_DIR/.fetched")" == "$(pom_digest)" ]] &&
    compgen -G "$LIBS_DIR/kafka_2.13-*.jar" >/dev/null
}

cmd_fetch() {
  if jars_fetched; then
    say "jars already fetched in $LIBS_DIR ($(kafka_version))"
    return 0
  fi
  command -v "$MVN" >/dev/null || die "Maven ('$MVN') not found: install it (Debian: apt-get install maven)"
  # A changed pom starts from an empty directory so that no jar of an older version stays on the classpath;
  # a broker running from these jars would lose classes it has not loaded yet.
  if pgrep -f "$LIBS_DIR/\* kafka.Kafka" >/dev/null; then
    die "a broker runs from $LIBS_DIR: stop it (kafka.sh down) before fetching other jars"
  fi
  mkdir -p "$LIBS_DIR"
  rm -f "$LIBS_DIR"/*.jar "$LIBS_DIR/.fetched"
  say "fetching Kafka jars into $LIBS_DIR"
  # Maven's output (colour codes even with -q) is kept out of sight unless it fails.
  if ! "$MVN" -q -B -f "$SCRIPT_DIR/pom.xml" dependency:copy-dependencies "-Dkafka.libs.dir=$LIBS_DIR" \
    >"$LIBS_DIR/.mvn.log" 2>&1; then
    cat "$LIBS_DIR/.mvn.log" >&2
    die "mvn could not fetch the jars (see above)"
  fi
  pom_digest >"$LIBS_DIR/.fetched"
  say "fetched $(find "$LIBS_DIR" -name '*.jar' | wc -l) jars ($(kafka_version))"
}

kafka_version() {
  local jar
  jar="$(compgen -G "$LIBS_DIR/kafka_2.13-*.jar" | head -n1)"
  jar="${jar##*/kafka_2.13-}"
  echo "Kafka ${jar%.jar}"
}

run_tool() { # class, args...
  jars_fetched || cmd_fetch >&2
  "$JAVA" "${TOOLS_JVM_OPTS[@]}" -cp "$LIBS_DIR/*" "$@"
}

# ---------------------------------------------------------------------------------------------- processes

# The pid of a node's broker, if that process is alive and really is this node's broker (pids get reused).
node_pid() { # nodes, node id
  local dir pid
  dir="$(node_dir "$1" "$2")"
  [[ -f "$dir/kafka.pid" ]] || return 1
  pid="$(cat "$dir/kafka.pid")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  [[ -r "/proc/$pid/cmdline" ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF "kafka.Kafka $dir/server.properties" || return 1
  echo "$pid"
}

# Alive and not a zombie: a broker started with setsid is reaped by whoever adopted it, maybe late.
alive() {
  local state
  state="$(ps -o stat= -p "$1" 2>/dev/null)" || return 1
  [[ "$state" != Z* ]]
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# True when every node of the mode answers a metadata request (the tool lists each broker it finds).
answers() { # nodes
  local out id
  out="$(timeout 30 "$JAVA" "${TOOLS_JVM_OPTS[@]}" -cp "$LIBS_DIR/*" kafka.admin.BrokerApiVersionsCommand \
    --bootstrap-server "$(bootstrap_servers "$1")" 2>/dev/null)" || return 1
  for ((id = 1; id <= $1; id++)); do
    grep -q "^127.0.0.1:$(broker_port "$1" "$id") (id: $id " <<<"$out" || return 1
  done
}

live_nodes() { # nodes -> count of nodes whose process is alive
  local id count=0
  for ((id = 1; id <= $1; id++)); do
    if node_pid "$1" "$id" >/dev/null; then count=$((count + 1)); fi
  done
  echo "$count"
}

render_config() { # nodes, node id
  local nodes="$1" id="$2" dir rf min_isr
  dir="$(node_dir "$nodes" "$id")"
  if [[ "$nodes" == 1 ]]; then rf=1 min_isr=1; else rf=3 min_isr=2; fi
  mkdir -p "$dir/data" "$dir/logs"
  sed -e "s|@NODE_ID@|$id|g" \
    -e "s|@QUORUM_VOTERS@|$(quorum_voters "$nodes")|g" \
    -e "s|@BROKER_PORT@|$(broker_port "$nodes" "$id")|g" \
    -e "s|@CONTROLLER_PORT@|$(controller_port "$nodes" "$id")|g" \
    -e "s|@LOG_DIR@|$dir/data|g" \
    -e "s|@NUM_PARTITIONS@|$NUM_PARTITIONS|g" \
    -e "s|@REPLICATION_FACTOR@|$rf|g" \
    -e "s|@MIN_ISR@|$min_isr|g" \
    "$SCRIPT_DIR/server.properties.template" >"$dir/server.properties"
}

cluster_id() { # nodes: one id per mode, made once and kept with the data
  local file
  file="$(mode_dir "$1")/cluster.id"
  if [[ ! -s "$file" ]]; then
    run_tool kafka.tools.StorageTool random-uuid | tail -n1 >"$file.tmp"
    mv "$file.tmp" "$file"
  fi
  cat "$file"
}

format_storage() { # nodes, node id
  local dir
  dir="$(node_dir "$1" "$2")"
  [[ -f "$dir/data/meta.properties" ]] && return 0
  run_tool kafka.tools.StorageTool format -t "$(cluster_id "$1")" -c "$dir/server.properties" >/dev/null
}

start_node() { # nodes, node id
  local nodes="$1" id="$2" dir heap port pid extra_opts=()
  dir="$(node_dir "$nodes" "$id")"
  node_pid "$nodes" "$id" >/dev/null && return 0
  for port in "$(broker_port "$nodes" "$id")" "$(controller_port "$nodes" "$id")"; do
    port_open "$port" && die "port $port on 127.0.0.1 is taken by a process not started from $dir" \
      "(another broker? set KAFKA_PORT / KAFKA_CLUSTER_PORT, or stop it)"
  done
  render_config "$nodes" "$id"
  format_storage "$nodes" "$id"
  if [[ "$nodes" == 1 ]]; then heap=512m; else heap=384m; fi
  read -r -a extra_opts <<<"${KAFKA_JVM_OPTS:-}"
  rm -f "$dir/kafka.pid"
  # setsid: the broker outlives the shell (or make) that started it. The wrapper writes its own pid, which
  # exec then hands to the JVM; fd 9 (the lock) is closed so the broker does not hold it.
  # shellcheck disable=SC2016
  setsid sh -c 'echo $$ >"$0"; exec "$@"' "$dir/kafka.pid" \
    "$JAVA" "-Xmx$heap" "-Xms$heap" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent -XX:+ExitOnOutOfMemoryError \
    -Djava.awt.headless=true "-Dlog4j.configuration=file:$SCRIPT_DIR/log4j.properties" \
    "-Dkafka.logs.dir=$dir/logs" "-Xlog:gc*:file=$dir/logs/gc.log:time,tags:filecount=2,filesize=10M" \
    "${extra_opts[@]}" -cp "$LIBS_DIR/*" kafka.Kafka "$dir/server.properties" \
    >"$dir/logs/stdout.log" 2>&1 </dev/null 9>&- &
  for _ in $(seq 50); do
    pid="$(node_pid "$nodes" "$id")" && return 0
    sleep 0.1
  done
  show_logs "$nodes" "$id"
  die "node $id did not start (logs in $dir/logs)"
}

show_logs() { # nodes, node id
  local dir
  dir="$(node_dir "$1" "$2")"
  printf -- '--- node %s: last lines of %s\n' "$2" "$dir/logs" >&2
  tail -n 5 "$dir/logs/stdout.log" >&2 2>/dev/null || true
  grep -E ' (ERROR|FATAL) ' "$dir/logs/server.log" 2>/dev/null | tail -n 15 >&2 || true
}

wait_until_answering() { # nodes, timeout seconds
  local nodes="$1" deadline id
  deadline=$((SECONDS + $2))
  while ((SECONDS < deadline)); do
    for ((id = 1; id <= nodes; id++)); do
      if ! node_pid "$nodes" "$id" >/dev/null; then
        show_logs "$nodes" "$id"
        die "node $id exited while starting (logs in $(node_dir "$nodes" "$id")/logs)"
      fi
    done
    local all_open=1
    for ((id = 1; id <= nodes; id++)); do
      port_open "$(broker_port "$nodes" "$id")" || all_open=0
    done
    if ((all_open)) && answers "$nodes"; then return 0; fi
    sleep 0.5
  done
  for ((id = 1; id <= nodes; id++)); do show_logs "$nodes" "$id"; done
  die "brokers did not answer within $2 s at $(bootstrap_servers "$nodes")"
}

stop_pids() { # pids...: SIGTERM all at once (a KRaft quorum shuts down best together), SIGKILL stragglers
  local pid deadline any_alive
  kill -TERM "$@" 2>/dev/null || true
  deadline=$((SECONDS + STOP_TIMEOUT))
  while ((SECONDS < deadline)); do
    any_alive=0
    for pid in "$@"; do alive "$pid" && any_alive=1; done
    ((any_alive)) || return 0
    sleep 0.2
  done
  for pid in "$@"; do
    if alive "$pid"; then
      say "pid $pid ignored SIGTERM for ${STOP_TIMEOUT} s: SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
}

lock() {
  mkdir -p "$HOME_DIR"
  exec 9>"$HOME_DIR/.lock"
  flock 9
}

# ---------------------------------------------------------------------------------------------- commands

parse_nodes() { # args... -> sets NODES (empty: not given)
  NODES=""
  while (($#)); do
    case "$1" in
      --nodes) [[ $# -ge 2 ]] || usage; NODES="$2"; shift 2 ;;
      --nodes=*) NODES="${1#--nodes=}"; shift ;;
      *) usage ;;
    esac
  done
  [[ -z "$NODES" ]] || check_nodes "$NODES"
}

cmd_up() {
  parse_nodes "$@"
  local nodes="${NODES:-1}" id timeout started
  command -v "$JAVA" >/dev/null || die "java not found (Java 17+ is needed; set JAVA_HOME)"
  lock
  # Already up: answer before any fetch (the running brokers hold the jars that are there).
  if [[ "$(live_nodes "$nodes")" == "$nodes" ]] && answers "$nodes"; then
    say "already up: $(bootstrap_servers "$nodes") ($nodes node(s), $(kafka_version))"
    return 0
  fi
  jars_fetched || cmd_fetch
  if [[ "$nodes" == 1 ]]; then timeout="${KAFKA_UP_TIMEOUT:-60}"; else timeout="${KAFKA_UP_TIMEOUT:-120}"; fi
  started=$SECONDS
  for ((id = 1; id <= nodes; id++)); do start_node "$nodes" "$id"; done
  wait_until_answering "$nodes" "$timeout"
  say "up in $((SECONDS - started)) s: $(kafka_version), $nodes node(s), KRaft"
  for ((id = 1; id <= nodes; id++)); do
    say "  node $id: broker 127.0.0.1:$(broker_port "$nodes" "$id")," \
      "controller 127.0.0.1:$(controller_port "$nodes" "$id"), pid $(node_pid "$nodes" "$id")," \
      "data $(node_dir "$nodes" "$id")"
  done
  say "bootstrap servers: $(bootstrap_servers "$nodes")"
}

stop_mode() { # nodes
  local nodes="$1" id pid pids=()
  for ((id = 1; id <= nodes; id++)); do
    if pid="$(node_pid "$nodes" "$id")"; then pids+=("$pid"); fi
  done
  if ((${#pids[@]} == 0)); then
    for ((id = 1; id <= nodes; id++)); do rm -f "$(node_dir "$nodes" "$id")/kafka.pid"; done
    return 1
  fi
  stop_pids "${pids[@]}"
  for ((id = 1; id <= nodes; id++)); do rm -f "$(node_dir "$nodes" "$id")/kafka.pid"; done
  say "stopped $nodes-node mode (pids ${pids[*]})"
}

cmd_down() {
  parse_nodes "$@"
  local stopped=0 nodes
  lock
  for nodes in ${NODES:-1 3}; do
    if stop_mode "$nodes"; then stopped=1; fi
  done
  ((stopped)) || say "already down"
}

# Prints one line per mode that has anything on disk (or was asked for); true when that mode is fully up.
mode_status() { # nodes
  local nodes="$1" live
  live="$(live_nodes "$nodes")"
  if [[ "$live" == "$nodes" ]] && answers "$nodes"; then
    say "up: $nodes node(s) at $(bootstrap_servers "$nodes")"
    return 0
  elif ((live > 0)); then
    say "degraded: $live of $nodes node(s) running, not all answering at $(bootstrap_servers "$nodes")"
  else
    say "down ($nodes-node mode)"
  fi
  return 1
}

cmd_status() {
  parse_nodes "$@"
  local any_up=0 nodes
  if [[ -n "$NODES" ]]; then
    mode_status "$NODES" && any_up=1
  else
    for nodes in 1 3; do
      # Report a mode not asked for only when it has left something behind.
      if [[ "$nodes" == 1 || -d "$(mode_dir "$nodes")" ]]; then
        if mode_status "$nodes"; then any_up=1; fi
      fi
    done
  fi
  ((any_up)) && return 0
  return 3
}

cmd_reset() {
  [[ $# -eq 0 ]] || usage
  cmd_down
  [[ -n "$HOME_DIR" && "$HOME_DIR" != "/" ]] || die "refusing to remove '$HOME_DIR'"
  rm -rf "$HOME_DIR"
  say "removed $HOME_DIR"
}

cmd_bootstrap() {
  parse_nodes "$@"
  bootstrap_servers "${NODES:-1}"
}

node_arg() {
  [[ "${1:-}" =~ ^[123]$ ]] || die "node id must be 1, 2 or 3"
  [[ -d "$(node_dir 3 "$1")" ]] || die "three-node mode was never started (kafka.sh up --nodes 3)"
}

cmd_stop_node() {
  node_arg "${1:-}"
  local id="$1" pid
  lock
  pid="$(node_pid 3 "$id")" || { say "node $id already down"; return 0; }
  if [[ "${2:-}" == --kill ]]; then
    kill -KILL "$pid"
    while alive "$pid"; do sleep 0.1; done
  else
    stop_pids "$pid"
  fi
  rm -f "$(node_dir 3 "$id")/kafka.pid"
  say "node $id stopped (pid $pid)"
}

cmd_start_node() {
  node_arg "${1:-}"
  local id="$1" deadline
  lock
  start_node 3 "$id"
  deadline=$((SECONDS + ${KAFKA_UP_TIMEOUT:-60}))
  until port_open "$(broker_port 3 "$id")" && answers 3; do
    node_pid 3 "$id" >/dev/null || { show_logs 3 "$id"; die "node $id exited while starting"; }
    ((SECONDS < deadline)) || die "node $id did not rejoin within ${KAFKA_UP_TIMEOUT:-60} s"
    sleep 0.5
  done
  say "node $id up at 127.0.0.1:$(broker_port 3 "$id")"
}

main() {
  local command="${1:-}"
  (($#)) && shift
  case "$command" in
    fetch) [[ $# -eq 0 ]] || usage; cmd_fetch ;;
    up) cmd_up "$@" ;;
    down) cmd_down "$@" ;;
    status) cmd_status "$@" ;;
    reset) cmd_reset "$@" ;;
    bootstrap) cmd_bootstrap "$@" ;;
    stop-node) cmd_stop_node "$@" ;;
    start-node) cmd_start_node "$@" ;;
    tool) [[ $# -ge 1 ]] || usage; run_tool "$@" ;;
    *) usage ;;
  esac
}

main "$@"
