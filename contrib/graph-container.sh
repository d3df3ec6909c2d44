#!/bin/bash
# graph-container.sh NAME [RRD_DIR] [OUT_DIR]
#
# Draws three PNG graphs of one container from the RRD files collectd's rrdtool plugin writes
# for the container plugin:
#   OUT_DIR/container-NAME-load.png     load averages (1/5/15 min), running and blocked tasks
#   OUT_DIR/container-NAME-cpu.png      CPU (ps_cputime user + system) in % of one core,
#                                       and the share of time CFS throttled the container
#   OUT_DIR/container-NAME-memory.png   memory usage, anon, file (page cache), swap and limit
#
# NAME     the container's name as it appears in collectd (the plugin instance: the Docker name,
#          NAMESPACE_POD_CONTAINER, ...), i.e. the directory container-NAME.
# RRD_DIR  the rrdtool plugin's DataDir for one host, the directory that holds container-NAME/
#          (default: /var/lib/collectd/rrd/HOST with HOST the only directory there, else
#          `hostname -f`). A container-NAME directory itself is accepted too.
# OUT_DIR  where the PNGs go (default: the current directory).
#
# Environment: START (default -1h, any rrdtool time: -6h, -1d, end-30min), END (default now),
# WIDTH (800), HEIGHT (200).
#
# Example: contrib/graph-container.sh web-1 /var/lib/collectd/rrd/host1.example.com /tmp/graphs
set -eu

