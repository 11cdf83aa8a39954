// The transport-independent virtio device: features, status, queue
// configuration, notifications, interrupts, device configuration and strict
// checking. The register models (PciRegisters, MmioRegisters) translate
// register accesses into calls here; the DeviceBackend supplies the device
// type.
//
// Threading: every public method is thread-safe. The interrupt handler, the
// violation callback and the backend's HandleChain/Activate/Reset are called
// without the model's lock held, so they may call back into the model (read the
// ISR, complete chains, write registers). Complete() may be called from any
// thread, also from inside HandleChain.
//
// The class is defined across four files by concern: virtio_device_model.cc
// (identity, features, status, reset, configuration space),
// virtio_device_model_queues.cc (queue configuration, notifications, chain
// processing), virtio_device_model_thread.cc (the device threads) and
// virtio_device_model_events.cc (interrupts, violations, counters).
#ifndef SIM_VIRTIO_DEVICE_MODEL_H_
#define SIM_VIRTIO_DEVICE_MODEL_H_

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/platform.h"
#include "sim/adaptive_mutex.h"
#include "sim/cpu_sharing.h"
#include "sim/device_backend.h"
#include "sim/device_queue.h"
#include "sim/guest_memory.h"
#include "sim/spread_counter.h"
#include "sim/violation.h"

