// Which CPUs the simulation's polling device threads run on, and which CPUs a
// waiting driver thread has yielded, so that a thread waiting for the other
// side gives its CPU away when the other side needs that very CPU.
//
// In thread mode a driver thread and the device thread serving its queue both
// spin while they wait for each other: a sleep and wake-up costs ~12 us on a
// virtual machine, more than the request. That is right while each has a CPU
// of its own, and wasteful when they share one (more busy threads than CPUs,
// or the scheduler's choice): the waiter spins through its whole spin budget
// (microseconds) before its yield lets the device run, and the device, its
// chain done, polls as long again before it yields back. So a waiter yields at
// once when a polling device thread is on its CPU, and a device thread out of
// work yields at once when a waiter has yielded its CPU to it; and both yield
// at every turn while busy threads (polling device threads and polling
// waiters) outnumber the CPUs, where some busy thread is always waiting for
// one. The counts are process-wide, as CPUs are; the threads of other
// processes (another simulation's, a compiler's) are seen in the machine's
// count of runnable threads, which polling device threads sample
// (MachineLoadSampler): two simulations side by side would otherwise each
// see two busy threads on two CPUs and spin through each other's time slices.
//
// Where the simulation lets it (SimPlatform::set_device_helper), a waiter
// that would yield to a device thread first does the device's work itself
// (VirtioDeviceModel::ProcessForWaiter), as a vCPU runs a device's emulation
// on its own exit: no thread switch, and on crowded CPUs no share of a CPU
// spent polling.
#ifndef SIM_CPU_SHARING_H_
#define SIM_CPU_SHARING_H_

#include <chrono>

namespace sim {

// A polling device thread's presence on the CPU it last saw itself on; one
// per device thread, used by that thread only.
class DeviceSeat {
 public:
  DeviceSeat() = default;
  ~DeviceSeat() { Leave(); }
  DeviceSeat(const DeviceSeat&) = delete;
  DeviceSeat& operator=(const DeviceSeat&) = delete;

  // Records the CPU the thread runs on now. Called after anything that may
  // have moved it (a yield, a wake-up) and every few microseconds of polling.
  void Take();
  // Before the thread sleeps: it occupies no CPU.
  void Leave();
  // Whether a driver thread has yielded the seat's CPU and waits to get it
  // back.
  bool WaiterYielded() const;

 private:
  int cpu_ = -1;  // Where it is counted; -1: nowhere.
};

// Samples the machine's runnable threads (/proc/loadavg) once a kInterval at
// most; one per polling device thread, used by that thread only. Between
// samples (and while no device thread polls) the last verdict holds.
class MachineLoadSampler {
 public:
  using Clock = std::chrono::steady_clock;
  // A sample is a system call (~2 us here): one a millisecond is 0.2% of a
  // polling thread's time, and sees a neighbour within two milliseconds.
  static constexpr Clock::duration kInterval = std::chrono::milliseconds(1);

  void MaybeSample(Clock::time_point now);

 private:
  Clock::time_point next_{};
};

// Records a sample of the machine's runnable threads (running or waiting for
// a CPU, the caller included). Busy threads outnumber the CPUs from the second
// sample in a row with more of them than the machine has CPUs online, and no
// longer from the second in a row with no more: a thread that ran for a moment
// (a kernel worker's) changes nothing.
void NoteMachineRunnableThreads(int threads);

// For a thread waiting for a device: whether a polling device thread is on
// the caller's CPU.
bool DeviceThreadOnThisCpu();
// Whether a polling device thread is on `cpu`.
bool DeviceThreadOnCpu(int cpu);
// Whether the calling driver thread polls for its device (SimPlatform's
// Platform::PollingWaitBegins and PollingWaitEnds; not while it sleeps for an
// interrupt). Idempotent; returns what it was.
bool SetWaiterPolling(bool polling);
// Whether polling device threads and polling waiters together outnumber the
// CPUs the process may run on, so that one of them waits for a CPU while
// another spins, or the machine's runnable threads outnumber its CPUs
// (NoteMachineRunnableThreads). Four callers on two CPUs crowd them with no
// device thread polling at all.
bool BusyThreadsOutnumberTheCpus();

// What a waiter's visit to the device's queues did
// (VirtioDeviceModel::ProcessForWaiter), in order: a visit to several queues
// answers the first that any of them gave.
enum class WaiterHelp {
  kProcessed,  // It processed chains.
  // Nothing: another waiter, on another CPU, was processing a queue, and
  // completes what came meanwhile before it stops; a yield would not bring
  // that sooner.
  kBusyElsewhere,
  kNothing,  // Nothing it could take.
};

// sched_yield, counted as a waiter's on the caller's CPU for as long as the
// yield lasts (DeviceSeat::WaiterYielded).
void YieldAsWaiter();

}  // namespace sim

#endif  // SIM_CPU_SHARING_H_
