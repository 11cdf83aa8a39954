#!/bin/sh
# File-system workload for a virtiofs mount (busybox sh). usage: workload.sh MOUNTPOINT
#
# Works in MOUNTPOINT/workload (removed first, so every run starts fresh and leaves the same
# final tree: names, types, sizes, modes and contents are deterministic; timestamps are not
# looked at). Every file's expected sha256 is computed independently of the share (from the
# generator, or from a reference copy on the guest's tmpfs) and checked after dropping the
# guest's caches, so that the data is really read back from the host. The expectations are
# left on the share as workload/SHA256SUMS, which the host can check with sha256sum -c.
#
# On failure: prints "workload: FAIL: reason", writes the reason to $WORKLOAD_REASON_FILE
# (default /run/workload.reason) and exits 1.
set -u
[ $# = 1 ] || { echo "usage: workload.sh MOUNTPOINT" >&2; exit 2; }
mnt=$1
W=$mnt/workload
REASON=${WORKLOAD_REASON_FILE:-/run/workload.reason}
REF=${TMPDIR:-/tmp}/workload-ref
umask 022

fail() { echo "$*" >"$REASON"; echo "workload: FAIL: $*"; exit 1; }
step() { echo "workload: [$(cut -d' ' -f1 /proc/uptime)s] $*"; }
eq() { [ "$2" = "$3" ] || fail "$1: got '$2', expected '$3'"; }
run() { "$@" || fail "command failed: $*"; }
dropc() { sync; [ -n "${WORKLOAD_NO_DROP_CACHES:-}" ] || echo 3 >/proc/sys/vm/drop_caches || fail "cannot drop caches"; }
sha() { sha256sum | cut -d' ' -f1; }
shaf() { sha256sum <"$1" | cut -d' ' -f1; }
size() { stat -c %s "$1" 2>&1; }
mode() { stat -c %a "$1" 2>&1; }
nlink() { stat -c %h "$1" 2>&1; }
inode() { stat -c %i "$1" 2>&1; }
absent() { [ ! -e "$1" ] && [ ! -L "$1" ] || fail "$1 still exists"; }
# expect REL HASH: the final content of $W/REL (checked by check_all, written to SHA256SUMS)
expect() { echo "$2  $1" >>"$REF/sums"; }

# gen SEED SIZE: SIZE bytes of deterministic text, 64-byte lines; gen S N is a prefix of
# gen S M for N < M.
gen() {
  awk -v seed="$1" -v size="$2" 'BEGIN {
    abc = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    x = (seed * 7919 + 17) % 2147483647; out = 0; n = 0
    while (out < size) {
      x = (x * 16807) % 2147483647
      line = sprintf("%08d:%010d:%s\n", n, x, substr(abc, 1 + n % 20, 43))
      n++
      if (out + 64 > size) line = substr(line, 1, size - out)
      printf "%s", line
      out += length(line)
    }
  }'
}
# gen_big SEED: 8 MiB, 128 chunks of 64 KiB, each "chunk NNNN\n" + a prefix of one block.
gen_big() {
  [ -s "$REF/block.$1" ] || gen "$1" 65536 >"$REF/block.$1"
  i=0
  while [ $i -lt 128 ]; do
    printf 'chunk %04d\n' $i
    head -c 65525 "$REF/block.$1"
    i=$((i + 1))
  done
}
check_all() { # every expected file, read back from the host
  dropc
  out=$(cd "$W" && sha256sum -c "$REF/sums" 2>&1) ||
    fail "checksum mismatch: $(echo "$out" | grep -v ': OK$' | head -n 3 | tr '\n' ' ')"
}

step "start on $mnt ($(grep " $mnt " /proc/mounts | cut -d' ' -f1,3,4))"
rm -rf "$REF"
mkdir -p "$REF" || fail "cannot create $REF"
: >"$REF/sums"
if [ -e "$W" ]; then run rm -rf "$W"; fi
absent "$W"
run mkdir "$W"
eq "mode of $W" "$(mode "$W")" 755

