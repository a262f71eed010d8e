#!/usr/bin/env bash
# `npm test`'s set-up (npm runs it as `pretest`): the system tools the suite uses, installed with
# apt when missing (Debian/Ubuntu; sudo when not root), saying what it installs. Where it cannot
# install, it stops with one line giving the exact command to run.
#   redis-server, redis-cli   the cluster and Sentinel tests start their own servers on free ports
#   chromium                  the browser tests (test/browser)
#   promtool, prometheus_client  /metrics checked by Prometheus's and Python's real parsers
# GRAPHWIZ_SKIP_SETUP=1 skips this step (you installed the tools some other way).
set -euo pipefail
[ "${GRAPHWIZ_SKIP_SETUP:-}" = "1" ] && exit 0

packages=()
have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/bin/$1" ]; }
have redis-server || packages+=(redis-server)
have redis-cli || packages+=(redis-tools)
[ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ] || packages+=(chromium fonts-dejavu-core)
have promtool || packages+=(prometheus)
/usr/bin/python3 -c "import prometheus_client.openmetrics.parser" >/dev/null 2>&1 || packages+=(python3-prometheus-client)
[ "${#packages[@]}" -eq 0 ] && exit 0

install="apt-get install -y --no-install-recommends ${packages[*]}"
fail() {
  echo "graphwiz-ws: npm test needs ${packages[*]}, but $1; install them with: sudo apt-get update && sudo $install" >&2
  exit 1
}
command -v apt-get >/dev/null 2>&1 || fail "this system has no apt-get (install the equivalents of these Debian packages)"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo"; else fail "installing them needs root and sudo without a password is not available here"; fi
fi
echo "graphwiz-ws test set-up: installing ${packages[*]} with apt-get${sudo:+ (via sudo)}" >&2
export DEBIAN_FRONTEND=noninteractive
# Another apt run (a second checkout's npm test) may hold the lock: wait for it rather than fail.
lock=(-o DPkg::Lock::Timeout=600)
if ! $sudo apt-get "${lock[@]}" update -qq >&2 || ! $sudo apt-get "${lock[@]}" install -y -qq --no-install-recommends "${packages[@]}" >&2; then
  fail "apt-get could not install them (see its messages above)"
fi
