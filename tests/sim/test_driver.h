// A minimal hand-written virtio "driver" for device-side tests: it lays out
// split rings in guest memory, writes descriptors and the avail ring directly,
// and pokes the device's registers through base::RegisterIo (PCI, found by
// walking the capability list as a real driver does, or virtio-mmio). Tests use
// it to do both right and deliberately wrong things.
#ifndef TESTS_SIM_TEST_DRIVER_H_
#define TESTS_SIM_TEST_DRIVER_H_

#define VIRTIO_RING_NO_LEGACY
#include <linux/pci_regs.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_pci.h>
#include <linux/virtio_ring.h>
#include <sched.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/platform.h"
#include "sim/device_queue.h"
#include "sim/dma_allocator.h"
#include "sim/echo_device.h"
#include "sim/guest_memory.h"
#include "sim/sim_device.h"

namespace sim_test {

inline constexpr uint64_t Bit(unsigned n) { return uint64_t{1} << n; }

// The driver's side of one split virtqueue, in guest memory.
class TestRing {
 public:
  TestRing(const sim::GuestMemory& memory, sim::DmaAllocator& allocator,
           uint16_t size)
      : memory_(memory), allocator_(allocator), size_(size) {
    layout_.size = size;
    layout_.desc = allocator.Allocate(16ull * size, 16).value();
    layout_.driver = allocator.Allocate(6 + 2ull * size, 2).value();
    layout_.device = allocator.Allocate(6 + 8ull * size, 4).value();
  }
  ~TestRing() {
    allocator_.Free(layout_.desc);
    allocator_.Free(layout_.driver);
    allocator_.Free(layout_.device);
    for (uint64_t bus : buffers_) allocator_.Free(bus);
  }

  const sim::QueueLayout& layout() const { return layout_; }
  uint16_t size() const { return size_; }

  // A zeroed buffer in guest memory, freed with the ring.
  uint64_t Buffer(uint64_t size, uint64_t alignment = 16) {
    uint64_t bus = allocator_.Allocate(size, alignment).value();
    buffers_.push_back(bus);
    return bus;
  }
  uint8_t* Host(uint64_t bus, uint64_t size = 1) const {
    return memory_.HostPointer(bus, size);
  }
  uint64_t BufferWith(const std::string& bytes) {
    uint64_t bus = Buffer(bytes.empty() ? 1 : bytes.size());
    std::memcpy(Host(bus, bytes.size()), bytes.data(), bytes.size());
    return bus;
  }

  void SetDesc(uint16_t index, uint64_t addr, uint32_t len, uint16_t flags,
               uint16_t next = 0) {
    WriteDescriptor(Host(layout_.desc + 16ull * index, 16), addr, len, flags,
                    next);
  }
  static void WriteDescriptor(uint8_t* where, uint64_t addr, uint32_t len,
                              uint16_t flags, uint16_t next) {
    vring_desc desc{addr, len, flags, next};
    std::memcpy(where, &desc, sizeof(desc));
  }
  // An indirect table of `entries` descriptors; returns its bus address.
  uint64_t IndirectTable(const std::vector<vring_desc>& entries) {
    uint64_t bus = Buffer(16 * entries.size());
    std::memcpy(Host(bus, 16 * entries.size()), entries.data(),
                16 * entries.size());
    return bus;
  }

  // Makes `head` available: ring entry, then (release) the index.
  void Publish(uint16_t head) {
    Store16(layout_.driver + 4 + 2ull * (avail_idx_ % size_), head);
    Store16(layout_.driver + 2, ++avail_idx_, std::memory_order_release);
  }
  void SetAvailIdx(uint16_t idx) {
    avail_idx_ = idx;
    Store16(layout_.driver + 2, idx);
  }
  uint16_t avail_idx() const { return avail_idx_; }
  void SetAvailFlags(uint16_t flags) { Store16(layout_.driver, flags); }
  void SetUsedEvent(uint16_t idx) {
    Store16(layout_.driver + 4 + 2ull * size_, idx);
  }

