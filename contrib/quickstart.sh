#!/bin/bash
# A newcomer's first run on a fresh Debian host, as root: installs what is needed, builds the
# plugin, and starts collectd in the foreground with the plugin and CSV output.
# Values land under $DIR/csv/<hostname>/container-<NAME>/. Ctrl-C stops collectd.
set -eu
DIR=${DIR:-/tmp/collectd-container}
INTERVAL=${INTERVAL:-10}
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
if [ "${SKIP_APT:-}" != 1 ]; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends build-essential autoconf automake libtool \
    pkg-config collectd-core collectd-dev libnl-genl-3-dev libjansson-dev
fi
autoreconf -fi >/dev/null 2>&1
[ -f Makefile ] || ./configure >/dev/null
make -j"$(nproc)" >/dev/null
mkdir -p "$DIR/plugins" "$DIR/csv"
cp .libs/container.so "$DIR/plugins/container.so" # collectd refuses symlinked plugins
for p in csv logfile; do cp "/usr/lib/collectd/$p.so" "$DIR/plugins/"; done
cat >"$DIR/collectd.conf" <<CONF
Interval $INTERVAL
PluginDir "$DIR/plugins"
BaseDir "$DIR"
TypesDB "/usr/share/collectd/types.db"
LoadPlugin logfile
<Plugin logfile>
  LogLevel info
  File stdout
</Plugin>
LoadPlugin csv
<Plugin csv>
  DataDir "$DIR/csv"
</Plugin>
LoadPlugin container
<Plugin container>
  CollectHost true
</Plugin>
CONF
echo "collectd-container: values will appear under $DIR/csv/$(hostname)/container-*/"
exec /usr/sbin/collectd -f -C "$DIR/collectd.conf" -P "$DIR/collectd.pid"
