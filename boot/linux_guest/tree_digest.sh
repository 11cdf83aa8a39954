#!/usr/bin/env bash
# Prints a deterministic listing of a directory tree, for comparing two share directories
# after runs (e.g. `diff <(tree_digest.sh A) <(tree_digest.sh B)`).
#
# usage: tree_digest.sh DIR
#
# One line per entry below DIR (DIR itself is left out), sorted by path (C locale),
# tab-separated:
#   PATH  TYPE  SIZE  MODE  NLINK  CONTENT
#   TYPE     f regular file, d directory, l symlink, p fifo, s socket, c/b device
#   SIZE     bytes for files and symlinks (the target's length); "-" for directories,
#            whose size is file-system noise
#   MODE     octal permission bits including setuid/setgid/sticky (stat %a)
#   NLINK    hard-link count for regular files; "-" otherwise
#   CONTENT  sha256 of a regular file, "-> TARGET" for a symlink, "-" otherwise
# Timestamps, owners and inode numbers are left out. Names containing a tab or a newline
# are refused (they would make the listing ambiguous).
set -euo pipefail

die() { echo "tree_digest: ERROR: $*" >&2; exit 1; }
(($# == 1)) || die "usage: tree_digest.sh DIR"
[[ -d $1 ]] || die "$1 is not a directory"
cd "$1"
export LC_ALL=C

bad=$(find . -mindepth 1 \( -name $'*\t*' -o -name $'*\n*' \) -print -quit)
[[ -z $bad ]] || die "a name contains a tab or a newline: $bad"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/tree_digest.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# sha256 of every regular file: "HASH  ./PATH" (sha256sum escapes names with a backslash;
# those lines start with a backslash and are handled below).
find . -mindepth 1 -type f -print0 | xargs -0 -r sha256sum -- >"$tmp/sums"
find . -mindepth 1 -printf '%P\t%y\t%s\t%m\t%n\t%l\n' >"$tmp/entries"

awk -F'\t' -v OFS='\t' '
  FNR == NR {
    line = $0
    esc = substr(line, 1, 1) == "\\"
    if (esc) line = substr(line, 2)
    hash = substr(line, 1, 64); path = substr(line, 67)   # "HASH  ./PATH"
    sub(/^\.\//, "", path)
    if (esc) { gsub(/\\\\/, "\\", path) }
    sum[path] = hash
    next
  }
  {
    path = $1; type = $2; size = $3; mode = $4; nlink = $5; target = $6
    content = "-"
    if (type == "f") {
      if (!(path in sum)) { print "tree_digest: no checksum for " path > "/dev/stderr"; exit 1 }
      content = sum[path]
    } else {
      nlink = "-"
      if (type == "l") content = "-> " target
      else size = "-"
    }
    print path, type, size, mode, nlink, content
  }' "$tmp/sums" "$tmp/entries" | sort -t $'\t' -k1,1