  uint16_t UsedIdx() const {
    return Load16(layout_.device + 2, std::memory_order_acquire);
  }
  uint16_t UsedFlags() const { return Load16(layout_.device); }
  uint16_t AvailEvent() const {
    return Load16(layout_.device + 4 + 8ull * size_);
  }
  // The used element at ring position `position` (taken modulo the size).
  vring_used_elem Used(uint16_t position) const {
    vring_used_elem element;
    std::memcpy(&element,
                Host(layout_.device + 4 + 8ull * (position % size_), 8), 8);
    return element;
  }
  // Overwrites a used element, as a driver must not (the device's own stores
  // are checked against it).
  void SetUsed(uint16_t position, vring_used_elem element) {
    std::memcpy(Host(layout_.device + 4 + 8ull * (position % size_), 8),
                &element, 8);
  }
  // Polls until used idx reaches `idx` (for the threaded device); false on
  // timeout.
  bool WaitUsedIdx(uint16_t idx, std::chrono::milliseconds timeout =
                                     std::chrono::milliseconds(5000)) const {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (UsedIdx() != idx) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      sched_yield();
    }
    return true;
  }

 private:
  uint16_t Load16(uint64_t bus,
                  std::memory_order order = std::memory_order_relaxed) const {
    return std::atomic_ref<uint16_t>(*reinterpret_cast<uint16_t*>(Host(bus, 2)))
        .load(order);
  }
  void Store16(uint64_t bus, uint16_t value,
               std::memory_order order = std::memory_order_relaxed) {
    std::atomic_ref<uint16_t>(*reinterpret_cast<uint16_t*>(Host(bus, 2)))
        .store(value, order);
  }

  const sim::GuestMemory& memory_;
  sim::DmaAllocator& allocator_;
  const uint16_t size_;
  sim::QueueLayout layout_;
  uint16_t avail_idx_ = 0;
  std::vector<uint64_t> buffers_;
};

// Register-level access to a device, over either transport.
class TestDriver {
 public:
  TestDriver(sim::SimDevice& device, const sim::GuestMemory& memory,
             sim::DmaAllocator& allocator)
      : device_(device), memory_(memory), allocator_(allocator) {
    if (device.transport() == base::TransportKind::kPci) FindPciCapabilities();
  }

  bool pci() const { return device_.transport() == base::TransportKind::kPci; }
  sim::SimDevice& device() { return device_; }

