// bench::OnFastestCpu: runs the calling thread on the fastest CPU it may use.
//
// On a VM one virtual CPU may run at less than half the speed of another for
// minutes at a time (on the machine this was written on, a dependent
// multiply-add step took 0.86 ns on CPU 0 and 0.37 ns on CPU 1, while the
// host's create+unlink took 11.9 us and 7.9 us there; at another time, the
// same steps on both while system calls took longer on one: fastest_cpu.cc),
// and a thread lands on either. A row measured on the slow CPU compares badly
// with its host row measured on the fast one, so each one-thread row measures
// the CPUs just before it runs, on a step of both computing and system calls,
// and pins its thread to the fastest. Threads it makes while pinned inherit the
// pin: make device threads before.
#ifndef BENCH_FASTEST_CPU_H_
#define BENCH_FASTEST_CPU_H_

#include <sched.h>

namespace bench {

class OnFastestCpu {
 public:
  // Measures each CPU the thread may run on (a few hundred microseconds each)
  // and pins the thread to the fastest; with one CPU, or when the measuring
  // or pinning fails, leaves the thread where it may run.
  OnFastestCpu();
  // Gives the thread back the CPUs it had.
  ~OnFastestCpu();
  OnFastestCpu(const OnFastestCpu&) = delete;
  OnFastestCpu& operator=(const OnFastestCpu&) = delete;

  // The slowest CPU's time for the step over the fastest's (1.0: alike, or
  // not measured).
  double spread() const { return spread_; }

 private:
  cpu_set_t allowed_;
  bool pinned_ = false;
  double spread_ = 1.0;
};

}  // namespace bench

#endif  // BENCH_FASTEST_CPU_H_