namespace sim {

enum class NotifyMode : uint8_t {
  // A notify processes the queue synchronously in the notifying thread:
  // deterministic.
  kInline,
  // A notify wakes the device's own thread, which processes the queue.
  kThread,
};

// Per-queue configuration fields, common to both transports.
enum class QueueField : uint8_t {
  kSize,
  kDescLow,
  kDescHigh,
  kDriverLow,
  kDriverHigh,
  kDeviceLow,
  kDeviceHigh,
  kEnable,
};

// kThread: how long a device thread holds a posted chain it popped
// (DeviceBackend::MayHandleLater: a FUSE RELEASE) for a chain the driver waits
// for, which it then handles first: the driver reads that chain's reply while
// the device does the posted chain's work, where it would otherwise wait for
// both (a close's RELEASE, then the next open's OPEN). Covers the driver's
// turnaround from the posted request to the next, ~1-3 us here; a posted chain
// with nothing after it waits this long. Never on crowded CPUs, where the
// thread would hold a CPU the driver needs.
inline constexpr uint64_t kHoldPostedNanos = 10'000;
// The posted chains a queue holds at once; one more is handled at once.
inline constexpr uint8_t kMaxHeldChains = 4;

struct ModelOptions {
  NotifyMode notify_mode = NotifyMode::kInline;
  bool strict = true;
  // Transport feature bits offered in addition to the backend's.
  // VIRTIO_F_VERSION_1 is always offered: this is a modern-only device.
  bool offer_indirect_desc = true;
  bool offer_event_idx = true;
  bool offer_packed_ring = false;
  // Called for every violation recorded (not under the model's lock).
  std::function<void(const ViolationRecord&)> on_violation;
  // Called after each call of the interrupt handler: the simulated CPU took
  // an interrupt (SimPlatform::InterruptDelivered).
  std::function<void()> after_interrupt;
  // kThread: how long a posted chain may be held (0: never held).
  uint64_t hold_posted_nanos = kHoldPostedNanos;
};

// kThread: how long a device thread keeps looking for new notifications
// after its last chain before it blocks. Covers the driver's turnaround
// between one request and the next: a few microseconds mostly, but up to
// ~150 us where the guest works through a 32 KiB directory listing between
// READDIRs; a request that finds the device asleep pays its wake-up (with
// 50 us, listing 1 000 entries handed off at 6-8 us per request against
// 1.4 us; fs_bench's handoff_ns_per_req). Bounds what an idle device burns to
// one core for this long.
inline constexpr uint64_t kDevicePollNanos = 200'000;
// kThread: a device thread woken soon after it fell asleep polls twice as long
// the next time, up to this; one that slept this long goes back to
// kDevicePollNanos (as Linux's cpuidle-haltpoll grows and resets its poll).
// A guest whose requests come every few hundred microseconds (`ls -l`
// stats a listing's entries from its caches between READDIRPLUSes) would
// otherwise pay a wake-up, ~15 us, per request; an idle device's last poll
// shrinks back after one long sleep.
inline constexpr uint64_t kMaxDevicePollNanos = 8 * kDevicePollNanos;
// The poll after a sleep of `slept_nanos` that followed a poll of `poll_nanos`.
constexpr uint64_t NextDevicePollNanos(uint64_t poll_nanos,
                                       uint64_t slept_nanos) {
  if (slept_nanos >= kMaxDevicePollNanos) return kDevicePollNanos;
  return std::min(2 * poll_nanos, kMaxDevicePollNanos);
}
// The same while busy threads outnumber the CPUs
// (BusyThreadsOutnumberTheCpus): one of them then waits for a CPU while the
// device polls, and with 2 threads' 4 KiB preads on 2 CPUs, 200 us cost 15%.
inline constexpr uint64_t kCrowdedDevicePollNanos = 50'000;
// kThread, with waiters that help (set_waiters_help) while busy threads
// outnumber the CPUs: how long a device thread leaves a chain it sees to
// the driver thread that waits for it (ProcessForWaiter) before it takes the
// chain itself, as one nobody waits for (a FORGET, a posted RELEASE). A
// device thread that took a waiter's chain would hold it through any
// preemption, and the waiter would have to yield to it.
inline constexpr uint64_t kCrowdedGraceNanos = 5'000;
// kThread: how long a polling device thread goes between yields of its CPU
// while it has no sign that another thread needs that CPU (cpu_sharing.h). A
// yield is a system call (1.3 us on a VM here) through which the thread sees
// no work: yielding after every microsecond of polling would hide new work
// for half the poll. A thread that shares the CPU unseen waits at most this
// long more.
inline constexpr uint64_t kDeviceYieldIntervalNanos = 10'000;

// Of every kChainTimeSampling chains on a queue, one is timed when its
// device-writable part is more than a bare reply header (requests a driver
// waits for; not virtio-fs's FORGETs or posted RELEASEs:
// base::kMaxUntimedWritableBytes), at the places where the driver
// times its round trips (base/sampler.h), from its pop to the write of its
// used element (ModelCounters::timed_chains): the device's work on it, without
// the hand-off to and from the driver. Only chains completed by the thread
// that popped them (not those a backend completes later). Equal to
// driver::VirtioFs::kRoundTripSampling.
inline constexpr uint64_t kChainTimeSampling = 16;

struct ModelCounters {
  uint64_t notifications = 0;  // Accepted queue notifications.
  uint64_t chains_popped = 0;
  uint64_t chains_completed = 0;   // Used elements written.
  uint64_t timed_chains = 0;       // See kChainTimeSampling.
  uint64_t timed_chain_nanos = 0;  // Their times together.
  // Posted chains handled after a chain made available later
  // (kHoldPostedNanos).
  uint64_t posted_chains_overtaken = 0;
  uint64_t interrupts = 0;  // Interrupts raised (used buffer or config change).
  uint64_t resets = 0;      // Device resets (status written 0).
};

class VirtioDeviceModel : public ChainCompleter {
 public:
  // ISR bits (spec 4.1.4.5 / 4.2.2): used buffer, configuration change.
  static constexpr uint8_t kIsrQueue = 0x1;
  static constexpr uint8_t kIsrConfig = 0x2;

  VirtioDeviceModel(const GuestMemory& memory,
                    std::unique_ptr<DeviceBackend> backend,
                    ModelOptions options);
  // Stops the device threads (kThread) and resets the backend.
  ~VirtioDeviceModel() override;
  VirtioDeviceModel(const VirtioDeviceModel&) = delete;
  VirtioDeviceModel& operator=(const VirtioDeviceModel&) = delete;

