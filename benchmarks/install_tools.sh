#!/usr/bin/env bash
# Tools the benchmarks compare against: the zstd CLI (`zstd -dc` is the dump-filter
# baseline).  Installed from Debian packages when root; otherwise the filter
# benchmark says it fell back to python-zstandard.
set -euo pipefail
if ! command -v zstd >/dev/null; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends zstd >/dev/null \
      || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends zstd >/dev/null; }
  else
    echo "install_tools.sh: zstd CLI missing (apt-get install zstd); the filter benchmark falls back to python-zstandard" >&2
  fi
fi
