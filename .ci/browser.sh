#!/usr/bin/env bash
# Debian's Chromium and CJK fonts for the browser tests (Playwright's own download cannot work here).
set -uo pipefail
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
dpkg -s fonts-noto-cjk >/dev/null 2>&1 || missing+=(fonts-noto-cjk)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]}" >&2
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null; } || {
    echo "could not install ${missing[*]} (needed by the browser tests)" >&2
    exit 2
  }
fi
