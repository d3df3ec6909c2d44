#!/bin/bash
# The Debian package end to end, as an operator meets it: build it from the tree with
# dpkg-buildpackage, check it with lintian, install it with apt, enable its conf.d snippet, run
# collectd with Debian's default collectd.conf (which includes collectd.conf.d), see a test
# container's values, then purge the package and check that nothing of it is left.
# Needs root; changes the system only through dpkg (and undoes that on exit).
# PACKAGE_TEST_REQUIRED=1 (CI) turns a missing tool into a failure instead of a skip.
. "$(dirname "$0")/../integration/lib.sh"
TOP=$(cd "$(dirname "$0")/../.." && pwd)
PKG=collectd-container
CONFD=/etc/collectd/collectd.conf.d
SNIPPET=$CONFD/container.conf
TESTHOST=pkgtest

unusable() { # the machine cannot run this test
  if [ -n "${PACKAGE_TEST_REQUIRED:-}" ]; then
    echo "FAIL: $*"; exit 1
  fi
  skip "$*"
}
[ "$(id -u)" -eq 0 ] || unusable "needs root (installs a package, creates a cgroup, runs collectd)"
[ -f "$TOP/debian/control" ] || skip "no debian/ directory (a release tarball does not carry it)"
for tool in dpkg-buildpackage dh lintian fakeroot apt-get "$COLLECTD_BIN"; do
  command -v "$tool" >/dev/null || unusable "needs $tool (apt-get install dpkg-dev debhelper lintian fakeroot collectd-core)"
done
if dpkg-query -W -f '${Status}' "$PKG" 2>/dev/null | grep -q 'ok installed'; then
  unusable "$PKG is already installed here: this test would remove it"
fi
DEFAULT_CONF=/etc/collectd/collectd.conf # the collectd package's; collectd-core ships it as an example
[ -f "$DEFAULT_CONF" ] || DEFAULT_CONF=/usr/share/doc/collectd-core/examples/collectd.conf
[ -f "$DEFAULT_CONF" ] || unusable "no Debian default collectd.conf (collectd-core's example)"
grep -q "^<Include \"$CONFD\">" "$DEFAULT_CONF" || unusable "$DEFAULT_CONF does not include $CONFD"

APT="apt-get -y -qq -o DPkg::Lock::Timeout=300"
INSTALLED=""
CONFD_EXISTED=""
[ -d "$CONFD" ] && CONFD_EXISTED=1
WORK=$(mktemp -d /tmp/pkg-deb-test.XXXXXX)
pkg_cleanup() {
  stop_collectd
  if [ -n "$INSTALLED" ]; then
    DEBIAN_FRONTEND=noninteractive $APT purge "$PKG" >/dev/null 2>&1 || dpkg --purge "$PKG" >/dev/null 2>&1
  fi
  [ -z "$CONFD_EXISTED" ] && rmdir "$CONFD" 2>/dev/null
  cleanup
}
trap pkg_cleanup EXIT
trap "exit 1" INT TERM
secs() { echo $((SECONDS - $1)); }

# 1. Build, from a copy of the tree (dpkg-buildpackage writes the .deb beside the tree).
mkdir -p "$WORK/src/$PKG"
if [ "$(git -C "$TOP" rev-parse --show-toplevel 2>/dev/null)" = "$(cd "$TOP" && pwd -P)" ]; then
  # What is tracked or would be (not ignored), so build output of the developer's tree stays out.
  (cd "$TOP" && git ls-files -z --cached --others --exclude-standard | tar --null -T - -cf -) |
    tar -xf - -C "$WORK/src/$PKG"
else
  cp -R "$TOP/." "$WORK/src/$PKG"
fi
t0=$SECONDS
(cd "$WORK/src/$PKG" && DEB_BUILD_OPTIONS="parallel=${JOBS:-2} ${DEB_BUILD_OPTIONS:-}" dpkg-buildpackage -us -uc -b) \
  >"$WORK/build.log" 2>&1