  // ---- Identity and features. ----
  uint32_t device_id() const;
  uint16_t num_queues() const;
  // The backend's, capped at kMaxQueueSize.
  uint16_t max_queue_size() const;
  uint64_t device_features() const { return device_features_; }
  // 32-bit windows of the feature words; `select` > 1 reads 0.
  uint32_t ReadDeviceFeatures(uint32_t select) const;
  uint32_t ReadDriverFeatures(uint32_t select) const;
  void WriteDriverFeatures(uint32_t select, uint32_t value);
  uint64_t driver_features() const;

  // ---- Status. ----
  uint8_t ReadStatus() const;
  // 0 resets the device (and the backend).
  void WriteStatus(uint8_t status);

  // ---- Queues. ----
  bool QueueExists(uint32_t queue) const { return queue < num_queues(); }
  // Fields of a queue that does not exist read 0 (size 0 means "no such
  // queue").
  uint32_t ReadQueueField(uint32_t queue, QueueField field) const;
  void WriteQueueField(uint32_t queue, QueueField field, uint32_t value);
  // The driver's notification (doorbell) for `queue`.
  void Notify(uint32_t queue);
  // kThread: called by a driver thread waiting for a chain on `queue`
  // (base::Platform::kAnyQueue: on any) where a device thread cannot run now
  // (on the waiter's CPU, or with every CPU taken: cpu_sharing.h), instead of
  // yielding its CPU to one (two thread switches, ~3.7 us on a VM). Processes
  // that queue in the caller's thread, as a notify does in kInline, if it has
  // chains available and no thread processing it. Whether it handled any
  // chain, or else found a waiter on another CPU processing the queue
  // (kBusyElsewhere: that one runs; a device thread holding a queue on
  // crowded CPUs may be waiting for the caller's CPU).
  //
  // Only the queue waited on: a visit takes the queue's lock, and waiters on
  // every CPU visiting every queue kept those locks' lines moving between the
  // CPUs (with 4 threads' 4 KiB preads on 2 CPUs, 12% of all CPU time was on
  // those two atomics). What other queues hold waits for their own waiters,
  // or for a device thread after kCrowdedGraceNanos; either way the work
  // costs the CPUs the same.
  WaiterHelp ProcessForWaiter(uint16_t queue);
  // kThread: whether the driver's waiting threads call ProcessForWaiter where
  // a device thread cannot run (they poll; a waiter that sleeps until an
  // interrupt cannot). With it, device threads on crowded CPUs leave chains to
  // them for kCrowdedGraceNanos. Set before the driver starts.
  void set_waiters_help(bool on) {
    waiters_help_.store(on, std::memory_order_relaxed);
  }

  // ---- Interrupts. ----
  // PCI ISR read: returns and clears the bits.
  uint8_t ReadAndClearIsr();
  // MMIO InterruptStatus / InterruptACK.
  uint8_t ReadIsr() const;
  void AcknowledgeIsr(uint8_t bits);
  // Removing or replacing the handler waits for its calls on other threads.
  void SetInterruptHandler(base::RegisterIo::InterruptHandler handler,
                           void* context);

  // ---- Device configuration space. ----
  uint32_t config_size() const;
  uint8_t config_generation() const;
  // `width` is 1, 2 or 4. Out of range or misaligned: a violation, and reads
  // give 0.
  uint32_t ReadConfig(uint32_t offset, unsigned width);
  void WriteConfig(uint32_t offset, unsigned width, uint32_t value);
  // The device changed its configuration: bump the generation, raise a config
  // interrupt.
  void NotifyConfigChanged();

  // ---- ChainCompleter. ----
  void Complete(uint16_t queue, uint16_t head, uint32_t used_length) override;
  void CompleteWithoutNotification(uint16_t queue, uint16_t head,
                                   uint32_t used_length) override;
  // The device declares it needs a reset (DEVICE_NEEDS_RESET, and a
  // configuration change notification): the fault plan's needs-reset.
  void SetNeedsReset();

