#!/usr/bin/env bash
# Local, Docker-free stack for memberflow: Kafka (KRaft, one node), Apicurio Registry
# (Confluent-compatible API) and Redis.  See stack/README.md.
#
#   stack/stack.sh up [--redis-cluster] [--brokers 3] [--secure]
#                                  start (or reuse) everything, wait until healthy, print env;
#                                  --redis-cluster: also a local Redis Cluster (three masters,
#                                  three replicas) on ports 7000-7005, named in REDIS_CLUSTER_NODES;
#                                  --brokers 3: a three-broker KRaft cluster on ports 9192-9194
#                                  (controllers 9292-9294) instead of the one broker on 9092;
#                                  --secure: also a secured broker on 9392 (SASL_SSL, SCRAM users
#                                  admin/app/workers/notifier, client certificates, ACLs enforced),
#                                  its certificates and passwords under ~/.cache/memberflow-stack/secure
#   stack/stack.sh down            stop only what this script started
#   stack/stack.sh status          up/down per service, and whether this script started it
#   stack/stack.sh env [--redis-cluster] [--brokers 3] [--secure]
#                                  print KAFKA_BROKERS / SCHEMA_REGISTRY_URL / REDIS_URL
#                                  (and REDIS_CLUSTER_NODES)
#   stack/stack.sh restart-kafka [term|kill] [--brokers 3]
#                                  stop the Kafka this script started (SIGTERM, default, or
#                                  SIGKILL; with --brokers 3 all three brokers at once) and start
#                                  it again on the same data dirs
#   stack/stack.sh stop-broker <1|2|3> [term|kill]   stop one broker of the three-broker cluster
#   stack/stack.sh start-broker <1|2|3>              start it again on its data dir
#   stack/stack.sh stop-redis-node <port> [term|kill]
#                                  stop one node of the Redis Cluster (its replica takes over)
#   stack/stack.sh start-redis-node <port>
#                                  start it again: it rejoins the cluster, as a replica
#   stack/stack.sh registry-jar      print the path of the registry's runnable jar (fetched on first
#                                  use), for a test that starts a registry of its own (TLS, basic auth)
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
POM="$SCRIPT_DIR/pom.xml"
LOG4J_CONF="$SCRIPT_DIR/log4j2.properties"

STACK_HOME="${MEMBERFLOW_STACK_HOME:-$HOME/.cache/memberflow-stack}"
RUN_DIR="$STACK_HOME/run"
DATA_DIR="$STACK_HOME/data"
DIST_DIR="$STACK_HOME/dist"

HOST=127.0.0.1
KAFKA_PORT="${MEMBERFLOW_KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${MEMBERFLOW_KAFKA_CONTROLLER_PORT:-9093}"
REGISTRY_PORT="${MEMBERFLOW_REGISTRY_PORT:-8081}"
REDIS_PORT="${MEMBERFLOW_REDIS_PORT:-6379}"
REGISTRY_MGMT_PORT="${MEMBERFLOW_REGISTRY_MGMT_PORT:-9001}"

KAFKA_START_TIMEOUT="${MEMBERFLOW_KAFKA_START_TIMEOUT:-90}"
KAFKA_STOP_TIMEOUT="${MEMBERFLOW_KAFKA_STOP_TIMEOUT:-60}"
REGISTRY_START_TIMEOUT="${MEMBERFLOW_REGISTRY_START_TIMEOUT:-120}"
REDIS_START_TIMEOUT=15
# The Redis Cluster: REDIS_CLUSTER_SIZE nodes from REDIS_CLUSTER_BASE_PORT on, one replica per master.
REDIS_CLUSTER_BASE_PORT="${MEMBERFLOW_REDIS_CLUSTER_PORT:-7000}"
REDIS_CLUSTER_SIZE=6
# How long a master may be silent before its replica takes over (Redis's default is 15 s).
REDIS_CLUSTER_NODE_TIMEOUT_MS=5000
# The three-broker Kafka: broker n (1..3) on KAFKA_CLUSTER_BASE_PORT+n-1, its controller 100 ports up.
KAFKA_CLUSTER_BASE_PORT="${MEMBERFLOW_KAFKA_CLUSTER_PORT:-9192}"
KAFKA_CLUSTER_SIZE=3
KAFKA_CLUSTER_HEAP_OPTS="-Xmx512m -Xms128m"

KAFKA_HEAP_OPTS="-Xmx768m -Xms256m"
REGISTRY_HEAP_OPTS="-Xmx512m"

REGISTRY_PATH="/apis/ccompat/v7"

# ---------------------------------------------------------------------------------------------
log() { printf '[stack] %s\n' "$*" >&2; }
die() { printf '[stack] ERROR: %s\n' "$*" >&2; exit 1; }

pom_prop() { # read <name>x</name> from pom.xml properties
  sed -n "s:.*<$1>\([^<]*\)</$1>.*:\1:p" "$POM" | head -n1
}
KAFKA_VERSION="$(pom_prop kafka.version)"
APICURIO_VERSION="$(pom_prop apicurio.version)"
[[ -n "$KAFKA_VERSION" && -n "$APICURIO_VERSION" ]] || die "cannot read versions from $POM"

# Fetched artifacts are keyed by the pom's content: editing a version fetches again.
pom_key() { sha256sum "$POM" | cut -c1-12; }
DIST="$DIST_DIR/$(pom_key)"
KAFKA_LIBS="$DIST/kafka-libs"
APICURIO_DIR="$DIST/apicurio-registry-$APICURIO_VERSION"
DIST_MARKER="$DIST/.complete"

print_env() {
  if ((BROKERS == 3)); then echo "KAFKA_BROKERS=$(kafka_cluster_brokers)"; else echo "KAFKA_BROKERS=$HOST:$KAFKA_PORT"; fi
  echo "SCHEMA_REGISTRY_URL=http://$HOST:$REGISTRY_PORT$REGISTRY_PATH"
  echo "REDIS_URL=redis://$HOST:$REDIS_PORT"
  if ((REDIS_CLUSTER)); then echo "REDIS_CLUSTER_NODES=$(redis_cluster_nodes)"; fi
  if ((SECURE)); then print_secure_env; fi
}

kafka_cluster_ids() { seq 1 "$KAFKA_CLUSTER_SIZE"; }
kafka_broker_port() { echo $((KAFKA_CLUSTER_BASE_PORT + $1 - 1)); }
kafka_controller_port() { echo $((KAFKA_CLUSTER_BASE_PORT + 100 + $1 - 1)); }
kafka_cluster_brokers() { local n; for n in $(kafka_cluster_ids); do echo "$HOST:$(kafka_broker_port "$n")"; done | paste -sd, -; }
redis_cluster_ports() { seq "$REDIS_CLUSTER_BASE_PORT" $((REDIS_CLUSTER_BASE_PORT + REDIS_CLUSTER_SIZE - 1)); }
redis_cluster_nodes() { redis_cluster_ports | sed "s/^/$HOST:/" | paste -sd, -; }

