#!/usr/bin/env bash
# Install the prerequisites of the paper job and the tests from Debian/Ubuntu
# packages: R and the R libraries vsdstats needs (CRAN is not needed), poppler and
# TeX Live.  Idempotent: only missing packages are installed.  When not root or not
# on Debian/Ubuntu, print the exact commands and exit non-zero.  Run by tox (-e paper,
# the tests) and .ci/run, as root.
set -euo pipefail

# R itself, plus the headers and compiler that building rpy2 (pip install
# 'vsdstats[r]') needs; the R libraries come from packages.txt beside this script.
# poppler-utils: pdftotext, with which tests/test_figures.py reads every figure back
# (a test prerequisite, installed here so CI has it; it fails there when missing).
# texlive-latex-base texlive-latex-recommended lmodern: pdflatex, booktabs and the
# Latin Modern fonts, for `vsdstats paper --pdf` (tox -e paper -- --pdf) and the test
# that compiles the manuscript (tests/test_paper_pdf.py; it fails in CI when missing).
BASE_DEB_PACKAGES=(r-base-core r-base-dev poppler-utils
  texlive-latex-base texlive-latex-recommended lmodern)
PACKAGES_TXT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/packages.txt"
if [ ! -r "$PACKAGES_TXT" ]; then
  echo "install_r.sh: cannot read $PACKAGES_TXT" >&2
  exit 1
fi

DEB_PACKAGES=("${BASE_DEB_PACKAGES[@]}")
R_LIBS_NEEDED=()  # R library names that must load once the packages are in
while read -r deb lib _rest; do
  case "$deb" in '' | '#'*) continue ;; esac
  if [ -z "${lib:-}" ] || [ "${lib:0:1}" = "#" ]; then
    echo "install_r.sh: $PACKAGES_TXT: expected 'DEBIAN-PACKAGE R-LIBRARY', got '$deb'" >&2
    exit 1
  fi
  case " ${DEB_PACKAGES[*]} " in *" $deb "*) ;; *) DEB_PACKAGES+=("$deb") ;; esac
  R_LIBS_NEEDED+=("$lib")
done < <(cat "$PACKAGES_TXT"; echo)

missing=()
for p in "${DEB_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  is_debian=false
  if [ -r /etc/os-release ] && grep -qiE '^(ID|ID_LIKE)=.*(debian|ubuntu)' /etc/os-release; then
    is_debian=true
  fi
  if [ "$(id -u)" -eq 0 ] && $is_debian && command -v apt-get >/dev/null; then
    echo "install_r.sh: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "install_r.sh: missing Debian packages: ${missing[*]}" >&2
    echo "Run these commands as root on Debian/Ubuntu, then retry:" >&2
    echo "  apt-get update" >&2
    echo "  apt-get install -y --no-install-recommends ${missing[*]}" >&2
    echo "(elsewhere install R >= 4.2 and the R packages: ${R_LIBS_NEEDED[*]})" >&2
    exit 1
  fi
fi

libs=$(IFS=,; echo "${R_LIBS_NEEDED[*]}")
Rscript --vanilla -e "
  need <- strsplit('$libs', ',')[[1]]
  bad <- need[!vapply(need, requireNamespace, logical(1), quietly = TRUE)]
  if (length(bad)) { message('install_r.sh: R cannot load: ', paste(bad, collapse = ', ')); quit(status = 1) }
  cat('install_r.sh: ', R.version.string, ' with ', paste(need, collapse = ', '), '\n', sep = '')
"