  // ---- Checking and diagnostics. ----
  // Reports a rule broken at the register level (used by the register
  // models). Strict rules are dropped in lenient mode.
  void ReportViolation(Violation violation, std::string message,
                       std::optional<uint16_t> queue = std::nullopt);
  std::vector<ViolationRecord> violations() const;
  void ClearViolations();
  bool strict() const { return options_.strict; }
  NotifyMode notify_mode() const { return options_.notify_mode; }
  ModelCounters counters() const;
  // Whether a violation stopped `queue` (or the whole device) until reset.
  bool queue_stopped(uint16_t queue) const;
  DeviceBackend& backend() { return *backend_; }
  const GuestMemory& memory() const { return memory_; }

 private:
  struct QueueState {
    QueueLayout layout;
    bool enabled = false;
    bool stopped = false;  // A violation stopped it until reset.
    std::unique_ptr<DeviceQueue> ring;
  };
  struct DeviceThread;
  // Per queue, what a notify touches without mutex_, on a cache line of its
  // own: queues served by different threads share nothing on the hot path.
  struct alignas(64) QueueHot {
    // The queue is armed: the last check under mutex_ (a notify's, or a
    // ProcessQueue turn's) found it ready (enabled, DRIVER_OK, the backend
    // active, nothing stopped), so notifies and turns skip the checks and
    // mutex_. Anything that could make them fail clears it first
    // (DisarmNotifiesLocked), so the next notify or turn checks again.
    std::atomic<bool> notify_ready{false};
    // kThread: the device thread serving the queue
    // (DeviceBackend::ThreadQueue). A notify sets `posted`; the thread, out of
    // work, polls it for a while (kDevicePollNanos) and then blocks, saying so
    // in its `sleeping`: a notify wakes it only then (a blocking hand-off per
    // request costs more than the request). Both flags are sequentially
    // consistent, so either the notify sees `sleeping` or the thread sees
    // `posted` before it blocks. Only the thread clears `posted`: it answers
    // the notification the thread asked for before it slept, whose answer is to
    // look at the ring and, when it next sleeps, to ask again. A waiter that
    // processed the queue meanwhile asks for nothing (the thread's rings are
    // polled: DeviceQueue::set_polled), so a flag it cleared would let the
    // thread sleep behind a driver that no longer notifies (seen as a hang of
    // VirtioFsEndToEnd.ConcurrentCallersEachGetTheirOwnReply).
    DeviceThread* thread = nullptr;
    std::atomic<bool> posted{false};
    // While it polls, the thread also watches the word of guest memory where
    // the driver makes its next chain available (DeviceQueue::avail_watch)
    // for a change from `idle`: the ring asks for no notifications then
    // (DeviceQueue::set_polled), and the driver makes none until the thread
    // asks again before it sleeps.
    std::atomic<uint16_t*> watched_word{nullptr};
    // Set while the thread reads through watched_word: a ring being freed
    // waits for the read to end (StopWatchingLocked), as the driver may reuse
    // that memory once the reset returns.
    std::atomic<bool> peeking{false};
    // Written by whichever thread processed the queue last (the device
    // thread, or a waiter: ProcessForWaiter), read by the device thread.
    std::atomic<uint16_t> idle{0};
    // Where the ring expects the next chain to be read from
    // (AvailWatch::read_ahead), recorded with `idle`; the thread fetches
    // these lines when the word changes.
    std::array<std::atomic<const uint8_t*>, DeviceQueue::kReadAheadSpots>
        read_ahead{};
  };
  // Per queue, what processing it writes for every chain, under the queue's
  // own lock and on lines of its own: threads processing different queues
  // share no lock and no written line.
  //
  // `lock` guards the fields below and the device side of the queue's ring
  // (Pop, PushUsed and the rest of DeviceQueue). A turn of ProcessQueue takes
  // it alone while the queue is armed (QueueHot::notify_ready: the queue was
  // found processable under mutex_ and nothing has changed since), and
  // mutex_ then `lock` otherwise. Disarming takes every queue's lock
  // (DisarmNotifiesLocked), so no turn that found its queue armed is running
  // when mutex_'s holder goes on to change what arming vouched for (the ring,
  // the status, a stopped queue); nothing takes mutex_ while holding a
  // queue's lock.
  struct alignas(64) QueueWork {
    mutable AdaptiveMutex lock;
    bool processing = false;  // A thread is processing the queue...
    // ... a waiter that entered it on this CPU (ProcessForWaiter), or -1: a
    // device thread, which on crowded CPUs may wait for one at any turn.
    int waiter_cpu = -1;
    bool rerun = false;  // Another notify arrived while it was.
    // The thread in a HandleChain call for it (one at a time), or none: a
    // reset waits for them, but not for its own thread.
    std::thread::id handling;
    // The queue's part of ModelCounters.
    uint64_t chains_popped = 0;
    uint64_t chains_completed = 0;
    uint64_t timed_chains = 0;
    uint64_t timed_chain_nanos = 0;
    uint64_t posted_chains_overtaken = 0;
    // The chain being handled; used by the processing thread only.
    DescriptorChain chain;
    // kThread: posted chains the device thread popped and holds, oldest
    // first (kHoldPostedNanos), until it has popped a chain that is not
    // posted (`overtaken`), or until `hold_until` when none comes. Dropped
    // with the ring (StopWatchingLocked).
    std::array<DescriptorChain, kMaxHeldChains> held;
    uint8_t held_count = 0;
    bool overtaken = false;
    std::chrono::steady_clock::time_point hold_until;  // The thread's own.
  };
  // kThread: a device thread and the queues it serves.
  struct alignas(64) DeviceThread {
    std::vector<uint16_t> queues;
    DeviceSeat seat;                  // Where it polls; the thread's own.
    MachineLoadSampler machine_load;  // Sampled while it polls.
    uint64_t poll_nanos = kDevicePollNanos;  // NextDevicePollNanos; its own.
    std::atomic<bool> sleeping{false};
    std::mutex sleep_mutex;
    std::condition_variable wake;
    std::thread thread;
  };
  // Work an entry point finishes after dropping the lock: callbacks into the
  // driver or the test never run under it.
  struct Deferred {
    std::vector<ViolationRecord> violations;
    bool interrupt = false;
  };
  // The threads inside some call, counted with repeats (calls nest), so that a
  // wait for the others never waits for its own thread. Guarded by the lock of
  // its owner.
  class ActiveThreads {
   public:
    void Enter();
    void Leave();
    bool empty() const { return ids_.empty(); }
    bool HasCaller() const;
    bool HasOthers() const;