# --- probes ----------------------------------------------------------------------------------
port_open() { # host port
  (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

# Kafka ApiVersions v0 request over /dev/tcp: proves a Kafka broker answers (not just a port).
kafka_answers() {
  local port="$1" out
  out="$(timeout 5 bash -c '
    exec 3<>"/dev/tcp/$0/$1" || exit 1
    # size=13 | api_key=18 ApiVersions | api_version=0 | correlation_id=7 | client_id "stk"
    printf "\x00\x00\x00\x0d\x00\x12\x00\x00\x00\x00\x00\x07\x00\x03stk" >&3
    head -c 10 <&3 | od -An -tx1 | tr -d " \n"
  ' "$HOST" "$port" 2>/dev/null)" || return 1
  # bytes 4..9: correlation id 7, error_code 0
  [[ "${out:8:12}" == "000000070000" ]]
}

http_status() { # url -> prints status code (000 if no answer)
  if command -v curl >/dev/null 2>&1; then
    curl -s -o /dev/null -m 5 -w '%{http_code}' "$1" 2>/dev/null || true
  else
    local hp="${1#http://}"; hp="${hp%%/*}"; local path="/${1#http://*/}"
    timeout 5 bash -c '
      exec 3<>"/dev/tcp/${0%:*}/${0#*:}" || { echo 000; exit; }
      printf "GET %s HTTP/1.0\r\nHost: %s\r\n\r\n" "$1" "$0" >&3
      head -n1 <&3 | cut -d" " -f2' "$hp" "$path" 2>/dev/null || echo 000
  fi
}

registry_answers() {
  [[ "$(http_status "http://$HOST:$REGISTRY_PORT$REGISTRY_PATH/subjects")" == "200" ]]
}

redis_answers() {
  if command -v redis-cli >/dev/null 2>&1; then
    [[ "$(timeout 5 redis-cli -h "$HOST" -p "$REDIS_PORT" ping 2>/dev/null)" == "PONG" ]]
  else
    local out
    out="$(timeout 5 bash -c 'exec 3<>"/dev/tcp/$0/$1" || exit 1
      printf "PING\r\n" >&3; head -c 5 <&3' "$HOST" "$REDIS_PORT" 2>/dev/null)" || return 1
    [[ "$out" == "+PONG" ]]
  fi
}

# --- pid files -------------------------------------------------------------------------------
pid_file() { echo "$RUN_DIR/$1.pid"; }
log_file() { echo "$RUN_DIR/$1.log"; }

# Signature each service's command line must contain (guards against pid reuse).
signature() {
  case "$1" in
    kafka | kafka-b* | kafka-secure) echo "kafka.Kafka" ;;
    registry) echo "apicurio-registry" ;;
    redis | redis-c*) echo "redis-server" ;;
  esac
}

# Port(s) a service of ours was started with; `up` with other ports must not "reuse" it.
record_ports() { echo "$2" >"$RUN_DIR/$1.ports"; }
check_ports() { # name expected
  local f="$RUN_DIR/$1.ports"
  [[ ! -f "$f" || "$(cat "$f")" == "$2" ]] ||
    die "$1 started by this script is running with port(s) '$(cat "$f")', not '$2'; run 'stack.sh down' first"
}

# Prints the pid if this script started the service and it is still alive.
our_pid() {
  local f pid; f="$(pid_file "$1")"
  [[ -f "$f" ]] || return 1
  pid="$(tr -dc '0-9' <"$f")"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "$(signature "$1")" || return 1
  echo "$pid"
}

tail_log() {
  local f; f="$(log_file "$1")"
  if [[ -f "$f" ]]; then
    printf '[stack] ---- last 40 lines of %s ----\n' "$f" >&2
    tail -n 40 "$f" >&2
    printf '[stack] ----\n' >&2
  fi
}

# Start a command detached (own session, nohup), pid written by the process itself.
spawn() { # name cmd...
  local name="$1"; shift
  local pf lf; pf="$(pid_file "$name")"; lf="$(log_file "$name")"
  [[ -f "$lf" ]] && mv -f "$lf" "$lf.1"
  rm -f "$pf"
  nohup setsid bash -c 'echo $$ >"$0"; exec "$@"' "$pf" "$@" >"$lf" 2>&1 </dev/null 9>&- &
  local i
  for i in $(seq 1 50); do [[ -s "$pf" ]] && return 0; sleep 0.1; done
  die "$name: process did not start (no pid file $pf)"
}

stop_pid() { # name pid timeout_s signal
  local name="$1" pid="$2" timeout="$3" sig="${4:-TERM}" i
  log "stopping $name (pid $pid, SIG$sig)"
  kill "-$sig" "$pid" 2>/dev/null || true
  for ((i = 0; i < timeout * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$(pid_file "$name")" "$RUN_DIR/$name.ports"; return 0; }
    sleep 0.1
  done
  log "$name did not exit within ${timeout}s after SIG$sig; sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  rm -f "$(pid_file "$name")" "$RUN_DIR/$name.ports"
}

# --- prerequisites & artifacts ---------------------------------------------------------------
check_tools() {
  local missing=()
  command -v java >/dev/null 2>&1 || missing+=("java (a JDK/JRE 17+; Debian: apt-get install openjdk-17-jre-headless)")
  if [[ ! -f "$DIST_MARKER" ]]; then
    command -v mvn >/dev/null 2>&1 || missing+=("mvn (needed once to fetch jars from Maven Central; Debian: apt-get install maven)")
  fi
  command -v tar >/dev/null 2>&1 || missing+=("tar")
  command -v setsid >/dev/null 2>&1 || missing+=("setsid (Debian: apt-get install util-linux)")
  if ((${#missing[@]})); then
    printf '[stack] ERROR: missing required tool(s):\n' >&2
    printf '[stack]   - %s\n' "${missing[@]}" >&2
    exit 1
  fi
  local jv
  jv="$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n1)"
  [[ -n "$jv" && "$jv" -ge 17 ]] || die "java 17+ required (found: $(java -version 2>&1 | head -n1)); Debian: apt-get install openjdk-17-jre-headless"
}

fetch_artifacts() {
  if [[ -f "$DIST_MARKER" ]]; then
    log "artifacts cached in $DIST (kafka $KAFKA_VERSION, apicurio $APICURIO_VERSION); no download"
    return 0
  fi
  local tmp="$DIST.tmp.$$"
  rm -rf "$tmp"; mkdir -p "$tmp"
  local mvn_args=(-B -q -f "$POM" "-Dstack.out=$tmp" validate)
  [[ -n "${MEMBERFLOW_STACK_M2_REPO:-}" ]] && mvn_args=("-Dmaven.repo.local=$MEMBERFLOW_STACK_M2_REPO" "${mvn_args[@]}")
  log "fetching kafka $KAFKA_VERSION + apicurio-registry $APICURIO_VERSION with maven (first run only)"
  # Try the local Maven repository first (no network), then Maven Central.
  if ! mvn -o "${mvn_args[@]}" >"$tmp.mvn.log" 2>&1; then
    if ! mvn "${mvn_args[@]}" >"$tmp.mvn.log" 2>&1; then
      tail -n 30 "$tmp.mvn.log" >&2
      rm -rf "$tmp"
      die "maven could not fetch the artifacts (needs Maven Central once); full log: $tmp.mvn.log"
    fi
  fi
  mkdir -p "$tmp/apicurio-registry-$APICURIO_VERSION"
  tar -xzf "$tmp/apicurio-registry-app-$APICURIO_VERSION-all.tar.gz" -C "$tmp/apicurio-registry-$APICURIO_VERSION"
  rm -f "$tmp/apicurio-registry-app-$APICURIO_VERSION-all.tar.gz" "$tmp.mvn.log"
  APICURIO_DIR="$tmp/apicurio-registry-$APICURIO_VERSION"
  [[ -n "$(registry_jar)" ]] || die "no runnable jar (quarkus-run.jar / *-runner.jar) in the apicurio archive"
  APICURIO_DIR="$DIST/apicurio-registry-$APICURIO_VERSION"
  ls "$tmp/kafka-libs/kafka_2.13-$KAFKA_VERSION.jar" >/dev/null || die "kafka jars missing after fetch"
  printf 'kafka=%s\napicurio=%s\nfetched=%s\n' "$KAFKA_VERSION" "$APICURIO_VERSION" "$(date -Is)" >"$tmp/.complete"
  rm -rf "$DIST"; mv "$tmp" "$DIST"
  log "artifacts stored in $DIST"
}

# 3.0.x: <root>/apicurio-registry-app-<v>-runner.jar + lib/ ; 3.1+: quarkus-run.jar (fast-jar)
registry_jar() {
  find "$APICURIO_DIR" -maxdepth 2 \( -name quarkus-run.jar -o -name 'apicurio-registry-app-*-runner.jar' \) 2>/dev/null | head -n1
}

# --- kafka -----------------------------------------------------------------------------------
KAFKA_CONF="$RUN_DIR/server.properties"
KAFKA_DATA="$DATA_DIR/kafka"

kafka_major() { echo "${KAFKA_VERSION%%.*}"; }

# What a broker alone needs: one copy of everything, including the internal topics.
single_node_settings() {
    echo "num.partitions=1"
    echo "default.replication.factor=1"
    echo "min.insync.replicas=1"
    echo "offsets.topic.replication.factor=1"
    echo "transaction.state.log.replication.factor=1"
    echo "transaction.state.log.min.isr=1"
    echo "share.coordinator.state.topic.replication.factor=1"
    echo "share.coordinator.state.topic.min.isr=1"
    echo "group.initial.rebalance.delay.ms=0"
}

write_kafka_config() {
  {
    echo "# generated by stack/stack.sh - do not edit"
    echo "process.roles=broker,controller"
    echo "node.id=1"
    if (($(kafka_major) >= 4)); then
      echo "controller.quorum.bootstrap.servers=$HOST:$KAFKA_CONTROLLER_PORT"
    else
      echo "controller.quorum.voters=1@$HOST:$KAFKA_CONTROLLER_PORT"
    fi
    echo "listeners=PLAINTEXT://$HOST:$KAFKA_PORT,CONTROLLER://$HOST:$KAFKA_CONTROLLER_PORT"
    echo "advertised.listeners=PLAINTEXT://$HOST:$KAFKA_PORT,CONTROLLER://$HOST:$KAFKA_CONTROLLER_PORT"
    echo "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT"
    echo "controller.listener.names=CONTROLLER"
    echo "inter.broker.listener.name=PLAINTEXT"
    echo "log.dirs=$KAFKA_DATA"
    single_node_settings
    # after a SIGKILL the restarted broker waits for its old registration to expire
    # (default 9s session); shorter here so restart-kafka kill comes back faster
    echo "broker.heartbeat.interval.ms=500"
    echo "broker.session.timeout.ms=3000"
    echo "auto.create.topics.enable=false"
    echo "delete.topic.enable=true"
    echo "log.retention.hours=168"
  } >"$KAFKA_CONF.tmp"
  mv -f "$KAFKA_CONF.tmp" "$KAFKA_CONF"
}

KAFKA_JVM_OPTS=($KAFKA_HEAP_OPTS -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35
  -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true "-Dlog4j2.configurationFile=$LOG4J_CONF")

format_kafka_storage() {
  local stamp="$KAFKA_DATA/.memberflow-format"
  local want="kafka=$(kafka_major) controller=$HOST:$KAFKA_CONTROLLER_PORT"
  if [[ -f "$KAFKA_DATA/meta.properties" ]]; then
    if [[ -f "$stamp" && "$(cat "$stamp")" != "$want" ]]; then
      log "kafka data dir was formatted for '$(cat "$stamp")', now '$want': wiping $KAFKA_DATA"
      rm -rf "$KAFKA_DATA"
    else
      return 0
    fi
  fi
  mkdir -p "$KAFKA_DATA"
  local id
  id="$(java -cp "$KAFKA_LIBS/*" "-Dlog4j2.configurationFile=$LOG4J_CONF" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n1)"
  [[ -n "$id" ]] || die "kafka StorageTool random-uuid failed"
  local fmt=(format -t "$id" -c "$KAFKA_CONF")
  (($(kafka_major) >= 4)) && fmt+=(--standalone)
  log "formatting kafka storage (cluster id $id)"
  if ! java -Xmx256m -cp "$KAFKA_LIBS/*" "-Dlog4j2.configurationFile=$LOG4J_CONF" kafka.tools.StorageTool "${fmt[@]}" >"$RUN_DIR/kafka-format.log" 2>&1; then
    cat "$RUN_DIR/kafka-format.log" >&2
    die "kafka storage format failed"
  fi
  echo "$want" >"$stamp"
}

start_kafka() {
  write_kafka_config
  format_kafka_storage
  log "starting kafka $KAFKA_VERSION on $HOST:$KAFKA_PORT (controller $KAFKA_CONTROLLER_PORT)"
  spawn kafka java "${KAFKA_JVM_OPTS[@]}" -cp "$KAFKA_LIBS/*" kafka.Kafka "$KAFKA_CONF"
  record_ports kafka "$KAFKA_PORT $KAFKA_CONTROLLER_PORT"
}

wait_kafka() {
  local start=$SECONDS pid
  while ((SECONDS - start < KAFKA_START_TIMEOUT)); do
    if pid="$(our_pid kafka)"; then
      if grep -q "Kafka Server started" "$(log_file kafka)" 2>/dev/null && kafka_answers "$KAFKA_PORT"; then
        log "kafka ready on $HOST:$KAFKA_PORT after $((SECONDS - start))s"
        return 0
      fi
    else
      tail_log kafka
      die "kafka exited during startup (log: $(log_file kafka))"
    fi
    sleep 0.5
  done
  tail_log kafka
  die "kafka not ready after ${KAFKA_START_TIMEOUT}s (log: $(log_file kafka))"
}

# Sets WAIT_KAFKA=1 when a broker of ours is (still) starting; cmd_up waits after also
# starting the registry, so both JVMs boot in parallel.
WAIT_KAFKA=0
# FindCoordinator v1 (key, key_type 0=group 1=transaction) over /dev/tcp; prints the 2-byte
# error code in hex ("0000" = coordinator available).  The first such request makes the
# broker create __consumer_offsets / __transaction_state.
kafka_find_coordinator() {
  local key_type="$1"
  timeout 5 bash -c '
    exec 3<>"/dev/tcp/$0/$1" || exit 1
    # size=28 | api_key=10 | v1 | corr=9 | client_id "stk" | key "stack-warmup" | key_type
    printf "\x00\x00\x00\x1c\x00\x0a\x00\x01\x00\x00\x00\x09\x00\x03stk\x00\x0cstack-warmup\x$2" >&3
    head -c 14 <&3 | od -An -tx1 | tr -d " \n" | cut -c25-28
  ' "$HOST" "${2:-$KAFKA_PORT}" "0$key_type" 2>/dev/null
}

# InitProducerId v1 with a null transactional id (what an idempotent producer sends first);
# prints the error code in hex.  The broker answers COORDINATOR_LOAD_IN_PROGRESS (000e) until
# it has fetched a producer-id block from the controller.
kafka_init_producer_id() {
  timeout 5 bash -c '
    exec 3<>"/dev/tcp/$0/$1" || exit 1
    # size=19 | api_key=22 | v1 | corr=11 | client_id "stk" | transactional_id null | timeout 60000
    printf "\x00\x00\x00\x13\x00\x16\x00\x01\x00\x00\x00\x0b\x00\x03stk\xff\xff\x00\x00\xea\x60" >&3
    head -c 14 <&3 | od -An -tx1 | tr -d " \n" | cut -c25-28
  ' "$HOST" "${1:-$KAFKA_PORT}" 2>/dev/null
}

# Without this, the first consumer group / idempotent producer on a fresh data dir gets
# COORDINATOR_LOAD_IN_PROGRESS / COORDINATOR_NOT_AVAILABLE for a second or two (kafkajs
# retries, but logs errors and restarts the consumer).
warm_kafka_coordinators() { # [port]
  local start=$SECONDS g=x t=x p=x port="${1:-$KAFKA_PORT}"
  while ((SECONDS - start < 60)); do
    [[ "$g" == "0000" ]] || g="$(kafka_find_coordinator 0 "$port" || true)"
    [[ "$t" == "0000" ]] || t="$(kafka_find_coordinator 1 "$port" || true)"
    [[ "$p" == "0000" ]] || p="$(kafka_init_producer_id "$port" || true)"
    [[ "$g" == "0000" && "$t" == "0000" && "$p" == "0000" ]] && return 0
    sleep 0.3
  done
  log "WARNING: kafka coordinators not ready after 60s (FindCoordinator group=$g txn=$t, InitProducerId=$p)"
}

up_kafka() {
  if our_pid kafka >/dev/null; then
    check_ports kafka "$KAFKA_PORT $KAFKA_CONTROLLER_PORT"
    if kafka_answers "$KAFKA_PORT" && grep -q "Kafka Server started" "$(log_file kafka)" 2>/dev/null; then
      log "kafka already running (started by this script)"
    else
      WAIT_KAFKA=1
    fi
    return 0
  fi
  if port_open "$HOST" "$KAFKA_PORT"; then
    kafka_answers "$KAFKA_PORT" || die "port $HOST:$KAFKA_PORT is taken by something that is not a Kafka broker; free it or set MEMBERFLOW_KAFKA_PORT"
    log "reusing kafka already running on $HOST:$KAFKA_PORT (not started by this script)"
    return 0
  fi
  port_open "$HOST" "$KAFKA_CONTROLLER_PORT" && die "controller port $HOST:$KAFKA_CONTROLLER_PORT is in use; free it or set MEMBERFLOW_KAFKA_CONTROLLER_PORT"
  start_kafka
  WAIT_KAFKA=1
}

# --- kafka cluster (three brokers) ----------------------------------------------------------
# Three KRaft nodes, each broker and controller, with a static quorum of the three controllers.
# Replicated as production would be: three copies, writes acknowledged by two.
KAFKA_CLUSTER_DATA="$DATA_DIR/kafka-cluster"

kafka_node_conf() { echo "$RUN_DIR/kafka-b$1.properties"; }

write_kafka_node_config() { # n
  local n="$1" voters="" m
  for m in $(kafka_cluster_ids); do voters+="${voters:+,}$m@$HOST:$(kafka_controller_port "$m")"; done
  {
    echo "# generated by stack/stack.sh - do not edit"
    echo "process.roles=broker,controller"
    echo "node.id=$n"
    echo "controller.quorum.voters=$voters"
    echo "listeners=PLAINTEXT://$HOST:$(kafka_broker_port "$n"),CONTROLLER://$HOST:$(kafka_controller_port "$n")"
    echo "advertised.listeners=PLAINTEXT://$HOST:$(kafka_broker_port "$n")"
    echo "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT"
    echo "controller.listener.names=CONTROLLER"
    echo "inter.broker.listener.name=PLAINTEXT"
    echo "log.dirs=$KAFKA_CLUSTER_DATA/$n"
    echo "num.partitions=1"
    echo "default.replication.factor=3"
    echo "min.insync.replicas=2"
    echo "offsets.topic.replication.factor=3"
    echo "transaction.state.log.replication.factor=3"
    echo "transaction.state.log.min.isr=2"
    echo "share.coordinator.state.topic.replication.factor=3"
    echo "share.coordinator.state.topic.min.isr=2"
    echo "group.initial.rebalance.delay.ms=0"
    echo "broker.heartbeat.interval.ms=500"
    echo "broker.session.timeout.ms=3000"
    # A broker that comes back takes its partitions' leadership back soon, as after a rolling restart.
    echo "leader.imbalance.check.interval.seconds=10"
    echo "auto.create.topics.enable=false"
    echo "delete.topic.enable=true"
    echo "log.retention.hours=168"
  } >"$(kafka_node_conf "$n").tmp"
  mv -f "$(kafka_node_conf "$n").tmp" "$(kafka_node_conf "$n")"
}

format_kafka_cluster() {
  local n id idf="$KAFKA_CLUSTER_DATA/cluster-id"
  if [[ -f "$idf" ]]; then
    local all=1
    for n in $(kafka_cluster_ids); do [[ -f "$KAFKA_CLUSTER_DATA/$n/meta.properties" ]] || all=0; done
    ((all)) && return 0
  fi
  rm -rf "$KAFKA_CLUSTER_DATA"; mkdir -p "$KAFKA_CLUSTER_DATA"
  id="$(java -cp "$KAFKA_LIBS/*" "-Dlog4j2.configurationFile=$LOG4J_CONF" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n1)"
  [[ -n "$id" ]] || die "kafka StorageTool random-uuid failed"
  log "formatting the three-broker kafka cluster's storage (cluster id $id)"
  for n in $(kafka_cluster_ids); do
    mkdir -p "$KAFKA_CLUSTER_DATA/$n"
    if ! java -Xmx256m -cp "$KAFKA_LIBS/*" "-Dlog4j2.configurationFile=$LOG4J_CONF" kafka.tools.StorageTool format -t "$id" -c "$(kafka_node_conf "$n")" >"$RUN_DIR/kafka-b$n-format.log" 2>&1; then
      cat "$RUN_DIR/kafka-b$n-format.log" >&2
      die "kafka storage format of broker $n failed"
    fi
  done
  echo "$id" >"$idf"
}

start_kafka_node() { # n
  local n="$1"
  port_open "$HOST" "$(kafka_broker_port "$n")" && die "port $HOST:$(kafka_broker_port "$n") is taken; free it or set MEMBERFLOW_KAFKA_CLUSTER_PORT"
  log "starting kafka broker $n on $HOST:$(kafka_broker_port "$n") (controller $(kafka_controller_port "$n"))"
  spawn "kafka-b$n" java $KAFKA_CLUSTER_HEAP_OPTS "${KAFKA_JVM_OPTS[@]:2}" -cp "$KAFKA_LIBS/*" kafka.Kafka "$(kafka_node_conf "$n")"
  record_ports "kafka-b$n" "$(kafka_broker_port "$n") $(kafka_controller_port "$n")"
}

wait_kafka_node() { # n
  local n="$1" start=$SECONDS
  while ((SECONDS - start < KAFKA_START_TIMEOUT)); do
    our_pid "kafka-b$n" >/dev/null || { tail_log "kafka-b$n"; die "kafka broker $n exited during startup (log: $(log_file "kafka-b$n"))"; }
    if grep -q "Kafka Server started" "$(log_file "kafka-b$n")" 2>/dev/null && kafka_answers "$(kafka_broker_port "$n")"; then return 0; fi
    sleep 0.5
  done
  tail_log "kafka-b$n"
  die "kafka broker $n not ready after ${KAFKA_START_TIMEOUT}s (log: $(log_file "kafka-b$n"))"
}

up_kafka_cluster() {
  local n started=0
  for n in $(kafka_cluster_ids); do write_kafka_node_config "$n"; done
  format_kafka_cluster
  for n in $(kafka_cluster_ids); do
    if our_pid "kafka-b$n" >/dev/null; then check_ports "kafka-b$n" "$(kafka_broker_port "$n") $(kafka_controller_port "$n")"; continue; fi
    start_kafka_node "$n"; started=1
  done
  ((started)) || log "kafka cluster already running on $(kafka_cluster_brokers)"
  WAIT_KAFKA_CLUSTER=1
}

wait_kafka_cluster() {
  local n start=$SECONDS
  for n in $(kafka_cluster_ids); do wait_kafka_node "$n"; done
  warm_kafka_coordinators "$(kafka_broker_port 1)"
  log "kafka cluster ready on $(kafka_cluster_brokers) after $((SECONDS - start))s"
}

stop_kafka_node() { # n signal
  local pid
  if pid="$(our_pid "kafka-b$1")"; then stop_pid "kafka-b$1" "$pid" "$KAFKA_STOP_TIMEOUT" "$2"; fi
  local start=$SECONDS
  while port_open "$HOST" "$(kafka_broker_port "$1")" || port_open "$HOST" "$(kafka_controller_port "$1")"; do
    ((SECONDS - start < 30)) || die "ports of kafka broker $1 still in use 30s after stop"
    sleep 0.2
  done
}

# --- secured kafka (--secure) -----------------------------------------------------------------
# A separate single-node broker whose only client listener is SASL_SSL: SCRAM-SHA-512 users made at
# format time, TLS with certificates made here at first start (openssl; a CA, the broker's and one
# client certificate, which the broker requires), and KRaft's StandardAuthorizer with nothing allowed
# unless an ACL says so (`memberflow acls apply` writes memberflow's). The controller listener is
# local PLAINTEXT (its principal, ANONYMOUS, is a super user: combined mode talks to itself there).
SECURE_PORT="${MEMBERFLOW_SECURE_KAFKA_PORT:-9392}"
SECURE_CONTROLLER_PORT="${MEMBERFLOW_SECURE_KAFKA_CONTROLLER_PORT:-9393}"
SECURE_DIR="$STACK_HOME/secure"
SECURE_DATA="$DATA_DIR/kafka-secure"
SECURE_CONF="$SECURE_DIR/server.properties"
SECURE_USERS=(admin app workers notifier)

secure_password() { cat "$SECURE_DIR/$1.password"; }

# Certificates and passwords, made once (kept across restarts: the data dir's SCRAM users match them).
secure_material() {
  [[ -f "$SECURE_DIR/.complete" ]] && return 0
  command -v openssl >/dev/null 2>&1 || die "openssl is needed for --secure (Debian: apt-get install openssl)"
  rm -rf "$SECURE_DIR" "$SECURE_DATA"; mkdir -p "$SECURE_DIR"; chmod 700 "$SECURE_DIR"
  local d="$SECURE_DIR" who u
  # Each step checked (set -e does not apply inside a subshell on the left of ||).
  (
    cd "$d" &&
      openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=memberflow local CA" -keyout ca.key -out ca.crt &&
      printf 'subjectAltName=IP:%s,DNS:localhost\n' "$HOST" >server.ext &&
      openssl req -newkey rsa:2048 -nodes -subj "/CN=memberflow server" -keyout server.key -out server.csr &&
      openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 -out server.crt -extfile server.ext &&
      openssl req -newkey rsa:2048 -nodes -subj "/CN=memberflow client" -keyout client.key -out client.csr &&
      openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 -out client.crt &&
      openssl rand -hex 16 >keystore.password &&
      openssl pkcs12 -export -in server.crt -inkey server.key -certfile ca.crt -name broker -out server.p12 -passout "file:keystore.password" || exit 1
    for u in "${SECURE_USERS[@]}"; do openssl rand -hex 16 >"$u.password" || exit 1; done
  ) >"$RUN_DIR/kafka-secure-certs.log" 2>&1 || { cat "$RUN_DIR/kafka-secure-certs.log" >&2; die "making the secured broker's certificates failed"; }
  for f in ca.crt server.p12 client.crt client.key keystore.password "${SECURE_USERS[@]/%/.password}"; do
    [[ -s "$d/$f" ]] || die "making the secured broker's certificates left no $f"
  done
  chmod 600 "$d"/*.key "$d"/*.password
  touch "$d/.complete"
}

write_secure_kafka_config() {
  local ks; ks="$(secure_password keystore)"
  {
    echo "# generated by stack/stack.sh - do not edit"
    echo "process.roles=broker,controller"
    echo "node.id=1"
    echo "controller.quorum.bootstrap.servers=$HOST:$SECURE_CONTROLLER_PORT"
    echo "listeners=SASL_SSL://$HOST:$SECURE_PORT,CONTROLLER://$HOST:$SECURE_CONTROLLER_PORT"
    echo "advertised.listeners=SASL_SSL://$HOST:$SECURE_PORT,CONTROLLER://$HOST:$SECURE_CONTROLLER_PORT"
    echo "listener.security.protocol.map=CONTROLLER:PLAINTEXT,SASL_SSL:SASL_SSL"
    echo "controller.listener.names=CONTROLLER"
    echo "inter.broker.listener.name=SASL_SSL"
    echo "sasl.enabled.mechanisms=SCRAM-SHA-512"
    echo "sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512"
    echo "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=\"admin\" password=\"$(secure_password admin)\";"
    echo "ssl.keystore.type=PKCS12"
    echo "ssl.keystore.location=$SECURE_DIR/server.p12"
    echo "ssl.keystore.password=$ks"
    echo "ssl.key.password=$ks"
    echo "ssl.truststore.type=PEM"
    echo "ssl.truststore.location=$SECURE_DIR/ca.crt"
    # For a SASL_SSL listener the plain ssl.client.auth is ignored (KIP-684): set it per listener.
    echo "listener.name.sasl_ssl.ssl.client.auth=required"
    echo "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer"
    echo "super.users=User:admin;User:ANONYMOUS"
    echo "allow.everyone.if.no.acl.found=false"
    echo "log.dirs=$SECURE_DATA"
    single_node_settings
    echo "auto.create.topics.enable=false"
    echo "delete.topic.enable=true"
  } >"$SECURE_CONF.tmp"
  chmod 600 "$SECURE_CONF.tmp"
  mv -f "$SECURE_CONF.tmp" "$SECURE_CONF"
}

format_secure_kafka() {
  [[ -f "$SECURE_DATA/meta.properties" ]] && return 0
  mkdir -p "$SECURE_DATA"
  local id u fmt
  id="$(java -cp "$KAFKA_LIBS/*" "-Dlog4j2.configurationFile=$LOG4J_CONF" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n1)"
  fmt=(format -t "$id" -c "$SECURE_CONF" --standalone)
  for u in "${SECURE_USERS[@]}"; do fmt+=(--add-scram "SCRAM-SHA-512=[name=$u,password=\"$(secure_password "$u")\"]"); done
  log "formatting the secured kafka's storage (SCRAM users: ${SECURE_USERS[*]})"
  java -Xmx256m -cp "$KAFKA_LIBS/*" "-Dlog4j2.configurationFile=$LOG4J_CONF" kafka.tools.StorageTool "${fmt[@]}" >"$RUN_DIR/kafka-secure-format.log" 2>&1 ||
    { cat "$RUN_DIR/kafka-secure-format.log" >&2; die "secured kafka storage format failed"; }
}

up_secure_kafka() {
  if our_pid kafka-secure >/dev/null; then return 0; fi
  (($(kafka_major) >= 4)) || die "--secure needs Kafka 4 (KRaft bootstrap servers)"
  port_open "$HOST" "$SECURE_PORT" && die "port $SECURE_PORT is taken by something this script did not start"
  secure_material
  write_secure_kafka_config
  format_secure_kafka
  log "starting the secured kafka on $HOST:$SECURE_PORT (SASL_SSL, SCRAM-SHA-512, ACLs)"
  spawn kafka-secure java "${KAFKA_JVM_OPTS[@]}" -cp "$KAFKA_LIBS/*" kafka.Kafka "$SECURE_CONF"
  record_ports kafka-secure "$SECURE_PORT $SECURE_CONTROLLER_PORT"
}

wait_secure_kafka() {
  local start=$SECONDS
  while ((SECONDS - start < KAFKA_START_TIMEOUT)); do
    our_pid kafka-secure >/dev/null || { tail_log kafka-secure; die "the secured kafka exited during startup (log: $(log_file kafka-secure))"; }
    if grep -q "Kafka Server started" "$(log_file kafka-secure)" 2>/dev/null && port_open "$HOST" "$SECURE_PORT"; then
      log "secured kafka ready on $HOST:$SECURE_PORT after $((SECONDS - start))s"
      return 0
    fi
    sleep 0.5
  done
  tail_log kafka-secure
  die "the secured kafka not ready after ${KAFKA_START_TIMEOUT}s (log: $(log_file kafka-secure))"
}

# Where the secured broker is and how to reach it as each principal (passwords are the local stack's own).
print_secure_env() {
  echo "KAFKA_SECURE_BROKERS=$HOST:$SECURE_PORT"
  echo "KAFKA_SECURE_DIR=$SECURE_DIR"
}

# --- registry --------------------------------------------------------------------------------
start_registry() {
  local jar; jar="$(registry_jar)"
  [[ -n "$jar" ]] || die "apicurio runnable jar missing under $APICURIO_DIR (delete $DIST and re-run)"
  log "starting apicurio-registry $APICURIO_VERSION on $HOST:$REGISTRY_PORT"
  # In-memory H2 storage: every start is empty.  quarkus.management.enabled is fixed at build
  # time (3.0.x: off; 3.3.x: on, 0.0.0.0:9000), so pin the management interface to
  # 127.0.0.1:$REGISTRY_MGMT_PORT in case a build has it on.
  (cd "$RUN_DIR" && spawn registry java $REGISTRY_HEAP_OPTS -XX:+UseG1GC -Djava.awt.headless=true \
    -Dquarkus.http.host=$HOST "-Dquarkus.http.port=$REGISTRY_PORT" \
    -Dquarkus.management.host=$HOST "-Dquarkus.management.port=$REGISTRY_MGMT_PORT" \
    -Dapicurio.rules.global.compatibility=BACKWARD \
    "-Dapicurio.storage.snapshot.location=$RUN_DIR" \
    -Djava.util.logging.manager=org.jboss.logmanager.LogManager \
    -jar "$jar")
  record_ports registry "$REGISTRY_PORT"
}

wait_registry() {
  local start=$SECONDS
  while ((SECONDS - start < REGISTRY_START_TIMEOUT)); do
    if our_pid registry >/dev/null; then
      if registry_answers; then
        set_registry_global_compat
        log "registry ready on http://$HOST:$REGISTRY_PORT$REGISTRY_PATH after $((SECONDS - start))s"
        return 0
      fi
    else
      tail_log registry
      die "apicurio registry exited during startup (log: $(log_file registry))"
    fi
    sleep 0.5
  done
  tail_log registry
  die "apicurio registry not ready after ${REGISTRY_START_TIMEOUT}s (log: $(log_file registry))"
}

# Make GET /config (global) report BACKWARD too; -Dapicurio.rules.global.compatibility already
# enforces it, but Apicurio 3.0.x reports NONE there unless the global rule is stored.
set_registry_global_compat() {
  command -v curl >/dev/null 2>&1 || return 0
  curl -s -o /dev/null -m 5 -X PUT -H 'Content-Type: application/vnd.schemaregistry.v1+json' \
    -d '{"compatibility":"BACKWARD"}' "http://$HOST:$REGISTRY_PORT$REGISTRY_PATH/config" || true
}

WAIT_REGISTRY=0
up_registry() {
  if our_pid registry >/dev/null; then
    check_ports registry "$REGISTRY_PORT"
    if registry_answers; then log "registry already running (started by this script)"; else WAIT_REGISTRY=1; fi
    return 0
  fi
  if port_open "$HOST" "$REGISTRY_PORT"; then
    registry_answers || die "port $HOST:$REGISTRY_PORT is taken but GET $REGISTRY_PATH/subjects does not answer 200; free it or set MEMBERFLOW_REGISTRY_PORT"
    log "reusing schema registry already running on $HOST:$REGISTRY_PORT (not started by this script)"
    return 0
  fi
  start_registry
  WAIT_REGISTRY=1
}

# --- redis -----------------------------------------------------------------------------------
up_redis() {
  if our_pid redis >/dev/null; then check_ports redis "$REDIS_PORT"; fi
  if redis_answers; then
    if our_pid redis >/dev/null; then log "redis already running (started by this script)"
    else log "reusing redis already running on $HOST:$REDIS_PORT (not started by this script)"; fi
    return 0
  fi
  port_open "$HOST" "$REDIS_PORT" && die "port $HOST:$REDIS_PORT is taken by something that does not answer redis PING; free it or set MEMBERFLOW_REDIS_PORT"
  command -v redis-server >/dev/null 2>&1 || die "redis is not running on $HOST:$REDIS_PORT and redis-server is not installed (Debian: apt-get install redis-server)"
  mkdir -p "$DATA_DIR/redis"
  log "starting redis-server on $HOST:$REDIS_PORT (no persistence)"
  local lf; lf="$(log_file redis)"; [[ -f "$lf" ]] && mv -f "$lf" "$lf.1"
  redis-server --bind "$HOST" --port "$REDIS_PORT" --save '' --appendonly no --daemonize yes \
    --dir "$DATA_DIR/redis" --pidfile "$(pid_file redis)" --logfile "$lf" >/dev/null 9>&-
  record_ports redis "$REDIS_PORT"
  local start=$SECONDS
  while ((SECONDS - start < REDIS_START_TIMEOUT)); do
    redis_answers && { log "redis ready on $HOST:$REDIS_PORT"; return 0; }
    sleep 0.2
  done
  tail_log redis
  die "redis not ready after ${REDIS_START_TIMEOUT}s"
}

# --- redis cluster ---------------------------------------------------------------------------
node_answers() { [[ "$(timeout 5 redis-cli -h "$HOST" -p "$1" ping 2>/dev/null)" == "PONG" ]]; }
cluster_ok() { timeout 5 redis-cli -h "$HOST" -p "$1" cluster info 2>/dev/null | grep -q '^cluster_state:ok'; }

start_cluster_node() { # port [keep]
  local port="$1" name="redis-c$1" dir="$DATA_DIR/redis-cluster/$1"
  if our_pid "$name" >/dev/null && node_answers "$port"; then return 0; fi
  port_open "$HOST" "$port" && die "port $HOST:$port is taken by something this script did not start; free it or set MEMBERFLOW_REDIS_CLUSTER_PORT"
  # A node remembers its cluster in nodes.conf: start from nothing, the cluster is formed below;
  # a node restarted into its cluster ("keep") keeps it, and comes back empty (no persistence).
  if [[ "${2:-}" != keep ]]; then rm -rf "$dir"; fi
  mkdir -p "$dir"
  local lf; lf="$(log_file "$name")"; [[ -f "$lf" ]] && mv -f "$lf" "$lf.1"
  redis-server --bind "$HOST" --port "$port" --cluster-enabled yes --cluster-config-file nodes.conf \
    --cluster-node-timeout "$REDIS_CLUSTER_NODE_TIMEOUT_MS" --save '' --appendonly no --daemonize yes \
    --dir "$dir" --pidfile "$(pid_file "$name")" --logfile "$lf" >/dev/null 9>&-
  record_ports "$name" "$port"
}

up_redis_cluster() {
  command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1 ||
    die "a Redis Cluster needs redis-server and redis-cli (Debian: apt-get install redis-server)"
  local port first="$REDIS_CLUSTER_BASE_PORT" start
  if node_answers "$first" && cluster_ok "$first" && [[ "$(redis-cli -h "$HOST" -p "$first" cluster info | tr -d '\r' | sed -n 's/^cluster_known_nodes://p')" == "$REDIS_CLUSTER_SIZE" ]]; then
    log "redis cluster already running on $(redis_cluster_nodes)"
    return 0
  fi
  log "starting a redis cluster of $REDIS_CLUSTER_SIZE nodes on $(redis_cluster_nodes) (no persistence)"
  for port in $(redis_cluster_ports); do start_cluster_node "$port"; done
  start=$SECONDS
  for port in $(redis_cluster_ports); do
    until node_answers "$port"; do
      ((SECONDS - start < REDIS_START_TIMEOUT)) || { tail_log "redis-c$port"; die "redis cluster node $port not ready after ${REDIS_START_TIMEOUT}s"; }
      sleep 0.2
    done
  done
  # shellcheck disable=SC2046
  redis-cli --cluster create $(redis_cluster_ports | sed "s/^/$HOST:/") --cluster-replicas 1 --cluster-yes >"$RUN_DIR/redis-cluster-create.log" 2>&1 ||
    { cat "$RUN_DIR/redis-cluster-create.log" >&2; die "redis-cli --cluster create failed"; }
  start=$SECONDS
  for port in $(redis_cluster_ports); do
    until cluster_ok "$port"; do
      ((SECONDS - start < 60)) || die "redis cluster not ok on port $port after 60 s"
      sleep 0.2
    done
  done
  log "redis cluster ready on $(redis_cluster_nodes)"
}

down_redis_cluster() {
  local port pid any=0
  for port in $(redis_cluster_ports); do
    if pid="$(our_pid "redis-c$port")"; then stop_pid "redis-c$port" "$pid" 15 TERM; any=1; fi
  done
  ((any)) && rm -rf "$DATA_DIR/redis-cluster"
  return 0
}

cmd_stop_redis_node() { # port [term|kill]
  local port="${1:-}" sig pid
  [[ "$port" =~ ^[0-9]+$ ]] && redis_cluster_ports | grep -qx "$port" || die "usage: stack.sh stop-redis-node <one of $(redis_cluster_ports | paste -sd' ' -)> [term|kill]"
  sig="$(signal_of "${2:-term}")"
  with_lock
  pid="$(our_pid "redis-c$port")" || die "no redis cluster node started by this script runs on port $port"
  stop_pid "redis-c$port" "$pid" 15 "$sig"
}

cmd_start_redis_node() { # port
  local port="${1:-}" start
  [[ "$port" =~ ^[0-9]+$ ]] && redis_cluster_ports | grep -qx "$port" || die "usage: stack.sh start-redis-node <one of $(redis_cluster_ports | paste -sd' ' -)>"
  with_lock
  start_cluster_node "$port" keep
  start=$SECONDS
  until node_answers "$port" && cluster_ok "$port"; do
    ((SECONDS - start < 60)) || { tail_log "redis-c$port"; die "redis cluster node $port not back in its cluster after 60 s"; }
    sleep 0.2
  done
  log "redis cluster node $port is back in its cluster"
}

signal_of() {
  case "$1" in term | TERM | sigterm) echo TERM ;; kill | KILL | sigkill) echo KILL ;;
    *) die "signal '$1': use term or kill" ;; esac
}

cmd_stop_broker() { # n [term|kill]
  local n="${1:-}" sig
  [[ "$n" =~ ^[1-3]$ ]] || die "usage: stack.sh stop-broker <1|2|3> [term|kill]"
  sig="$(signal_of "${2:-term}")"
  check_tools; with_lock
  our_pid "kafka-b$n" >/dev/null || die "kafka broker $n was not started by this script (stack.sh up --brokers 3)"
  stop_kafka_node "$n" "$sig"
}

cmd_start_broker() { # n
  local n="${1:-}"
  [[ "$n" =~ ^[1-3]$ ]] || die "usage: stack.sh start-broker <1|2|3>"
  check_tools; with_lock
  [[ -f "$DIST_MARKER" && -f "$KAFKA_CLUSTER_DATA/cluster-id" ]] || die "no three-broker cluster was set up here; run 'stack.sh up --brokers 3' first"
  our_pid "kafka-b$n" >/dev/null && { log "kafka broker $n already running"; return 0; }
  start_kafka_node "$n"
  wait_kafka_node "$n"
  log "kafka broker $n ready on $HOST:$(kafka_broker_port "$n")"
}

# --- commands --------------------------------------------------------------------------------
with_lock() {
  mkdir -p "$RUN_DIR" "$DATA_DIR" "$DIST_DIR"
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$STACK_HOME/.lock"
    flock -w 300 9 || die "another stack.sh is holding $STACK_HOME/.lock"
  fi
}

cmd_up() {
  check_tools
  with_lock
  fetch_artifacts
  up_redis
  if ((REDIS_CLUSTER)); then up_redis_cluster; fi
  if ((BROKERS == 3)); then
    up_kafka_cluster
    up_registry
    wait_kafka_cluster
  else
    up_kafka
    if [[ "${MEMBERFLOW_STACK_PARALLEL:-1}" == 1 ]]; then
      up_registry
      if ((WAIT_KAFKA)); then wait_kafka; fi
    else
      if ((WAIT_KAFKA)); then wait_kafka; fi
      up_registry
    fi
    warm_kafka_coordinators
  fi
  if ((SECURE)); then up_secure_kafka; fi
  if ((WAIT_REGISTRY)); then wait_registry; fi
  if ((SECURE)); then wait_secure_kafka; fi
  print_env
}

cmd_down() {
  with_lock
  local pid any=0
  if pid="$(our_pid registry)"; then stop_pid registry "$pid" 30 TERM; any=1; fi
  if pid="$(our_pid kafka)"; then stop_pid kafka "$pid" "$KAFKA_STOP_TIMEOUT" TERM; any=1; fi
  if pid="$(our_pid kafka-secure)"; then stop_pid kafka-secure "$pid" "$KAFKA_STOP_TIMEOUT" TERM; any=1; fi
  # The cluster's brokers are told to stop all at once: one after another, the last one has lost its
  # controller quorum by its turn and waits out the whole timeout.
  local n names=() pids=() i
  for n in $(kafka_cluster_ids); do
    if pid="$(our_pid "kafka-b$n")"; then names+=("kafka-b$n"); pids+=("$pid"); kill -TERM "$pid" 2>/dev/null || true; fi
  done
  for i in "${!pids[@]}"; do stop_pid "${names[$i]}" "${pids[$i]}" "$KAFKA_STOP_TIMEOUT" TERM; any=1; done
  if pid="$(our_pid redis)"; then stop_pid redis "$pid" 15 TERM; any=1; fi
  down_redis_cluster
  rm -f "$RUN_DIR"/*.pid "$RUN_DIR"/*.ports
  ((any)) || log "nothing started by this script is running"
}

cmd_status() {
  local name state owner pid endpoint
  for name in kafka registry redis; do
    case "$name" in
      kafka) endpoint="$HOST:$KAFKA_PORT"; kafka_answers "$KAFKA_PORT" && state=up || state=down ;;
      registry) endpoint="http://$HOST:$REGISTRY_PORT$REGISTRY_PATH"; registry_answers && state=up || state=down ;;
      redis) endpoint="$HOST:$REDIS_PORT"; redis_answers && state=up || state=down ;;
    esac
    if pid="$(our_pid "$name")"; then owner="started by stack.sh (pid $pid)"
    elif [[ $state == up ]]; then owner="external (not started by stack.sh)"
    else owner="-"; fi
    printf '%-9s %-5s %-45s %s\n' "$name" "$state" "$endpoint" "$owner"
  done
  if cluster_ok "$REDIS_CLUSTER_BASE_PORT" 2>/dev/null; then state=up; else state=down; fi
  if our_pid "redis-c$REDIS_CLUSTER_BASE_PORT" >/dev/null; then owner="started by stack.sh (up --redis-cluster)"
  elif [[ $state == up ]]; then owner="external (not started by stack.sh)"
  else owner="-"; fi
  printf '%-9s %-5s %-45s %s\n' "redis-cl" "$state" "$(redis_cluster_nodes | cut -d, -f1)..." "$owner"
  local n
  for n in $(kafka_cluster_ids); do
    kafka_answers "$(kafka_broker_port "$n")" && state=up || state=down
    if pid="$(our_pid "kafka-b$n")"; then owner="started by stack.sh (up --brokers 3, pid $pid)"
    elif [[ $state == up ]]; then owner="external (not started by stack.sh)"
    else owner="-"; fi
    printf '%-9s %-5s %-45s %s\n' "kafka-b$n" "$state" "$HOST:$(kafka_broker_port "$n")" "$owner"
  done
}

cmd_restart_kafka() {
  local mode="${1:-term}" sig pid
  case "$mode" in term | TERM | sigterm) sig=TERM ;; kill | KILL | sigkill) sig=KILL ;;
    *) die "usage: stack.sh restart-kafka [term|kill]" ;; esac
  check_tools
  with_lock
  [[ -f "$DIST_MARKER" ]] || die "artifacts not fetched yet; run 'stack.sh up' first"
  if ((BROKERS == 3)); then
    local n
    for n in $(kafka_cluster_ids); do our_pid "kafka-b$n" >/dev/null || die "kafka broker $n was not started by this script (stack.sh up --brokers 3)"; done
    # All at once: SIGKILL (or SIGTERM) to the three, then the three start again together.
    for n in $(kafka_cluster_ids); do kill "-$sig" "$(our_pid "kafka-b$n")" 2>/dev/null || true; done
    for n in $(kafka_cluster_ids); do stop_kafka_node "$n" "$sig"; done
    for n in $(kafka_cluster_ids); do start_kafka_node "$n"; done
    wait_kafka_cluster
    return 0
  fi
  pid="$(our_pid kafka)" || die "no kafka started by this script is running (pid file $(pid_file kafka)); cannot restart"
  stop_pid kafka "$pid" "$KAFKA_STOP_TIMEOUT" "$sig"
  # wait for the ports to be released before starting again
  local start=$SECONDS
  while port_open "$HOST" "$KAFKA_PORT" || port_open "$HOST" "$KAFKA_CONTROLLER_PORT"; do
    ((SECONDS - start < 30)) || die "kafka ports still in use 30s after stop"
    sleep 0.2
  done
  start_kafka
  wait_kafka
  warm_kafka_coordinators
}

usage() {
  sed -n '2,30p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
  exit "${1:-0}"
}

REDIS_CLUSTER=0
SECURE=0
BROKERS=1
command="${1:-}"
[[ $# -gt 0 ]] && shift
positional=()
while [[ $# -gt 0 ]]; do
  case "$command:$1" in
    up:--redis-cluster | env:--redis-cluster) REDIS_CLUSTER=1 ;;
    up:--secure | env:--secure) SECURE=1 ;;
    up:--brokers | env:--brokers | restart-kafka:--brokers)
      [[ "${2:-}" == 1 || "${2:-}" == 3 ]] || die "--brokers takes 1 or 3"
      BROKERS="$2"; shift ;;
    restart-kafka:* | stop-broker:* | start-broker:* | stop-redis-node:* | start-redis-node:*) positional+=("$1") ;;
    *) usage 2 ;;
  esac
  shift
done
case "$command" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  env) print_env ;;
  restart-kafka) cmd_restart_kafka "${positional[@]}" ;;
  stop-broker) cmd_stop_broker "${positional[@]}" ;;
  start-broker) cmd_start_broker "${positional[@]}" ;;
  stop-redis-node) cmd_stop_redis_node "${positional[@]}" ;;
  start-redis-node) cmd_start_redis_node "${positional[@]}" ;;
  registry-jar) check_tools >&2; fetch_artifacts >&2; registry_jar ;;
  -h | --help | help) usage 0 ;;
  *) usage 2 ;;
esac
