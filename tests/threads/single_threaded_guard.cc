// Linked into every test declared single-threaded (single_threaded_cc_test in
// tests/threads/single_threaded.bzl, tag "single_threaded"). CI leaves
// those tests out of its ThreadSanitizer run, since a race needs two threads;
// so such a test must never start one, and a change that makes it start one
// must put it back under TSan. This pthread_create, found by the dynamic
// linker before libc's, ends the test that calls it, saying so.
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

extern "C" int pthread_create(pthread_t* /*thread*/,
                              const pthread_attr_t* /*attr*/,
                              void* (* /*start*/)(void*),
                              void* /*arg*/) noexcept {
  fputs(
      "single_threaded_guard: this test is declared single-threaded (tag "
      "\"single_threaded\") but starts a thread; declare it multi-threaded "
      "so that TSan runs it\n",
      stderr);
  abort();
}
