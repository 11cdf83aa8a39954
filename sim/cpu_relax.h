// One step of a spin-wait: the CPU's pause hint. It yields the core to its
// hyperthread sibling and leaves the loop without the pipeline flush a
// memory-order mis-speculation costs when the awaited store lands.
#ifndef SIM_CPU_RELAX_H_
#define SIM_CPU_RELAX_H_

namespace sim {

inline void CpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

}  // namespace sim

#endif  // SIM_CPU_RELAX_H_
