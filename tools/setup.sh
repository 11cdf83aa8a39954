#!/usr/bin/env bash
# Installs every Debian package the project needs. Idempotent: when everything is present
# it installs nothing and touches no package index. Run as root on Debian 12.
set -euo pipefail

packages=(
  bazel-bootstrap      # Bazel 4.2.3, the build
  g++                  # C++20 compiler
  libabsl-dev          # Abseil: Status, flags, strings (sim/, tools)
  libgtest-dev         # GoogleTest
  libgmock-dev         # GoogleMock
  googletest           # GoogleTest sources (kept for completeness of the toolchain)
  libbenchmark-dev     # Google Benchmark
  libfuse3-dev         # libfuse 3: the device's FUSE protocol handling
  fuse3                # fusermount3, for the kernel FUSE mount benchmark back end
  gnuplot-nox          # the benchmark report's PNG chart (bench/report.py)
  libedit-dev          # line editing and history for the interactive shell
  pkg-config
  python3              # .ci/run counts test cases from the JUnit XML Bazel writes
  clang-format
  qemu-system-x86      # boot/: QEMU (TCG) and, via qemu-system-common, /usr/lib/qemu/virtiofsd
  autoconf             # tools/pjdfstest/run.sh builds pjdfstest as its README says
  automake
  perl                 # prove, which runs pjdfstest's .t scripts
  cpio                 # boot/linux_guest/: the stock Linux guest's initramfs
  kmod                 #   depmod, for its modules
  xz-utils             #   unpacking Debian's kernel package
  zstd
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
