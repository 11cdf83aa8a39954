#!/usr/bin/env bash
# Fetches a stock Debian 12 kernel + busybox-static and builds a small initramfs that mounts
# a virtiofs share and runs guest/workload.sh on it (see README.md).
#
# usage: fetch_guest.sh [--refresh] [CACHE_DIR]
#
#   CACHE_DIR defaults to $VFSIM_GUEST_CACHE, else /var/cache/vfsim/linux-guest.
#
#   CACHE_DIR/debs/       the two .deb files (apt-get download); reused when present, so the
#                         script works offline after the first run. --refresh re-resolves
#                         linux-image-amd64 with apt and downloads again if it changed.
#   CACHE_DIR/kernel/     vmlinuz-VERSION (bzImage) and vmlinux-VERSION (ELF, for PVH boots)
#   CACHE_DIR/modules/    the virtiofs modules and modules.load (insmod order)
#   CACHE_DIR/initramfs.cpio.gz   newc cpio, gzip; byte-reproducible for the same inputs
#   CACHE_DIR/build.stamp the checksum of those inputs (the two .debs, guest/, this script):
#                         a run with the same inputs reuses the build (0.3 s, not minutes)
#
# Prints CACHE=..., KERNEL=..., VMLINUX=..., INITRD=... lines on stdout (everything else goes
# to stderr).
# Needs: apt-get (first run only), dpkg-deb, cpio, gzip, depmod (kmod), xz or zstd.
set -euo pipefail

die() { echo "fetch_guest: ERROR: $*" >&2; exit 1; }
log() { echo "fetch_guest: $*" >&2; }

refresh=0
args=()
while (($#)); do
  case $1 in
    --refresh) refresh=1; shift ;;
    -h | --help) sed -n '2,19p' "$0"; exit 0 ;;
    -*) die "unknown option $1" ;;
    *) args+=("$1"); shift ;;
  esac