# ---- 1. Files of several sizes, re-read after dropping caches.
step "files of several sizes"
run mkdir "$W/files"
for spec in 0:1 1:2 4095:3 4096:4 65537:5; do
  sz=${spec%%:*} seed=${spec#*:}
  gen "$seed" "$sz" >"$W/files/size-$sz" || fail "writing files/size-$sz"
  expect "files/size-$sz" "$(gen "$seed" "$sz" | sha)"
done
# Written through the share by the generator itself (its small and odd-sized writes are part
# of the test); the expectations come from one more generation into tmpfs.
gen_big 6 >"$W/files/size-8MiB" || fail "writing files/size-8MiB"
gen_big 6 >"$REF/big" || fail "writing $REF/big"
big_sha=$(shaf "$REF/big")
expect files/size-8MiB "$big_sha"
check_all
for spec in 0 1 4095 4096 65537 8388608:8MiB; do
  sz=${spec%%:*} name=${spec#*:}
  eq "size of files/size-$name" "$(size "$W/files/size-$name")" "$sz"
done
# A copy (read + write through the share), compared with md5sum too.
run cp "$W/files/size-8MiB" "$W/files/copy-8MiB"
dropc
eq "md5 of the 8 MiB copy" "$(md5sum <"$W/files/copy-8MiB" | cut -d' ' -f1)" \
  "$(md5sum <"$REF/big" | cut -d' ' -f1)"
expect files/copy-8MiB "$big_sha"
run rm "$REF/big"

# ---- 2. Partial writes: overwrite across a page boundary, a hole, appends. Each is done
# on a tmpfs reference copy too.
step "partial writes"
gen 7 65537 >"$W/files/patched"
gen 7 65537 >"$REF/patched"
for f in "$W/files/patched" "$REF/patched"; do
  printf 'PATCHED-AT-4090' | dd of="$f" bs=1 seek=4090 conv=notrunc 2>/dev/null ||
    fail "dd into $f"
done
expect files/patched "$(shaf "$REF/patched")"
for f in "$W/files/holey" "$REF/holey"; do
  dd if="$REF/block.6" of="$f" bs=4096 seek=3 count=1 2>/dev/null || fail "dd into $f"
done
eq "size of files/holey" "$(size "$W/files/holey")" 16384
expect files/holey "$(shaf "$REF/holey")"
gen 8 100 >"$W/files/appended"
gen 9 5000 >>"$W/files/appended"
echo "last line" >>"$W/files/appended"
expect files/appended "$({ gen 8 100; gen 9 5000; echo "last line"; } | sha)"
check_all

# ---- 3. A 2,000-entry directory (contents mirrored on tmpfs for the checksums).
step "2000-entry directory"
run mkdir "$W/many" "$REF/many"
i=0
while [ $i -lt 2000 ]; do
  echo "entry $i" >"$W/many/e$i" || fail "creating many/e$i"
  echo "entry $i" >"$REF/many/e$i"
  i=$((i + 1))
done
eq "ls many | wc -l" "$(ls "$W/many" | wc -l)" 2000
eq "ls -l many | wc -l" "$(ls -l "$W/many" | wc -l)" 2001
eq "find many -type f | wc -l" "$(find "$W/many" -type f | wc -l)" 2000
dropc
eq "many/e1234" "$(cat "$W/many/e1234")" "entry 1234"
# Remove half (e1000..e1999) by glob, check, recreate them.
rm "$W/many/"e1??? || fail "rm many/e1???"
eq "ls many | wc -l after rm" "$(ls "$W/many" | wc -l)" 1000
absent "$W/many/e1999"
i=1000
while [ $i -lt 2000 ]; do
  echo "entry $i" >"$W/many/e$i" || fail "recreating many/e$i"
  i=$((i + 1))
done
run mv "$W/many/e0" "$W/many/renamed-e0"
run mv "$REF/many/e0" "$REF/many/renamed-e0"
eq "ls many | wc -l at the end" "$(ls "$W/many" | wc -l)" 2000
dropc
i=1
while [ $i -lt 2000 ]; do
  read -r line <"$W/many/e$i" || fail "reading many/e$i"
  [ "$line" = "entry $i" ] || fail "many/e$i holds '$line'"
  i=$((i + 1))
done
(cd "$REF" && sha256sum many/*) >>"$REF/sums" || fail "sha256sum of the reference many/"

# ---- 4. Renames of files and directories.
step "renames"
run mkdir -p "$W/ren/a/sub" "$W/ren/dest"
gen 10 5000 >"$W/ren/a/sub/file"
echo one >"$W/ren/one"
echo two >"$W/ren/two"
run mv "$W/ren/one" "$W/ren/one-renamed"
absent "$W/ren/one"
eq "ren/one-renamed" "$(cat "$W/ren/one-renamed")" one
run mv "$W/ren/two" "$W/ren/one-renamed" # replaces an existing file
absent "$W/ren/two"
eq "ren/one-renamed after replace" "$(cat "$W/ren/one-renamed")" two
run mv "$W/ren/a" "$W/ren/b" # a directory with contents
absent "$W/ren/a"
run mv "$W/ren/b" "$W/ren/dest/b" # into another directory
absent "$W/ren/b"
[ -d "$W/ren/dest/b/sub" ] || fail "ren/dest/b/sub is not a directory"
run mv "$W/ren/dest/b/sub/file" "$W/ren/moved-file" # a file across directories
absent "$W/ren/dest/b/sub/file"
run mkdir "$W/ren/empty-src"
run mv "$W/ren/empty-src" "$W/ren/empty-dst"
absent "$W/ren/empty-src"
[ -d "$W/ren/empty-dst" ] || fail "ren/empty-dst missing"
expect ren/one-renamed "$(echo two | sha)"
expect ren/moved-file "$(gen 10 5000 | sha)"
eq "ls ren" "$(ls "$W/ren" | tr '\n' ' ')" "dest empty-dst moved-file one-renamed "

# ---- 5. Hard links.
step "hard links"
run mkdir -p "$W/links/sub"
gen 11 3000 >"$W/links/data"
eq "nlink data" "$(nlink "$W/links/data")" 1
run ln "$W/links/data" "$W/links/hard1"
eq "nlink data after ln" "$(nlink "$W/links/data")" 2
run ln "$W/links/data" "$W/links/sub/hard2"
eq "nlink data after 2nd ln" "$(nlink "$W/links/data")" 3
eq "inode of hard2" "$(inode "$W/links/sub/hard2")" "$(inode "$W/links/data")"
echo appended >>"$W/links/hard1"
eq "data via its other name" "$(shaf "$W/links/data")" "$({ gen 11 3000; echo appended; } | sha)"
run rm "$W/links/data"
dropc
eq "nlink hard1" "$(nlink "$W/links/hard1")" 2
eq "nlink sub/hard2" "$(nlink "$W/links/sub/hard2")" 2
expect links/hard1 "$({ gen 11 3000; echo appended; } | sha)"
expect links/sub/hard2 "$({ gen 11 3000; echo appended; } | sha)"

# ---- 6. Symbolic links.
step "symbolic links"
run ln -s hard1 "$W/links/sym-file"
run ln -s sub "$W/links/sym-dir"
run ln -s ../files/size-4096 "$W/links/sym-rel"
run ln -s /no/such/absolute/target "$W/links/sym-abs"
run ln -s does-not-exist "$W/links/dangling"
long=$(printf 'long-target-component-%03d/' 1 2 3 4 5 6 7 8 9 10)end
run ln -s "$long" "$W/links/sym-long"
run mv "$W/links/sym-file" "$W/links/sym-file-renamed"
dropc
eq "readlink sym-file-renamed" "$(readlink "$W/links/sym-file-renamed")" hard1
eq "readlink sym-dir" "$(readlink "$W/links/sym-dir")" sub
eq "readlink sym-rel" "$(readlink "$W/links/sym-rel")" ../files/size-4096
eq "readlink sym-abs" "$(readlink "$W/links/sym-abs")" /no/such/absolute/target
eq "readlink sym-long" "$(readlink "$W/links/sym-long")" "$long"
eq "readlink dangling" "$(readlink "$W/links/dangling")" does-not-exist
[ -L "$W/links/dangling" ] && [ ! -e "$W/links/dangling" ] || fail "dangling is not a dangling link"
[ -L "$W/links/sym-dir" ] && [ -d "$W/links/sym-dir" ] || fail "sym-dir is not a link to a directory"
eq "through sym-file-renamed" "$(shaf "$W/links/sym-file-renamed")" "$({ gen 11 3000; echo appended; } | sha)"
eq "through sym-dir" "$(shaf "$W/links/sym-dir/hard2")" "$({ gen 11 3000; echo appended; } | sha)"
eq "through sym-rel" "$(shaf "$W/links/sym-rel")" "$(gen 4 4096 | sha)"
eq "nlink of hard1 unchanged by symlinks" "$(nlink "$W/links/hard1")" 2

# ---- 7. chmod.
step "chmod"
run mkdir "$W/modes"
for m in 600 640 755 444 0 4755 2755 1644; do
  echo "mode $m" >"$W/modes/f$m"
  run chmod "$m" "$W/modes/f$m"
  eq "mode of modes/f$m" "$(mode "$W/modes/f$m")" "$m"
  expect "modes/f$m" "$(echo "mode $m" | sha)"
done
for m in 700 1777 2755 555; do
  run mkdir "$W/modes/d$m"
  echo inside >"$W/modes/d$m/file"
  run chmod "$m" "$W/modes/d$m"
  eq "mode of modes/d$m" "$(mode "$W/modes/d$m")" "$m"
  expect "modes/d$m/file" "$(echo inside | sha)"
done
echo symbolic >"$W/modes/fsym"
run chmod 644 "$W/modes/fsym"
run chmod u+x,g+w,o-r "$W/modes/fsym"
expect modes/fsym "$(echo symbolic | sha)"
dropc
for m in 600 640 755 444 0 4755 2755 1644; do
  eq "mode of modes/f$m (re-read)" "$(mode "$W/modes/f$m")" "$m"
done
for m in 700 1777 2755 555; do
  eq "mode of modes/d$m (re-read)" "$(mode "$W/modes/d$m")" "$m"
done
eq "mode of modes/fsym" "$(mode "$W/modes/fsym")" 760

# ---- 8. truncate.
step "truncate"
run mkdir "$W/trunc"
gen 12 65537 >"$W/trunc/shrink"
run truncate -s 1000 "$W/trunc/shrink"
gen 13 1000 >"$W/trunc/grow"
run truncate -s 10000 "$W/trunc/grow"
gen 14 4096 >"$W/trunc/to-zero"
run truncate -s 0 "$W/trunc/to-zero"
run truncate -s 1048576 "$W/trunc/new-sparse"
gen 15 8192 >"$W/trunc/o-trunc"
gen 16 10 >"$W/trunc/o-trunc" # open with O_TRUNC
dropc
eq "size trunc/shrink" "$(size "$W/trunc/shrink")" 1000
eq "size trunc/grow" "$(size "$W/trunc/grow")" 10000
eq "size trunc/to-zero" "$(size "$W/trunc/to-zero")" 0
eq "size trunc/new-sparse" "$(size "$W/trunc/new-sparse")" 1048576
eq "size trunc/o-trunc" "$(size "$W/trunc/o-trunc")" 10
expect trunc/shrink "$(gen 12 1000 | sha)"
expect trunc/grow "$({ gen 13 1000; head -c 9000 /dev/zero; } | sha)"
expect trunc/to-zero "$(: | sha)"
expect trunc/new-sparse "$(head -c 1048576 /dev/zero | sha)"
expect trunc/o-trunc "$(gen 16 10 | sha)"

# ---- 9. rm -r of a subtree (and rmdir).
step "rm -r"
run mkdir -p "$W/doomed/a/b/c" "$W/doomed/x"
gen 17 70000 >"$W/doomed/a/b/c/big"
run ln "$W/doomed/a/b/c/big" "$W/doomed/x/hardlink"
run ln -s ../a/b/c/big "$W/doomed/x/symlink"
i=0
while [ $i -lt 50 ]; do echo "$i" >"$W/doomed/x/f$i"; i=$((i + 1)); done
run chmod 555 "$W/doomed/a/b"
run rm -r "$W/doomed"
absent "$W/doomed"
run mkdir "$W/empty-gone"
run rmdir "$W/empty-gone"
absent "$W/empty-gone"

# ---- 10. The whole tree, read back.
step "final checks"
check_all
eq "top level" "$(ls "$W" | tr '\n' ' ')" "files links many modes ren trunc "
lines=$(ls -lR "$W" | wc -l)
entries=$(find "$W" | wc -l)
regular=$(find "$W" -type f | wc -l)
symlinks=$(find "$W" -type l | wc -l)
dirs=$(find "$W" -type d | wc -l)
step "ls -lR: $lines lines; find: $entries entries, $regular files, $symlinks symlinks, $dirs directories"
eq "number of regular files" "$regular" "$(wc -l <"$REF/sums")"
eq "number of symlinks" "$symlinks" 6
eq "number of directories" "$dirs" 16
sort -k 2 "$REF/sums" >"$W/SHA256SUMS" || fail "writing SHA256SUMS"
dropc
(cd "$W" && sha256sum -c -s SHA256SUMS) || fail "sha256sum -c SHA256SUMS on the share failed"
rm -rf "$REF"
step "done"
exit 0