usage() { sed -n '2,/^set -eu/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit "${1:-0}"; }
[ $# -ge 1 ] && [ $# -le 3 ] || usage 2
case $1 in -h | --help) usage 0 ;; esac
NAME=$1
RRD_DIR=${2:-}
OUT_DIR=${3:-.}
START=${START:--1h}
END=${END:-now}
WIDTH=${WIDTH:-800}
HEIGHT=${HEIGHT:-200}

command -v rrdtool >/dev/null || { echo "rrdtool not found: apt-get install rrdtool" >&2; exit 1; }

if [ -z "$RRD_DIR" ]; then
  base=/var/lib/collectd/rrd
  hosts=$(find "$base" -mindepth 1 -maxdepth 1 -type d 2>/dev/null | wc -l)
  if [ "$hosts" -eq 1 ]; then
    RRD_DIR=$(find "$base" -mindepth 1 -maxdepth 1 -type d)
  else
    RRD_DIR="$base/$(hostname -f 2>/dev/null || hostname)"
  fi
fi
if [ -d "$RRD_DIR/container-$NAME" ]; then
  DIR="$RRD_DIR/container-$NAME"
elif [ -f "$RRD_DIR/ps_cputime.rrd" ] || [ -f "$RRD_DIR/load.rrd" ]; then
  DIR=$RRD_DIR
else
  echo "no RRD files for container $NAME under $RRD_DIR (expected $RRD_DIR/container-$NAME/)" >&2
  known=$(cd "$RRD_DIR" 2>/dev/null && ls -d container-* 2>/dev/null | sed 's/^container-//' | tr '\n' ' ')
  [ -z "$known" ] || echo "containers there: $known" >&2
  exit 1
fi
mkdir -p "$OUT_DIR"

# rrdtool's DEF separates fields with ':'; a path containing one must escape it.
rrd() { printf '%s' "$DIR/$1.rrd" | sed 's/:/\\:/g'; }
have() { [ -f "$DIR/$1.rrd" ]; }
common=(--start "$START" --end "$END" --width "$WIDTH" --height "$HEIGHT" --slope-mode
  --font DEFAULT:0:DejaVuSans --imgformat PNG)
drawn=0

draw() { # draw NAME ARGS...: one graph, prints its path
  local out="$OUT_DIR/container-$NAME-$1.png"; shift
  rrdtool graph "$out" "${common[@]}" "$@" >/dev/null
  echo "$out"
  drawn=$((drawn + 1))
}

# ---- load ----
if have load; then
  args=(--title "container $NAME: load" --vertical-label tasks --lower-limit 0
    "DEF:s=$(rrd load):shortterm:AVERAGE" "DEF:m=$(rrd load):midterm:AVERAGE"
    "DEF:l=$(rrd load):longterm:AVERAGE")
  if have ps_state-running; then
    args+=("DEF:run=$(rrd ps_state-running):value:AVERAGE"
      "AREA:run#B0E0B0:running tasks" "GPRINT:run:LAST:%6.2lf now" "GPRINT:run:MAX:%6.2lf max\\n")
  fi
  if have ps_state-blocked; then
    args+=("DEF:blk=$(rrd ps_state-blocked):value:AVERAGE"
      "AREA:blk#F0B0B0:blocked tasks:STACK" "GPRINT:blk:LAST:%6.2lf now" "GPRINT:blk:MAX:%6.2lf max\\n")
  fi
  args+=("LINE2:s#0000C0:load  1 min" "GPRINT:s:LAST:%6.2lf now" "GPRINT:s:MAX:%6.2lf max\\n"
    "LINE1:m#C08000:load  5 min" "GPRINT:m:LAST:%6.2lf now\\n"
    "LINE1:l#C00000:load 15 min" "GPRINT:l:LAST:%6.2lf now\\n")
  draw load "${args[@]}"
else
  echo "no load.rrd (CollectLoad false?): load graph skipped" >&2
fi

# ---- CPU ----
if have ps_cputime; then
  # ps_cputime is DERIVE in microseconds: the RRD stores us/s; 10^4 us/s = 1 % of one core.
  args=(--title "container $NAME: CPU" --vertical-label "% of one core" --lower-limit 0
    "DEF:u=$(rrd ps_cputime):user:AVERAGE" "DEF:y=$(rrd ps_cputime):syst:AVERAGE"
    "CDEF:up=u,10000,/" "CDEF:yp=y,10000,/" "CDEF:tp=up,yp,+"
    "AREA:up#4080FF:user  " "GPRINT:up:LAST:%6.1lf %% now" "GPRINT:up:AVERAGE:%6.1lf %% avg"
    "GPRINT:up:MAX:%6.1lf %% max\\n"
    "AREA:yp#FF8040:system:STACK" "GPRINT:yp:LAST:%6.1lf %% now" "GPRINT:yp:AVERAGE:%6.1lf %% avg"
    "GPRINT:yp:MAX:%6.1lf %% max\\n"
    "LINE1:tp#000000:total " "GPRINT:tp:LAST:%6.1lf %% now" "GPRINT:tp:AVERAGE:%6.1lf %% avg"
    "GPRINT:tp:MAX:%6.1lf %% max\\n")
  if have total_time_in_ms-cfs_throttled; then
    # ms throttled per second / 10 = % of the time the container was throttled.
    args+=("DEF:thr=$(rrd total_time_in_ms-cfs_throttled):value:AVERAGE" "CDEF:thrp=thr,10,/"
      "LINE2:thrp#C00000:throttled (% of time)" "GPRINT:thrp:LAST:%6.1lf %% now"
      "GPRINT:thrp:MAX:%6.1lf %% max\\n")
  fi
  draw cpu "${args[@]}"
else
  echo "no ps_cputime.rrd (CollectCPU false?): CPU graph skipped" >&2
fi

# ---- memory ----
if have memory-usage; then
  args=(--title "container $NAME: memory" --vertical-label bytes --base 1024 --lower-limit 0
    "DEF:use=$(rrd memory-usage):value:AVERAGE")
  if have memory-anon; then
    args+=("DEF:anon=$(rrd memory-anon):value:AVERAGE"
      "AREA:anon#80C080:anon " "GPRINT:anon:LAST:%8.2lf %sB now\\n")
  fi
  if have memory-file; then
    args+=("DEF:file=$(rrd memory-file):value:AVERAGE"
      "AREA:file#C0C0FF:file (page cache):STACK" "GPRINT:file:LAST:%8.2lf %sB now\\n")
  fi
  if have memory-swap; then
    args+=("DEF:swap=$(rrd memory-swap):value:AVERAGE"
      "LINE1:swap#C000C0:swap " "GPRINT:swap:LAST:%8.2lf %sB now\\n")
  fi
  args+=("LINE2:use#000000:usage" "GPRINT:use:LAST:%8.2lf %sB now" "GPRINT:use:MAX:%8.2lf %sB max\\n")
  if have memory-limit; then
    args+=("DEF:lim=$(rrd memory-limit):value:AVERAGE"
      "LINE2:lim#FF0000:limit" "GPRINT:lim:LAST:%8.2lf %sB\\n")
  fi
  draw memory "${args[@]}"
else
  echo "no memory-usage.rrd (CollectMemory false?): memory graph skipped" >&2
fi

[ "$drawn" -gt 0 ] || { echo "nothing to draw for $NAME in $DIR" >&2; exit 1; }