done
((${#args[@]} <= 1)) || die "usage: fetch_guest.sh [--refresh] [CACHE_DIR]"
((${#args[@]} == 1)) || args=("${VFSIM_GUEST_CACHE:-/var/cache/vfsim/linux-guest}")

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
guest_src=$here/guest
[[ -f $guest_src/init && -f $guest_src/workload.sh ]] || die "missing $guest_src/init or workload.sh"

mkdir -p "${args[0]}"
cache=$(cd "${args[0]}" && pwd)
# One fetch or build at a time per cache: a second caller (CI fetches the guest in the
# background while the test may ask for it) waits, then finds it there.
exec 9>"$cache/.lock"
flock 9
debs=$cache/debs
mkdir -p "$debs"

# The modules virtiofs needs on either transport (their dependencies are added from
# modules.dep below).
readonly WANTED_MODULES=(virtio virtio_ring virtio_pci virtio_mmio fuse virtiofs)

# ---- Tools. Install the missing ones from Debian when we are root, else say what to do.
need_pkgs=()
command -v dpkg-deb >/dev/null || die "dpkg-deb not found (this script expects Debian)"
command -v cpio >/dev/null || need_pkgs+=(cpio)
command -v gzip >/dev/null || need_pkgs+=(gzip)
command -v depmod >/dev/null || need_pkgs+=(kmod)
command -v xz >/dev/null || need_pkgs+=(xz-utils)
command -v zstd >/dev/null || need_pkgs+=(zstd)
if ((${#need_pkgs[@]})); then
  if ((EUID == 0)) && command -v apt-get >/dev/null; then
    log "installing missing tools: ${need_pkgs[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need_pkgs[@]}" >&2 ||
      die "apt-get install ${need_pkgs[*]} failed"
  else
    die "missing tools; run: apt-get install ${need_pkgs[*]}"
  fi
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/fetch_guest.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# ---- The .debs. The resolved kernel package name is remembered in the cache.
download() { # PACKAGE: apt-get download into $debs (as root, without the _apt sandbox warning)
  log "downloading $1"
  (cd "$tmp" && apt-get download -q -o APT::Sandbox::User=root "$1" >&2) ||
    die "apt-get download $1 failed (no network / apt lists? try apt-get update)"
  local f
  for f in "$tmp"/*.deb; do mv -f "$f" "$debs/"; done
}
deb_of() { # PACKAGE -> the newest cached .deb of it (empty if none)
  local f best=""
  for f in "$debs/$1"_*.deb; do [[ -f $f ]] && best=$f; done
  printf '%s' "$best"
}

kpkg=""
[[ -s $cache/kernel-package ]] && kpkg=$(<"$cache/kernel-package")
if ((refresh)) || [[ -z $kpkg || -z $(deb_of "$kpkg") ]]; then
  command -v apt-cache >/dev/null || die "apt-cache not found and no cached kernel package"
  kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
    awk '$1 == "Depends:" && $2 ~ /^linux-image-6\.1\..*-amd64$/ { print $2; exit }')
  [[ -n $kpkg ]] || die "cannot resolve linux-image-amd64 to linux-image-6.1.*-amd64 (apt-get update?)"
  log "linux-image-amd64 -> $kpkg"
  ver=$(apt-cache policy "$kpkg" | awk '$1 == "Candidate:" { print $2 }')
  if [[ -z $(deb_of "$kpkg") || $(dpkg-deb -f "$(deb_of "$kpkg")" Version) != "$ver" ]]; then
    rm -f "$debs/$kpkg"_*.deb
    download "$kpkg"
  fi
  printf '%s\n' "$kpkg" >"$cache/kernel-package"
fi
if ((refresh)) || [[ -z $(deb_of busybox-static) ]]; then
  rm -f "$debs"/busybox-static_*.deb
  download busybox-static
fi
kdeb=$(deb_of "$kpkg") bdeb=$(deb_of busybox-static)
[[ -n $kdeb && -n $bdeb ]] || die "downloads missing in $debs"
log "kernel deb: $(basename "$kdeb")"
log "busybox deb: $(basename "$bdeb")"

# What follows (unpacking the kernel package, depmod, the initramfs) takes minutes on a
# slow machine and its outputs depend only on these inputs: a build from the same ones is
# reused. The stamp is removed before a build and written after it, so a build cut short
# is never taken for a whole one.
stamp=$cache/build.stamp
inputs=$({ sha256sum "$kdeb" "$bdeb" "$guest_src/init" "$guest_src/workload.sh" \
  "$(readlink -f "${BASH_SOURCE[0]}")" | cut -d' ' -f1; echo "root=$((EUID == 0))"; } | sha256sum)
kver=${kpkg#linux-image-}
print_outputs() {
  echo "CACHE=$cache"
  echo "KERNEL=$cache/kernel/vmlinuz-$kver"
  [[ -s $cache/kernel/vmlinux-$kver ]] && echo "VMLINUX=$cache/kernel/vmlinux-$kver"
  echo "INITRD=$cache/initramfs.cpio.gz"
}
if [[ $(cat "$stamp" 2>/dev/null) == "$inputs" && -s $cache/kernel/vmlinuz-$kver &&
  -s $cache/initramfs.cpio.gz && -s $cache/modules/modules.load ]]; then
  log "the guest built from the same inputs is in $cache"
  print_outputs
  exit 0
fi
rm -f "$stamp"

# ---- Unpack.
dpkg-deb -x "$kdeb" "$tmp/k"
dpkg-deb -x "$bdeb" "$tmp/b"
moddir=$tmp/k/lib/modules/$kver
[[ -d $moddir ]] || die "$kdeb has no lib/modules/$kver"
[[ -f $tmp/k/boot/vmlinuz-$kver ]] || die "$kdeb has no boot/vmlinuz-$kver"
busybox=$tmp/b/bin/busybox
[[ -x $busybox ]] || die "$bdeb has no bin/busybox"

mkdir -p "$cache/kernel"
install -m 0644 "$tmp/k/boot/vmlinuz-$kver" "$cache/kernel/vmlinuz-$kver"
install -m 0644 "$tmp/k/boot/config-$kver" "$cache/kernel/config-$kver"

# ---- vmlinux (ELF) from the bzImage, as scripts/extract-vmlinux does: find a compressed
# payload's magic, decompress from there, keep the first result that is an ELF file.
extract_vmlinux() { # BZIMAGE OUT
  local img=$1 out=$2 magic tool off
  for pair in 'fd377a585a00:xz -dc' '28b52ffd:zstd -dcq' '1f8b0800:gzip -dc'; do
    magic=${pair%%:*} tool=${pair#*:}
    command -v "${tool%% *}" >/dev/null || continue
    for off in $(LC_ALL=C grep -obUaP "$(sed 's/../\\x&/g' <<<"$magic")" "$img" | cut -d: -f1); do
      tail -c +$((off + 1)) "$img" | $tool >"$out.tmp" 2>/dev/null || true
      if [[ $(head -c 4 "$out.tmp" | od -An -tx1 | tr -d ' \n') == 7f454c46 ]]; then
        mv "$out.tmp" "$out"
        return 0
      fi
    done
  done
  rm -f "$out.tmp"
  return 1
}
vmlinux=$cache/kernel/vmlinux-$kver
if [[ ! -s $vmlinux ]]; then
  extract_vmlinux "$cache/kernel/vmlinuz-$kver" "$vmlinux" ||
    log "WARNING: could not extract an ELF vmlinux from the bzImage"
fi

# ---- Modules: modules.dep (the .deb ships none: depmod makes it) and the load order.
depmod -b "$tmp/k" "$kver" || die "depmod failed"
declare -A path_of=() deps_of=() loaded=()
while IFS= read -r line; do
  mod=${line%%:*} rest=${line#*:}
  name=$(basename "$mod"); name=${name%%.ko*}
  path_of[$name]=$mod
  deps=()
  for d in $rest; do d=$(basename "$d"); deps+=("${d%%.ko*}"); done
  deps_of[$name]="${deps[*]-}"
done <"$moddir/modules.dep"
order=()
visit() { # NAME: dependencies first (post-order), each once
  local m=$1 d
  [[ -n ${loaded[$m]-} ]] && return 0
  [[ -n ${path_of[$m]-} ]] || {
    grep -q "/$m\.ko" "$moddir/modules.builtin" && return 0
    die "module $m is neither in modules.dep nor built in"
  }
  loaded[$m]=1
  for d in ${deps_of[$m]}; do visit "$d"; done
  order+=("$m")
}
for m in "${WANTED_MODULES[@]}"; do visit "$m"; done
rm -rf "$cache/modules"
mkdir -p "$cache/modules"
for m in "${order[@]}"; do
  src=$moddir/${path_of[$m]}
  case $src in
    *.ko) cp "$src" "$cache/modules/$m.ko" ;;
    *.ko.xz) xz -dc "$src" >"$cache/modules/$m.ko" ;;
    *.ko.zst) zstd -dcq "$src" >"$cache/modules/$m.ko" ;;
    *) die "unexpected module file $src" ;;
  esac
done
printf '%s\n' "${order[@]}" >"$cache/modules/modules.load"
log "modules (load order): ${order[*]}"

# ---- The initramfs tree.
root=$tmp/root
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,mnt,tmp,run,lib/modules}
install -m 0755 "$busybox" "$root/bin/busybox"
# Applet links, made from the static busybox itself (it runs on the build host too).
"$busybox" --list-full | while IFS= read -r applet; do
  [[ $applet == bin/busybox ]] && continue
  case $applet in
    bin/*) target=busybox ;; sbin/*) target=../bin/busybox ;; usr/*) target=../../bin/busybox ;;
    *) continue ;;
  esac
  [[ -e $root/$applet || -L $root/$applet ]] || ln -s "$target" "$root/$applet"
done
cp "$cache/modules/"*.ko "$cache/modules/modules.load" "$root/lib/modules/"
install -m 0755 "$guest_src/init" "$root/init"
install -m 0755 "$guest_src/workload.sh" "$root/workload.sh"
printf '%s\n' "$kver" >"$root/lib/modules/kernel-version"
# A console node, so that the kernel can give /init its stdin/stdout before devtmpfs is up.
if ((EUID == 0)); then
  mknod -m 0600 "$root/dev/console" c 5 1
else
  log "not root: no /dev/console node in the initramfs (/init reopens it from devtmpfs)"
fi

# Reproducible archive: fixed mtimes and owners, sorted names, no gzip timestamp.
find "$root" -exec touch -h -d @0 {} +
out=$cache/initramfs.cpio.gz
(cd "$root" && find . -mindepth 1 -printf '%P\n' | LC_ALL=C sort |
  cpio --quiet -o -H newc --reproducible -R 0:0) | gzip -9 -n >"$out.tmp"
mv -f "$out.tmp" "$out"
log "initramfs: $(stat -c %s "$out") bytes, sha256 $(sha256sum "$out" | cut -c1-16)..."

printf '%s\n' "$inputs" >"$stamp"
print_outputs
