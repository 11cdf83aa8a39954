// Threads pinned to CPUs, for tests of the CPU-sharing counts and of the
// device threads (sim/cpu_sharing.h): "the CPU a thread runs on" is then
// known.
#ifndef TESTS_SIM_CPU_PINNING_H_
#define TESTS_SIM_CPU_PINNING_H_

#include <gtest/gtest.h>
#include <pthread.h>
#include <sched.h>

#include <thread>
#include <vector>

namespace sim_test {

// The CPUs this process may run on.
inline std::vector<int> AllowedCpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  EXPECT_EQ(sched_getaffinity(0, sizeof(set), &set), 0);
  std::vector<int> cpus;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(cpu, &set)) cpus.push_back(cpu);
  }
  return cpus;
}

inline void PinTo(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  ASSERT_EQ(pthread_setaffinity_np(pthread_self(), sizeof(set), &set), 0);
  ASSERT_EQ(sched_getcpu(), cpu);
}

// Runs `body` on a thread pinned to `cpu`.
template <typename Body>
std::thread OnCpu(int cpu, Body body) {
  return std::thread([cpu, body] {
    PinTo(cpu);
    body();
  });
}

}  // namespace sim_test

#endif  // TESTS_SIM_CPU_PINNING_H_