   private:
    std::vector<std::thread::id> ids_;
  };
  // mutex_, held; when it goes, what was deferred under it is delivered.
  class StateLock {
   public:
    explicit StateLock(VirtioDeviceModel& model)
        : model_(model), lock_(model.mutex_) {}
    ~StateLock() {
      lock_.unlock();
      model_.DeliverDeferred();
    }
    std::unique_lock<AdaptiveMutex>& lock() { return lock_; }

   private:
    VirtioDeviceModel& model_;
    std::unique_lock<AdaptiveMutex> lock_;
  };

  static constexpr uint64_t Bit(unsigned n) { return uint64_t{1} << n; }
  static std::string StatusText(uint8_t status);

  // virtio_device_model.cc: status and reset.
  void ResetLocked();
  // Whether a thread other than the caller is handling a chain.
  bool OthersHandlingLocked() const;
  bool CallerHandlingLocked() const;
  void Activate();

  // ProcessQueue's state from one turn to the next.
  struct Turn {
    bool waiter = false;   // A waiter's (ProcessForWaiter).
    bool entered = false;  // It set the queue's `processing`.
    bool handled = false;  // The chain popped last has been handled...
    std::optional<uint32_t> length;  // ... and answered this (none: later).
    uint64_t epoch = 0;  // epoch_ when the turn last looked at the ring.
    // Whether the chain is timed (kChainTimeSampling), and when it was popped.
    bool timed = false;
    std::chrono::steady_clock::time_point popped_at;
    // What a turn under the queue's lock alone leaves for mutex_'s holder.
    bool interrupt_due = false;
    std::optional<ViolationRecord> violation;
  };
  enum class TurnEnd {
    // Another thread processes the queue and will look again; to a waiter,
    // another waiter that entered it on another CPU (kOtherCpu), or else any.
    kOtherThread,
    kOtherCpu,
    kStopped,  // Nothing to take, or the queue cannot be processed.
    kChain,    // A chain to handle, in the queue's `chain`.
    // Nothing to take but held chains (QueueWork::held), which may wait for
    // one: the queue stays the thread's (AwaitChainWhileHolding).
    kHolding,
    kViolation,  // The ring broke a rule: Turn::violation, then stop.
  };

