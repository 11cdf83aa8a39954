# Sourced by boot/'s scripts: where Debian's virtiofsd is (package qemu-system-common,
# installed by tools/setup.sh), the reference back-end; the environment's VIRTIOFSD
# overrides it.
readonly VIRTIOFSD=${VIRTIOFSD:-/usr/lib/qemu/virtiofsd}