  // --- Registers
  // -------------------------------------------------------------------------
  uint8_t Status() {
    return pci() ? Common(VIRTIO_PCI_COMMON_STATUS, 1)
                 : Mmio(VIRTIO_MMIO_STATUS);
  }
  void SetStatus(uint8_t status) {
    if (pci()) {
      SetCommon(VIRTIO_PCI_COMMON_STATUS, 1, status);
    } else {
      SetMmio(VIRTIO_MMIO_STATUS, status);
    }
  }
  void AddStatus(uint8_t bits) { SetStatus(Status() | bits); }
  uint64_t DeviceFeatures() {
    uint64_t features = 0;
    for (uint32_t select = 0; select < 2; ++select) {
      uint32_t word;
      if (pci()) {
        SetCommon(VIRTIO_PCI_COMMON_DFSELECT, 4, select);
        word = Common(VIRTIO_PCI_COMMON_DF, 4);
      } else {
        SetMmio(VIRTIO_MMIO_DEVICE_FEATURES_SEL, select);
        word = Mmio(VIRTIO_MMIO_DEVICE_FEATURES);
      }
      features |= uint64_t{word} << (32 * select);
    }
    return features;
  }
  void SetDriverFeatures(uint64_t features) {
    for (uint32_t select = 0; select < 2; ++select) {
      uint32_t word = static_cast<uint32_t>(features >> (32 * select));
      if (pci()) {
        SetCommon(VIRTIO_PCI_COMMON_GFSELECT, 4, select);
        SetCommon(VIRTIO_PCI_COMMON_GF, 4, word);
      } else {
        SetMmio(VIRTIO_MMIO_DRIVER_FEATURES_SEL, select);
        SetMmio(VIRTIO_MMIO_DRIVER_FEATURES, word);
      }
    }
  }
  void SelectQueue(uint16_t queue) {
    if (pci()) {
      SetCommon(VIRTIO_PCI_COMMON_Q_SELECT, 2, queue);
    } else {
      SetMmio(VIRTIO_MMIO_QUEUE_SEL, queue);
    }
  }
  uint16_t QueueMax(uint16_t queue) {
    SelectQueue(queue);
    return pci() ? Common(VIRTIO_PCI_COMMON_Q_SIZE, 2)
                 : Mmio(VIRTIO_MMIO_QUEUE_NUM_MAX);
  }
  void SetQueueSize(uint16_t queue, uint32_t size) {
    SelectQueue(queue);
    if (pci()) {
      SetCommon(VIRTIO_PCI_COMMON_Q_SIZE, 2, size);
    } else {
      SetMmio(VIRTIO_MMIO_QUEUE_NUM, size);
    }
  }
  void SetQueueAddresses(uint16_t queue, uint64_t desc, uint64_t driver,
                         uint64_t device) {
    SelectQueue(queue);
    const uint64_t values[] = {desc, driver, device};
    const uint32_t pci_offsets[] = {VIRTIO_PCI_COMMON_Q_DESCLO,
                                    VIRTIO_PCI_COMMON_Q_AVAILLO,
                                    VIRTIO_PCI_COMMON_Q_USEDLO};
    const uint32_t mmio_offsets[] = {VIRTIO_MMIO_QUEUE_DESC_LOW,
                                     VIRTIO_MMIO_QUEUE_AVAIL_LOW,
                                     VIRTIO_MMIO_QUEUE_USED_LOW};
    for (int i = 0; i < 3; ++i) {
      if (pci()) {
        SetCommon(pci_offsets[i], 4, static_cast<uint32_t>(values[i]));
        SetCommon(pci_offsets[i] + 4, 4,
                  static_cast<uint32_t>(values[i] >> 32));
      } else {
        SetMmio(mmio_offsets[i], static_cast<uint32_t>(values[i]));
        SetMmio(mmio_offsets[i] + 4, static_cast<uint32_t>(values[i] >> 32));
      }
    }
  }
  void EnableQueue(uint16_t queue) {
    SelectQueue(queue);
    if (pci()) {
      SetCommon(VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1);
    } else {
      SetMmio(VIRTIO_MMIO_QUEUE_READY, 1);
    }
  }
  void ConfigureQueue(uint16_t queue, const sim::QueueLayout& layout) {
    SetQueueSize(queue, layout.size);
    SetQueueAddresses(queue, layout.desc, layout.driver, layout.device);
  }
  void Notify(uint16_t queue) {
    if (pci()) {
      device_.Write(base::PciBar(bar_),
                    notify_offset_ + notify_multiplier_ * queue, 2, queue);
    } else {
      SetMmio(VIRTIO_MMIO_QUEUE_NOTIFY, queue);
    }
  }
  // PCI: reading ISR clears it. MMIO: InterruptStatus, then InterruptACK.
  uint8_t TakeIsr() {
    if (pci())
      return static_cast<uint8_t>(
          device_.Read(base::PciBar(bar_), isr_offset_, 1));
    uint32_t isr = Mmio(VIRTIO_MMIO_INTERRUPT_STATUS);
    SetMmio(VIRTIO_MMIO_INTERRUPT_ACK, isr);
    return static_cast<uint8_t>(isr);
  }
  uint32_t ReadConfig(uint32_t offset, unsigned width) {
    if (pci())
      return device_.Read(base::PciBar(bar_), device_cfg_offset_ + offset,
                          width);
    return device_.Read(base::RegisterSpace::kMmio, VIRTIO_MMIO_CONFIG + offset,
                        width);
  }
  void WriteConfig(uint32_t offset, unsigned width, uint32_t value) {
    if (pci()) {
      device_.Write(base::PciBar(bar_), device_cfg_offset_ + offset, width,
                    value);
    } else {
      device_.Write(base::RegisterSpace::kMmio, VIRTIO_MMIO_CONFIG + offset,
                    width, value);
    }
  }
  uint8_t ConfigGeneration() {
    return pci() ? Common(VIRTIO_PCI_COMMON_CFGGENERATION, 1)
                 : Mmio(VIRTIO_MMIO_CONFIG_GENERATION);
  }

