// main() of pjdfstest's command on the simulated machine: runs the suite's own
// main(), from the shared library PJDFSTEST_VFS_SUITE (tools/pjdfstest/run.sh
// builds it from pjdfstest.c, main renamed pjdfstest_suite_main and each
// system call renamed pjd_<call>, served by vfs_syscalls.cc). The machine was
// booted before this runs (vfs_syscalls.cc).
//
// The suite's code is loaded rather than linked in because Bazel builds this
// binary and the suite is built apart, with autotools, only where it exists.
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char** argv) {
  const char* suite = getenv("PJDFSTEST_VFS_SUITE");
  if (suite == nullptr) {
    fprintf(stderr, "pjdfstest-vfs: PJDFSTEST_VFS_SUITE is not set\n");
    return 2;
  }
  void* library = dlopen(suite, RTLD_NOW);
  if (library == nullptr) {
    fprintf(stderr, "pjdfstest-vfs: %s\n", dlerror());
    return 2;
  }
  using Main = int (*)(int, char**);
  auto suite_main =
      reinterpret_cast<Main>(dlsym(library, "pjdfstest_suite_main"));
  if (suite_main == nullptr) {
    fprintf(stderr, "pjdfstest-vfs: %s: no pjdfstest_suite_main\n", suite);
    return 2;
  }
  return suite_main(argc, argv);
}
