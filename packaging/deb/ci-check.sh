#!/usr/bin/env bash
# CI check of the .deb: build it (from the jar `mvn verify` made, when there is one), lint it,
# install it with dpkg, start the installed agent through its installed launcher against the
# embedded dev API, wait until it is ready, stop it with SIGTERM, then remove and purge the
# package and check that each step left what it should.
#   packaging/deb/ci-check.sh          (as root, from anywhere; .ci/run calls it)
# Bounded: every wait has a timeout. Idempotent: a sigma-agent package left installed by an
# earlier run is purged first. Needs root (dpkg), a Java 17+ runtime and Maven.
set -euo pipefail
cd "$(dirname "$0")/../.."

started=$SECONDS
pkg=sigma-agent
ready_timeout=${DEB_CHECK_READY_TIMEOUT:-120}
stop_timeout=${DEB_CHECK_STOP_TIMEOUT:-30}
log=$(mktemp -t sigma-agent-deb-check.XXXXXX)
agent_pid=

say() { echo "deb-check: $*"; }
fail() {
  echo "deb-check: FAILED: $*" >&2
  if [ -s "$log" ]; then echo "deb-check: agent log ($log), last lines:" >&2; tail -n 40 "$log" >&2; fi
  exit 1
}
# Never leave the agent this script started running, whatever fails.
cleanup() {
  if [ -n "$agent_pid" ] && kill -0 "$agent_pid" 2>/dev/null; then
    kill -KILL "$agent_pid" 2>/dev/null || true
  fi
}
trap cleanup EXIT

if [ "$(id -u)" -ne 0 ]; then fail "needs root (dpkg -i)"; fi

