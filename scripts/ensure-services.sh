#!/usr/bin/env bash
# Starts the local PostgreSQL and Redis when they are not answering (they normally run already on
# this kind of machine), and makes that Redis keep what the API acknowledges: an append-only file
# written before every reply and fsynced every second, and no eviction (README: Redis settings).
# A Redis already running without them is switched over with CONFIG SET. Idempotent; used by the
# start command, the test command and CI. REDIS_PORT and REDIS_DATA_DIR point it at another Redis.
# With REDIS_CLUSTER_NODES (comma-separated host:port) it starts no Redis: it checks, and switches
# over the same way, every node of that Redis Cluster (primaries and replicas alike: a replica
# becomes a primary at a failover).
set -euo pipefail

redis_host=127.0.0.1
redis_port="${REDIS_PORT:-6379}"
redis_dir="${REDIS_DATA_DIR:-/var/lib/redis}"
redis() { redis-cli -h "$redis_host" -p "$redis_port" "$@"; }
# Empty when nothing answers; PONG, or an error such as LOADING, when a server does.
redis_answer() { redis ping 2>/dev/null || true; }
redis_setting() { redis CONFIG GET "$1" 2>/dev/null | sed -n 2p; }
# redis-cli exits 0 on an error reply: the reply itself says whether it worked.
redis_config_set() {
  local reply
  reply="$(redis CONFIG SET "$1" "$2" 2>&1)"
  if [ "$reply" != OK ]; then
    echo "Redis on $redis_host:$redis_port refused CONFIG SET $1 $2: $reply" >&2
    exit 1
  fi
}
persistence_field() { redis INFO persistence | tr -d '\r' | sed -n "s/^$1://p"; }

if ! pg_isready -h 127.0.0.1 -p 5432 -q; then
  echo "starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start
  for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
fi

# Gives the Redis on $redis_host:$redis_port the settings that keep acknowledged events.
ensure_redis_settings() {
  appendonly="$(redis_setting appendonly)"
  if [ -z "$appendonly" ]; then
    echo "warning: Redis on $redis_host:$redis_port refuses CONFIG GET: make sure it runs with" \
      "appendonly yes, appendfsync everysec (or always) and maxmemory-policy noeviction" >&2
    return 0
  fi
  switched=()
  # `always` is stricter than everysec: keep it. `no` leaves fsync to the kernel (about 30 s).
  if [ "$(redis_setting appendfsync)" = no ]; then
    redis_config_set appendfsync everysec
    switched+=("appendfsync everysec")
  fi
  if [ "$(redis_setting maxmemory-policy)" != noeviction ]; then
    redis_config_set maxmemory-policy noeviction
    switched+=("maxmemory-policy noeviction")
  fi
  if [ "$appendonly" != yes ]; then
    redis_config_set appendonly yes
    switched+=("appendonly yes")
  fi
  if [ "${#switched[@]}" -eq 0 ]; then return 0; fi

  joined="$(printf '%s, ' "${switched[@]}")"
  echo "Redis on $redis_host:$redis_port could lose acknowledged events; switched on with CONFIG SET: ${joined%, }"
  # Switching the append-only file on rewrites the whole dataset into it first: until that is done
  # a crash still loses everything.
  for _ in $(seq 1 240); do
    [ "$(persistence_field aof_rewrite_in_progress)" = 0 ] &&
      [ "$(persistence_field aof_rewrite_scheduled)" = 0 ] && break
    sleep 0.5
  done
  if [ "$(persistence_field aof_rewrite_in_progress)" != 0 ] ||
    [ "$(persistence_field aof_last_bgrewrite_status)" != ok ]; then
    echo "Redis did not finish writing its append-only file (see its log)" >&2
    exit 1
  fi
  # CONFIG SET lasts until the server restarts; a server started from a configuration file keeps
  # the settings there. One started with command-line options only has no file to keep them in.
  if [ "$(redis CONFIG REWRITE 2>&1)" = OK ]; then
    echo "saved in its configuration file"
  else
    echo "warning: this Redis has no configuration file; after a restart it runs without these" \
      "settings (and does not read the append-only file) unless started with them" >&2
  fi
}

if [ -n "${REDIS_CLUSTER_NODES:-}" ]; then
  # Any node that answers lists them all; nodes flagged failed are skipped (readiness reads the
  # primaries again, every 30 s).
  nodes=""
  for seed in ${REDIS_CLUSTER_NODES//,/ }; do
    redis_host="${seed%:*}"
    redis_port="${seed##*:}"
    nodes="$(redis CLUSTER NODES 2>/dev/null | awk '$3 !~ /fail|noaddr/ { split($2, a, "@"); print a[1] }')" || true
    [ -n "$nodes" ] && break
  done
  if [ -z "$nodes" ]; then
    echo "no node of REDIS_CLUSTER_NODES ($REDIS_CLUSTER_NODES) answers CLUSTER NODES" >&2
    exit 1
  fi
  for node in $nodes; do
    redis_host="${node%:*}"
    redis_port="${node##*:}"
    ensure_redis_settings
  done
  exit 0
fi

if [ -z "$(redis_answer)" ]; then
  echo "starting Redis on 127.0.0.1:$redis_port (append-only file in $redis_dir)"
  mkdir -p "$redis_dir"
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$redis_port" \
    --appendonly yes --appendfsync everysec --maxmemory-policy noeviction --save "" \
    --dir "$redis_dir" --logfile "$redis_dir/redis-server.log"
fi
# A restarted Redis answers LOADING while it replays its append-only file.
for _ in $(seq 1 120); do [ "$(redis_answer)" = PONG ] && break; sleep 0.5; done
if [ "$(redis_answer)" != PONG ]; then
  echo "Redis on 127.0.0.1:$redis_port does not answer PING" >&2
  exit 1
fi

ensure_redis_settings
