#!/usr/bin/env bash
# Builds the function-start corpus: Debian bookworm's sources of coreutils, grep, sed and
# hello (or the source packages in $PACKAGES), compiled here at one optimisation level
# (default -O2) with the machine's gcc, unstripped. Their x86-64 ELF programs are copied into OUT (default
# ~/.cache/scrutiny/binaries/O2) as PACKAGE-PROGRAM; set SCRUTINY_BINARIES to OUT to use it.
# Needs root once, to add Debian's source archive beside the existing sources (not instead of
# them); about 6 minutes on 2 cores.
# Packages whose build fails part-way (manuals that need makeinfo) give the programs they built.
#   usage: benchmarks/build_binaries.sh [-O0|-O1|-O2|-O3] [OUT]
set -euo pipefail
level="${1:--O2}"
out="${2:-${XDG_CACHE_HOME:-$HOME/.cache}/scrutiny/binaries/${level#-}}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
if ! apt-get source --download-only -q -s hello >/dev/null 2>&1; then
  printf 'Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: bookworm\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
    > /etc/apt/sources.list.d/scrutiny-src.sources
  apt-get update -q >/dev/null
fi
mkdir -p "$out"
cd "$work"
for package in ${PACKAGES:-coreutils grep sed hello}; do
  echo "building $package at $level"
  apt-get source -q "$package" >/dev/null 2>&1
  src="$(find . -maxdepth 1 -type d -name "$package-*" | head -1)"
  (
    cd "$src"
    FORCE_UNSAFE_CONFIGURE=1 ./configure -q CFLAGS="$level" >/dev/null 2>&1
    # -k: past a manual that needs makeinfo, on to the programs
    make -s -k -j"$(nproc)" >/dev/null 2>&1 || true
  )
  # the programs, not gnulib's test helpers
  find "$src" -path '*/gnulib-tests' -prune -o -type f -perm -u+x -print0 | while IFS= read -r -d '' f; do
    if head -c 4 "$f" | grep -q 'ELF' && readelf -h "$f" 2>/dev/null | grep -q 'X86-64' \
      && readelf -S "$f" | grep -q '\.symtab' && readelf -h "$f" | grep -q 'DYN\|EXEC'; then
      cp "$f" "$out/$package-$(basename "$f")"
    fi
  done
done
echo "$(ls "$out" | wc -l) programs in $out"