rc=$?
echo "dpkg-buildpackage: exit $rc in $(secs $t0) s"
check "dpkg-buildpackage -us -uc -b builds the package" test "$rc" -eq 0
[ "$rc" -eq 0 ] || { tail -n 40 "$WORK/build.log"; finish; exit; }
# The package build has no -Werror (a newer compiler must not break it): warnings fail here.
warnings=$(grep -E '\.[ch]:[0-9]+:[0-9]+: warning:' "$WORK/build.log")
check "no compiler warnings in the package build" test -z "$warnings"
[ -z "$warnings" ] || echo "$warnings" | head -n 20
case " ${DEB_BUILD_OPTIONS:-} " in
*" nocheck "*) echo "note: DEB_BUILD_OPTIONS has nocheck: the package build ran no unit tests" ;;
*) check "the unit tests ran in the package build" grep -qE '^# PASS: +[1-9]' "$WORK/build.log" ;;
esac
DEB=$(ls "$WORK/src/${PKG}_"*.deb 2>/dev/null | head -n 1)
check "the .deb is there" test -f "$DEB"
[ -f "$DEB" ] || { finish; exit; }
upstream=$(sed -n 's/^AC_INIT(\[[^]]*\], \[\([^]]*\)\].*/\1/p' "$TOP/configure.ac")
version=$(dpkg-deb -f "$DEB" Version)
check "package version $version is configure.ac's $upstream" test "${version%%-*}" = "$upstream"

# 2. lintian: no errors (warnings are shown).
lintian --display-info --pedantic "$WORK/src/${PKG}_"*.changes >"$WORK/lintian.out" 2>&1
echo "lintian:"
sed 's/^/  /' "$WORK/lintian.out"
check "lintian reports no errors" test -z "$(grep '^E:' "$WORK/lintian.out")"

# 3. What the package holds.
dpkg-deb -c "$DEB" | awk '{print $6}' | sed 's|^\./|/|' >"$WORK/contents"
FILES=$(dpkg-deb -c "$DEB" | awk '$1 !~ /^d/ {print $6}' | sed 's|^\./|/|')
for f in /usr/lib/collectd/container.so /usr/share/collectd-container/container-types.db \
  /usr/share/man/man5/collectd-container.5.gz "$SNIPPET" \
  /usr/share/doc/$PKG/examples/writers/csv.conf \
  /usr/share/doc/$PKG/examples/systemd/collectd.service.d/container.conf; do
  check "the package holds $f" grep -qx "$f" "$WORK/contents"
done
check "no libtool .la file" test -z "$(grep '\.la$' "$WORK/contents")"
depends=$(dpkg-deb -f "$DEB" Depends)
echo "Depends: $depends"
check "depends on collectd-core" grep -q 'collectd-core' <<<"$depends"
check "depends on libnl (from the plugin's shared libraries)" grep -q 'libnl-genl-3' <<<"$depends"
check "the snippet is a conffile" grep -qx "$SNIPPET" <(dpkg-deb -I "$DEB" conffiles)
check "the snippet loads nothing as shipped" \
  test -z "$(dpkg-deb --fsys-tarfile "$DEB" | tar -xOf - ".$SNIPPET" | grep -v '^[[:space:]]*\(#\|$\)')"

# 4. Install with apt (dependencies from the archive if missing).
t0=$SECONDS
INSTALLED=1
DEBIAN_FRONTEND=noninteractive $APT install --no-install-recommends "$DEB" >"$WORK/install.log" 2>&1
rc=$?
check "apt-get install of the .deb ($(secs $t0) s)" test "$rc" -eq 0
[ "$rc" -eq 0 ] || { tail -n 20 "$WORK/install.log"; finish; exit; }
check "dpkg says installed" grep -q 'ok installed' <(dpkg-query -W -f '${Status}' "$PKG")
check "container.so is in collectd's plugin directory" test -f /usr/lib/collectd/container.so
check "man 5 collectd-container is there" test -f /usr/share/man/man5/collectd-container.5.gz

# 5. The operator's step: uncomment the snippet's LoadPlugin line and <Plugin> block, and
# select the test's container (this machine may run others: thousands, under a stress test).
NAME=pkgtest-$(random_id | head -c 8)
sed -i -E 's/^#(LoadPlugin container|<\/?Plugin|\t)/\1/' "$SNIPPET"
sed -i "s/^<Plugin container>\$/&\n\tContainer \"$NAME\"/" "$SNIPPET"
check "the snippet now loads the plugin" grep -q '^LoadPlugin container' "$SNIPPET"
check "and selects the test's container" grep -q "^	Container \"$NAME\"" "$SNIPPET"