  // virtio_device_model_queues.cc: notifications and chains.
  bool CanProcessLocked(uint16_t queue) const;
  // Whether a used buffer may still be written to the queue: it has a ring
  // and neither it nor the device was stopped by a violation.
  bool CompletableLocked(uint16_t queue) const;
  // After a notify was accepted: the queue is processed here (kInline) or by
  // its thread (kThread).
  void Dispatch(uint16_t queue);
  void Post(uint16_t queue);
  void DisarmNotifiesLocked();
  // Whether it handled a chain, or else (for a waiter: ProcessForWaiter)
  // found another waiter processing the queue on another CPU.
  WaiterHelp ProcessQueue(uint16_t queue, bool waiter = false);
  // One turn, under the queue's lock (and mutex_ when `model_locked`; else
  // the queue is armed): completes the chain handled last, then pops the next.
  TurnEnd TurnLocked(uint16_t queue, Turn& turn, bool model_locked);
  // Ends the queue's processing; its lock held, as TurnLocked.
  void StopLocked(uint16_t queue, bool model_locked);
  // PushUsed under the queue's lock; whether a used-buffer interrupt is due.
  bool PushUsedLocked(uint16_t queue, uint16_t head, uint32_t length,
                      bool notify);
  void CompleteLocked(uint16_t queue, uint16_t head, uint32_t length,
                      bool notify = true);

  // virtio_device_model_thread.cc: the device threads.
  void DeviceThreadMain(DeviceThread& thread);
  // kThread: processes each of the thread's queues that has work; false when
  // none had.
  bool ProcessPosted(const DeviceThread& thread);
  // kThread: spins until a notify posts work to one of the thread's queues
  // (true) or its poll_nanos pass (false), yielding every
  // kDeviceYieldIntervalNanos, at every turn while busy threads outnumber
  // the CPUs, and at once when a driver thread has yielded the CPU to it
  // (cpu_sharing.h). While busy threads outnumber the CPUs it polls for
  // kCrowdedDevicePollNanos, and as long again whenever a waiter has processed
  // one of its queues meanwhile (ProcessForWaiter): a thread asleep would have
  // to be woken for each of their requests. Work it leaves to the waiters
  // (LeaveToWaiters) counts once it has been there kCrowdedGraceNanos; then
  // `left_as` gets its WorkMarks.
  bool PollForWork(DeviceThread& thread,
                   std::optional<uint64_t>* left_as) const;
  // kThread: whether a device thread leaves the chains it sees to the waiters
  // for kCrowdedGraceNanos (set_waiters_help, on crowded CPUs).
  bool LeaveToWaiters() const;
  // Where the thread's queues were processed up to (their QueueHot::idle):
  // it moves when a waiter processes one.
  uint64_t ProcessedMarks(const DeviceThread& thread) const;
  // ProcessedMarks with where the driver has made chains available up to (the
  // words the thread watches): it also moves when a new chain comes.
  uint64_t WorkMarks(const DeviceThread& thread) const;
  // kThread: whether a notify or the driver's avail index shows work.
  static bool WorkPosted(QueueHot& hot);
  // The watched word's value (QueueHot::watched_word), or `idle` if none.
  static uint16_t AvailWord(QueueHot& hot);
  // kThread, on seeing work: fetches the lines of QueueHot::read_ahead.
  static void ReadAhead(const QueueHot& hot);
  bool AnyPosted(const DeviceThread& thread) const;
  // kThread, before the thread sleeps: DeviceQueue::AskForNotification on
  // each of its queues; whether one of them has work after all.
  bool AskForNotification(const DeviceThread& thread);
  // kThread, when its thread stops processing the queue: the avail index it
  // has dealt with. The queue's lock held, as TurnLocked.
  void RecordPoppedLocked(uint16_t queue, bool model_locked);
  // The queue's ring goes: its thread no longer watches the avail index, and
  // drops the chains it held from it.
  void StopWatchingLocked(uint16_t queue);
  // Whether the chain just popped is held (QueueWork::held) rather than
  // handled now; its lock held, as TurnLocked.
  bool HoldLocked(uint16_t queue, const Turn& turn);
  // Moves the oldest held chain to the queue's `chain`.
  void TakeHeldLocked(uint16_t queue);
  // kHolding: spins until a chain comes or the hold ends, and ends it early
  // when the ring goes, another of the thread's queues has work, or on a
  // reset (since `epoch`) or a stop.
  void AwaitChainWhileHolding(uint16_t queue, uint64_t epoch);

