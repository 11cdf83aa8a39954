#!/usr/bin/env bash
# Links freestanding archives into an ELF with nothing else: no libc, no libstdc++,
# no start files. Every object of every archive is linked (--whole-archive), so any
# call into the C library, threads or I/O is an undefined symbol and fails the link.
# Only libgcc is allowed: it is the compiler's own freestanding support (128-bit division).
#
# usage: link_freestanding.sh OUT ENTRY [LINKER_SCRIPT] -- ARCHIVE...
set -euo pipefail
out=$1 entry=$2
shift 2
script=()
if [[ $1 != -- ]]; then script=(-T "$1"); shift; fi
shift  # --
libgcc=$(gcc -print-libgcc-file-name)
exec ld -static -nostdlib --no-undefined --fatal-warnings -z noexecstack \
  -e "$entry" "${script[@]}" -o "$out" \
  --whole-archive "$@" --no-whole-archive "$libgcc"
