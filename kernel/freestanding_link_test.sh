#!/usr/bin/env bash
# Checks the freestanding link of driver/ and vfs/, and that the link really rejects libc:
# an object that calls printf, linked the same way, must fail.
set -euo pipefail
image=$1 linker=$2
fail() { echo "FAIL: $*"; exit 1; }

[[ -s $image ]] || fail "no image at $image"
file_type=$(od -An -c -N4 "$image" | tr -d ' ')
[[ $file_type == 177ELF ]] || fail "$image is not an ELF file"
undefined=$(nm -u "$image" || true)
[[ -z $undefined ]] || fail "undefined symbols in the freestanding image: $undefined"
# Keep nm's output: `nm | grep -q` under pipefail fails when grep stops reading early.
symbols=$(nm "$image")
demangled=$(nm -C "$image")
for forbidden in printf malloc pthread_create fopen; do
  if grep -qw "$forbidden" <<<"$symbols"; then fail "$forbidden is linked in"; fi
done
grep -q 'operator new' <<<"$demangled" || fail "runtime's operator new not linked in"
echo "PASS: $image links freestanding with $(wc -l <<<"$symbols") symbols, none undefined"

# Negative control: the same link must reject a call into libc.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/bad.cc" <<'SRC'
extern "C" int printf(const char*, ...);
extern "C" void bad_entry() { printf("hello"); }
SRC
g++ -ffreestanding -fno-exceptions -fno-rtti -fno-pic -c "$work/bad.cc" -o "$work/bad.o"
ar rcs "$work/libbad.a" "$work/bad.o"
if "$linker" "$work/bad.elf" bad_entry -- "$work/libbad.a" 2>"$work/err"; then
  fail "a call to printf linked freestanding"
fi
grep -q "undefined reference to .printf" "$work/err" || fail "unexpected link error: $(cat "$work/err")"
echo "PASS: a printf call fails the freestanding link"