# Debian's default collectd.conf, with what must not touch the system moved into WORK: its own
# BaseDir, PID file, rrdtool DataDir and log; plus a CSV writer to read the values from.
{
  echo "Hostname \"$TESTHOST\""
  echo "BaseDir \"$WORK/base\""
  echo "PIDFile \"$WORK/collectd.pid\""
  echo "Interval 1"
  echo "LoadPlugin logfile"
  echo "<Plugin logfile>"
  echo "  LogLevel info"
  echo "  File \"$WORK/collectd.log\""
  echo "  PrintSeverity true"
  echo "</Plugin>"
  sed -e 's/^FQDNLookup true/FQDNLookup false/' \
    -e "s|\"/var/lib/collectd/rrd\"|\"$WORK/rrd\"|" "$DEFAULT_CONF"
  echo "LoadPlugin csv"
  echo "<Plugin csv>"
  echo "  DataDir \"$WORK/csv\""
  echo "</Plugin>"
} >"$WORK/collectd.conf"
mkdir -p "$WORK/base" "$WORK/csv"
check "the test's config writes nothing under /var/lib/collectd" \
  test -z "$(grep -v '^[[:space:]]*#' "$WORK/collectd.conf" | grep /var/lib/collectd)"
check "collectd -t accepts the config" "$COLLECTD_BIN" -t -C "$WORK/collectd.conf"

# 6. A container (LXC's cgroup layout, so the name comes from the cgroup) with a process.
REL=lxc.payload.$NAME
if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
  CTRL=(.)
else
  CTRL=()
  for c in cpu cpuacct memory pids unified; do [ -d "/sys/fs/cgroup/$c" ] && CTRL+=("$c"); done
fi
make_cgroup "$REL" "${CTRL[@]}"
sleep 600 &
PIDS_STARTED+=("$!")
move_pid "$!" "$REL" "${CTRL[@]}"

t0=$SECONDS
"$COLLECTD_BIN" -f -C "$WORK/collectd.conf" -P "$WORK/collectd.pid" >"$WORK/collectd.stdout" 2>&1 &
COLLECTD_PID=$!
dir="$WORK/csv/$TESTHOST/container-$NAME"
for ((i = 0; i < 60; i++)); do
  [ "$(cat "$dir"/ps_cputime-* 2>/dev/null | grep -vc '^epoch')" -ge 3 ] && break
  kill -0 "$COLLECTD_PID" 2>/dev/null || break
  sleep 0.5
done
check "the container's ps_cputime flows ($(secs $t0) s after start)" \
  test "$(cat "$dir"/ps_cputime-* 2>/dev/null | grep -vc '^epoch')" -ge 3
check "its memory-usage is there" test -n "$(ls "$dir"/memory-usage-* 2>/dev/null)"
check "its load is there" test -n "$(ls "$dir"/load-* 2>/dev/null)"
check "collectd loaded the plugin from /usr/lib/collectd" \
  grep -q 'plugin "container" successfully loaded' "$WORK/collectd.log"
check "it is named from its cgroup, as LXC's" grep -q "container appeared: $NAME (.*runtime lxc)" "$WORK/collectd.log"
check "the plugin logged no ERROR" test -z "$(grep -E '\[error\]' "$WORK/collectd.log" | grep -i container)"
check "collectd is still running" kill -0 "$COLLECTD_PID"
stop_collectd
[ "$FAILED" -eq 0 ] || { tail -n 20 "$WORK/collectd.log" "$WORK/collectd.stdout"; ls "$WORK/csv/$TESTHOST" | head; }

# 7. Purge: nothing of the package is left, the changed conffile included.
t0=$SECONDS
DEBIAN_FRONTEND=noninteractive $APT purge "$PKG" >"$WORK/purge.log" 2>&1
rc=$?
check "apt-get purge ($(secs $t0) s)" test "$rc" -eq 0
[ "$rc" -eq 0 ] && INSTALLED=""
check "dpkg no longer knows the package" \
  test -z "$(dpkg-query -W -f '${Status}' "$PKG" 2>/dev/null | grep -v 'not-installed')"
left=""
for f in $FILES; do [ -e "$f" ] && left="$left $f"; done
check "none of the package's files is left${left:+:$left}" test -z "$left"
check "no conffile leftovers (.dpkg-*)" test -z "$(ls "$SNIPPET"* 2>/dev/null)"
check "no /usr/share/doc/$PKG, no /usr/share/collectd-container" \
  test ! -e "/usr/share/doc/$PKG" -a ! -e /usr/share/collectd-container
check "no dpkg bookkeeping left" test -z "$(ls /var/lib/dpkg/info/"$PKG".* 2>/dev/null)"
if [ -z "$CONFD_EXISTED" ]; then
  check "$CONFD, made by the package, is gone" test ! -e "$CONFD"
fi
finish