# --- Tools -------------------------------------------------------------------------------
need_apt=()
command -v lintian >/dev/null 2>&1 || need_apt+=(lintian)
command -v curl >/dev/null 2>&1 || need_apt+=(curl)
if [ ${#need_apt[@]} -gt 0 ]; then
  say "installing ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  timeout 600 apt-get update -qq
  timeout 600 apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

# --- A package left by an earlier run ---------------------------------------------------------
if dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -qv 'not-installed'; then
  say "purging the $pkg package an earlier run left: $(dpkg-query -W -f='${Version} ${Status}' "$pkg")"
  dpkg -P "$pkg" >/dev/null
fi

# --- Build ----------------------------------------------------------------------------------
rm -f target/${pkg}_*_all.deb
t0=$SECONDS
if [ -f target/sigma-agent.jar ]; then
  # Only the packaging steps: reuses the shaded jar `mvn -B verify` built (about 10 s instead of
  # about a minute for `-Pdeb -DskipTests package`, which would compile and shade again).
  mvn -B -q -Pdeb resources:copy-resources@deb-docs exec:exec@deb-docs-gzip jdeb:jdeb@deb
else
  mvn -B -q -Pdeb -DskipTests package
fi
debs=(target/${pkg}_*_all.deb)
[ ${#debs[@]} -eq 1 ] && [ -f "${debs[0]}" ] || fail "expected one target/${pkg}_*_all.deb, found: ${debs[*]}"
deb=${debs[0]}
say "built $deb: $(du -h "$deb" | cut -f1) ($(stat -c %s "$deb") bytes) in $((SECONDS - t0)) s"
dpkg-deb -f "$deb" Package Version Architecture Depends Installed-Size

# --- Checks on the sources of the package -----------------------------------------------------
# The default config lists every setting of the agent (commented out, with its default).
help_vars=$(java -jar target/sigma-agent.jar --help | grep -oE '\b(SIGMA|AGENT)_[A-Z0-9_]+\b' | sort -u)
[ -n "$help_vars" ] || fail "no environment variable names in sigma-agent --help"
missing=()
for var in $help_vars; do
  grep -qE "^#? ?$var=" packaging/deb/sigma-agent.env || missing+=("$var")
done
[ ${#missing[@]} -eq 0 ] \
  || fail "packaging/deb/sigma-agent.env (/etc/sigma-agent/env) lacks ${missing[*]}: add each, commented, with its default and help line from sigma-agent --help"
# The drop-in replaces the unit's ExecStart with the installed launcher and no arguments:
# arguments in the unit's ExecStart would be lost, so the drop-in must repeat them.
exec_start=$(grep -E '^ExecStart=' packaging/sigma-agent.service | tail -n 1)
exec_args=$(echo "${exec_start#ExecStart=}" | sed -E 's/^[-@:+!]*[^ ]+ *//')
[ -z "$exec_args" ] \
  || fail "packaging/sigma-agent.service ExecStart has arguments ($exec_args): repeat them in packaging/deb/sigma-agent.service.d-deb-layout.conf"

# --- Lint -------------------------------------------------------------------------------------
t0=$SECONDS
# Warnings fail too; the justified ones are overridden in packaging/deb/lintian-overrides.
# (No --show-overrides: with it, lintian 2.116 counts overridden tags towards --fail-on.)
lint_status=0
lint_out=$(lintian --fail-on error,warning --display-info "$deb" 2>&1) || lint_status=$?
echo "$lint_out" | grep -v 'running with root privileges' || true
[ "$lint_status" -eq 0 ] || fail "lintian reports errors or warnings (above), exit status $lint_status"
say "lintian: no errors, no warnings, in $((SECONDS - t0)) s"

# --- Install ----------------------------------------------------------------------------------
if ! dpkg -i "$deb"; then
  # The dependencies (a Java 17+ runtime, iproute2) are not all installed: let apt
  # install them from Debian and finish configuring the package. Never --force-depends.
  say "dpkg -i needs dependencies: apt-get install -f"
  export DEBIAN_FRONTEND=noninteractive
  timeout 600 apt-get update -qq
  timeout 900 apt-get install -y -qq -f >/dev/null
fi
[ "$(dpkg-query -W -f='${Status}' "$pkg")" = "install ok installed" ] || fail "$pkg is not installed and configured"
[ "$(stat -c '%U:%G %a' /etc/sigma-agent/env)" = "root:root 600" ] || fail "/etc/sigma-agent/env is not root:root 600"
[ -f /usr/share/sigma-agent/sigma-agent.jar ] && [ -x /usr/bin/sigma-agent ] || fail "jar or launcher missing"
version=$(dpkg-query -W -f='${Version}' "$pkg")
/usr/bin/sigma-agent --version | grep -q "$version" || fail "/usr/bin/sigma-agent --version does not print $version"
if command -v systemd-analyze >/dev/null 2>&1; then
  # The installed unit with its drop-in: valid, and its ExecStart exists.
  systemd-analyze verify /lib/systemd/system/sigma-agent.service \
    || fail "systemd-analyze verify rejects the installed sigma-agent.service"
fi
say "installed $pkg $version: /usr/bin/sigma-agent, /etc/sigma-agent/env 600, the unit valid"

# --- Start the installed agent through its launcher, as an unprivileged user -------------------
# As the unit would run it: a transient user (a UID from systemd's DynamicUser range, in no
# passwd entry) that owns only its state directory.
agent_uid=$((61184 + $$ % 4000))
state=$(mktemp -d -t sigma-agent-deb-state.XXXXXX)
chown "$agent_uid:$agent_uid" "$state"
chmod 0700 "$state"
# Free ports away from the defaults (a real agent or another test may hold those).
port_free() { ! ss -Hltn "sport = :$1" | grep -q .; }
ports=()
p=$((42000 + $$ % 10000))
while [ ${#ports[@]} -lt 3 ]; do
  if port_free "$p"; then ports+=("$p"); fi
  p=$((p + 1))
done
mgmt=${ports[0]} metrics=${ports[1]} xds=${ports[2]}
t0=$SECONDS
# setpriv execs (no process in between), so $! is the agent's JVM: the launcher execs java.
HOME=$state setpriv --reuid="$agent_uid" --regid="$agent_uid" --clear-groups \
  /usr/bin/sigma-agent --dev --public-ip-lookup=false --state-dir "$state" --xds-enabled \
    --xds-port "$xds" --metrics-port "$metrics" --management-port "$mgmt" >"$log" 2>&1 &
agent_pid=$!
ready=
while [ $((SECONDS - t0)) -lt "$ready_timeout" ]; do
  kill -0 "$agent_pid" 2>/dev/null || fail "the agent exited before it was ready"
  if [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$mgmt/ready")" = 200 ]; then
    ready=yes; break
  fi
  sleep 0.5
done
[ -n "$ready" ] || fail "GET http://127.0.0.1:$mgmt/ready did not answer 200 within ${ready_timeout} s"
say "installed agent (pid $agent_pid, uid $(ps -o uid= -p "$agent_pid" | tr -d ' ')) ready: /ready 200 after $((SECONDS - t0)) s"
curl -fsS --max-time 5 "http://127.0.0.1:$metrics/metrics" | grep -q '^sigma_' \
  || fail "GET /metrics on port $metrics has no sigma_ series"

# --- Stop -------------------------------------------------------------------------------------
t0=$SECONDS
kill -TERM "$agent_pid"
stopped=
while [ $((SECONDS - t0)) -lt "$stop_timeout" ]; do
  if ! kill -0 "$agent_pid" 2>/dev/null; then stopped=yes; break; fi
  sleep 0.2
done
[ -n "$stopped" ] || fail "the agent did not stop within ${stop_timeout} s of SIGTERM"
status=0
wait "$agent_pid" || status=$?
agent_pid=
# 143 = 128 + SIGTERM: how the JVM reports a stop by SIGTERM (the unit's SuccessExitStatus).
case "$status" in
  0|143) say "SIGTERM: the agent stopped in $((SECONDS - t0)) s, exit status $status" ;;
  *) fail "the agent exited with status $status after SIGTERM" ;;
esac

# --- Remove, then purge -----------------------------------------------------------------------
dpkg -r "$pkg" >/dev/null
[ ! -e /usr/bin/sigma-agent ] && [ ! -e /usr/share/sigma-agent ] || fail "dpkg -r left the launcher or the jar"
[ -f /etc/sigma-agent/env ] || fail "dpkg -r removed the conffile /etc/sigma-agent/env (only purge should)"
# The state a DynamicUser= service leaves (systemd's StateDirectory=): purge removes it.
made_private=
[ -d /var/lib/private ] || made_private=yes
if [ ! -e /var/lib/sigma-agent ] && [ ! -e /var/lib/private/sigma-agent ]; then
  install -d -m 0700 /var/lib/private /var/lib/private/sigma-agent/xds
  ln -s private/sigma-agent /var/lib/sigma-agent
  touch /var/lib/private/sigma-agent/xds/dev-envoy.json
fi
dpkg -P "$pkg" >/dev/null
[ ! -e /etc/sigma-agent ] || fail "dpkg -P left /etc/sigma-agent"
[ ! -e /var/lib/sigma-agent ] && [ ! -L /var/lib/sigma-agent ] && [ ! -e /var/lib/private/sigma-agent ] \
  || fail "dpkg -P left the state in /var/lib/sigma-agent or /var/lib/private/sigma-agent"
if [ -n "$made_private" ]; then rmdir /var/lib/private; fi
say "dpkg -r kept /etc/sigma-agent/env; dpkg -P removed it and the state"
rm -rf "$log" "$state"
say "OK in $((SECONDS - started)) s"