  // virtio_device_model_events.cc: interrupts and violations.
  // Records `record` when its rule is enforced in this mode; false when it is
  // not.
  bool ViolateLocked(ViolationRecord record);
  void RaiseLocked(uint8_t isr_bits);
  // Most calls find nothing to deliver, and skip the lock. Whoever deferred
  // something set the flag under the lock and calls this afterwards, so it
  // sees its own store (or another thread has delivered the work already).
  void DeliverDeferred() {
    if (has_deferred_.load(std::memory_order_relaxed)) DeliverDeferredWork();
  }
  void DeliverDeferredWork();

  const GuestMemory& memory_;
  const std::unique_ptr<DeviceBackend> backend_;
  const ModelOptions options_;
  const uint64_t device_features_;

  mutable AdaptiveMutex mutex_;
  // A chain's handling ended, while resets_waiting_ resets wait for that.
  std::condition_variable_any idle_;
  // Written under mutex_; read by turns that take only a queue's lock.
  std::atomic<unsigned> resets_waiting_{0};
  uint64_t driver_features_ = 0;
  bool driver_features_unsupported_ = false;  // Bits above 63 were written.
  uint8_t status_ = 0;
  bool device_stopped_ = false;  // A device-wide violation; until reset.
  bool active_ = false;          // Backend activated (DRIVER_OK seen).
  // Bumped on every reset, under mutex_ and with every queue disarmed.
  std::atomic<uint64_t> epoch_{0};
  uint8_t isr_ = 0;
  uint8_t config_generation_ = 0;
  std::vector<QueueState> queues_;
  std::vector<ViolationRecord> violations_;
  ModelCounters counters_;  // But for the per-queue ones in QueueWork.
  // Accepted notifies, of all queues: threads sharing a queue notify it at
  // once.
  SpreadCounter notifications_;
  Deferred deferred_;
  // deferred_ holds something; written under mutex_, read without it.
  std::atomic<bool> has_deferred_{false};

  // The interrupt handler, under its own lock, which is not held while the
  // handler runs (it may notify, and be interrupted again); removing it waits
  // for the calls running on other threads.
  std::mutex handler_mutex_;
  std::condition_variable handler_idle_;
  base::RegisterIo::InterruptHandler handler_ = nullptr;
  void* handler_context_ = nullptr;
  ActiveThreads handler_calls_;

  const std::unique_ptr<QueueHot[]> hot_;
  const std::unique_ptr<QueueWork[]> work_;
  std::vector<std::unique_ptr<DeviceThread>> threads_;  // kThread.
  std::atomic<bool> waiters_help_{false};
  std::atomic<bool> stopping_{false};
};

}  // namespace sim

#endif  // SIM_VIRTIO_DEVICE_MODEL_H_