  // --- Whole sequences
  // ------------------------------------------------------------------- Reset,
  // ACKNOWLEDGE, DRIVER, features (offered & wanted), FEATURES_OK (checked).
  bool Negotiate(uint64_t wanted = ~uint64_t{0}) {
    SetStatus(0);
    AddStatus(VIRTIO_CONFIG_S_ACKNOWLEDGE);
    AddStatus(VIRTIO_CONFIG_S_DRIVER);
    negotiated_ = DeviceFeatures() & wanted;
    SetDriverFeatures(negotiated_);
    AddStatus(VIRTIO_CONFIG_S_FEATURES_OK);
    return (Status() & VIRTIO_CONFIG_S_FEATURES_OK) != 0;
  }
  // Negotiate, then one ring of `queue_size` per queue in `queues`, then
  // DRIVER_OK.
  bool Init(uint64_t wanted = ~uint64_t{0}, uint16_t queue_size = 8,
            uint16_t queues = 1) {
    rings_.clear();
    if (!Negotiate(wanted)) return false;
    for (uint16_t q = 0; q < queues; ++q) {
      rings_.push_back(
          std::make_unique<TestRing>(memory_, allocator_, queue_size));
      ConfigureQueue(q, rings_.back()->layout());
      EnableQueue(q);
    }
    AddStatus(VIRTIO_CONFIG_S_DRIVER_OK);
    return Status() ==
           (VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
            VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
  }
  uint64_t negotiated() const { return negotiated_; }
  TestRing& ring(uint16_t queue = 0) { return *rings_.at(queue); }

  // Sends `input` through the echo device on `queue` (descriptor 0 readable, 1
  // writable of `output_size` bytes), waits for it and returns the bytes
  // written, or nullopt when the device did not use the chain.
  std::optional<std::string> Echo(const std::string& input,
                                  uint32_t output_size = 64,
                                  uint16_t queue = 0) {
    TestRing& r = ring(queue);
    uint64_t in = r.BufferWith(input);
    uint64_t out = r.Buffer(output_size);
    r.SetDesc(0, in, static_cast<uint32_t>(input.size()), VRING_DESC_F_NEXT, 1);
    r.SetDesc(1, out, output_size, VRING_DESC_F_WRITE);
    uint16_t before = r.UsedIdx();
    r.Publish(0);
    Notify(queue);
    if (!r.WaitUsedIdx(static_cast<uint16_t>(before + 1),
                       std::chrono::milliseconds(2000))) {
      return std::nullopt;
    }
    vring_used_elem used = r.Used(before);
    if (used.id != 0) return std::nullopt;
    return std::string(reinterpret_cast<const char*>(r.Host(out, output_size)),
                       used.len);
  }

  // --- Raw register access
  // ---------------------------------------------------------------
  uint32_t Common(uint32_t offset, unsigned width) {
    return device_.Read(base::PciBar(bar_), common_offset_ + offset, width);
  }
  void SetCommon(uint32_t offset, unsigned width, uint32_t value) {
    device_.Write(base::PciBar(bar_), common_offset_ + offset, width, value);
  }
  uint32_t Mmio(uint32_t offset) {
    return device_.Read(base::RegisterSpace::kMmio, offset, 4);
  }
  void SetMmio(uint32_t offset, uint32_t value) {
    device_.Write(base::RegisterSpace::kMmio, offset, 4, value);
  }
  unsigned bar() const { return bar_; }
  uint32_t notify_offset() const { return notify_offset_; }
  uint32_t notify_multiplier() const { return notify_multiplier_; }

 private:
  // Walks the capability list, as a driver does, for the virtio structures.
  void FindPciCapabilities() {
    auto config = [&](uint32_t offset, unsigned width) {
      return device_.Read(base::RegisterSpace::kPciConfig, offset, width);
    };
    uint8_t cap = static_cast<uint8_t>(config(PCI_CAPABILITY_LIST, 1));
    for (int guard = 0; cap != 0 && guard < 48; ++guard) {
      if (config(cap + VIRTIO_PCI_CAP_VNDR, 1) == PCI_CAP_ID_VNDR) {
        uint8_t type =
            static_cast<uint8_t>(config(cap + VIRTIO_PCI_CAP_CFG_TYPE, 1));
        bar_ = config(cap + VIRTIO_PCI_CAP_BAR, 1);
        uint32_t offset = config(cap + VIRTIO_PCI_CAP_OFFSET, 4);
        if (type == VIRTIO_PCI_CAP_COMMON_CFG) common_offset_ = offset;
        if (type == VIRTIO_PCI_CAP_ISR_CFG) isr_offset_ = offset;
        if (type == VIRTIO_PCI_CAP_DEVICE_CFG) device_cfg_offset_ = offset;
        if (type == VIRTIO_PCI_CAP_NOTIFY_CFG) {
          notify_offset_ = offset;
          notify_multiplier_ = config(cap + VIRTIO_PCI_NOTIFY_CAP_MULT, 4);
        }
      }
      cap = static_cast<uint8_t>(config(cap + VIRTIO_PCI_CAP_NEXT, 1));
    }
  }

  sim::SimDevice& device_;
  const sim::GuestMemory& memory_;
  sim::DmaAllocator& allocator_;
  unsigned bar_ = 0;
  uint32_t common_offset_ = 0;
  uint32_t notify_offset_ = 0;
  uint32_t notify_multiplier_ = 0;
  uint32_t isr_offset_ = 0;
  uint32_t device_cfg_offset_ = 0;
  uint64_t negotiated_ = 0;
  std::vector<std::unique_ptr<TestRing>> rings_;
};

// Guest memory, an allocator over it and one echo device with a TestDriver.
struct Machine {
  // 16 MiB of guest memory at the default base; an EchoDevice unless `backend`
  // is given.
  explicit Machine(sim::DeviceOptions options = {},
                   std::unique_ptr<sim::DeviceBackend> backend = nullptr)
      : memory(sim::GuestMemory::Create(16 << 20)),
        allocator(std::make_unique<sim::DmaAllocator>(*memory)) {
    if (backend == nullptr) backend = std::make_unique<sim::EchoDevice>();
    echo = dynamic_cast<sim::EchoDevice*>(backend.get());
    device = sim::MakeDevice(*memory, std::move(backend), options);
    driver = std::make_unique<TestDriver>(*device, *memory, *allocator);
  }
  sim::VirtioDeviceModel& model() { return device->model(); }
  // The names of the violations recorded so far.
  std::vector<std::string> ViolationNames() const {
    std::vector<std::string> names;
    for (const sim::ViolationRecord& record : device->violations()) {
      names.push_back(record.name());
    }
    return names;
  }

  std::unique_ptr<sim::GuestMemory> memory;
  std::unique_ptr<sim::DmaAllocator> allocator;
  std::unique_ptr<sim::SimDevice> device;
  std::unique_ptr<TestDriver> driver;
  sim::EchoDevice* echo = nullptr;  // The backend, when it is an EchoDevice.
};

}  // namespace sim_test

#endif  // TESTS_SIM_TEST_DRIVER_H_
