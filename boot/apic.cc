#include "boot/apic.h"

#include "boot/mmio.h"
#include "boot/paging.h"
#include "boot/x86.h"

namespace boot {
namespace {

constexpr uint32_t kIa32ApicBaseMsr = 0x1b;
constexpr uint64_t kApicBaseGlobalEnable = uint64_t{1} << 11;
constexpr uint64_t kApicBaseAddressMask = 0xffffff000;
constexpr uint32_t kCpuidApicBit = 1u << 9;  // CPUID.1:EDX.APIC

// Local APIC registers (offsets from its base).
constexpr uint32_t kApicId = 0x20;
constexpr uint32_t kApicTaskPriority = 0x80;
constexpr uint32_t kApicEoi = 0xb0;
constexpr uint32_t kApicSpuriousVector = 0xf0;
constexpr uint32_t kApicSoftwareEnable = 1u << 8;
constexpr uint32_t kApicTimerLvt = 0x320;
constexpr uint32_t kApicTimerInitialCount = 0x380;
constexpr uint32_t kApicTimerCurrentCount = 0x390;
constexpr uint32_t kApicTimerDivide = 0x3e0;
constexpr uint32_t kApicTimerDivideBy1 = 0xb;
constexpr uint32_t kLvtMasked = 1u << 16;  // One-shot mode: bits 17-18 zero.

// I/O APIC registers (through IOREGSEL / IOWIN).
constexpr uint32_t kIoApicSelect = 0x00;
constexpr uint32_t kIoApicWindow = 0x10;
constexpr uint32_t kIoApicVersion = 0x01;
constexpr uint32_t kIoApicRedirection = 0x10;  // Two registers per input.
constexpr uint32_t kRedirectionLevel = 1u << 15;
constexpr uint32_t kRedirectionActiveLow = 1u << 13;
constexpr uint32_t kRedirectionMasked = 1u << 16;

// The 8259 pair: command and data ports of the master and the slave.
constexpr uint16_t kMasterCommand = 0x20;
constexpr uint16_t kMasterData = 0x21;
constexpr uint16_t kSlaveCommand = 0xa0;
constexpr uint16_t kSlaveData = 0xa1;
constexpr uint8_t kIcw1Init = 0x11;  // Edge, cascade, ICW4 follows.
constexpr uint8_t kIcw4x86 = 0x01;

uint64_t local_apic_base = 0;

uint32_t LocalApicRead(uint32_t offset) {
  return MmioRead(local_apic_base + offset, 4);
}

void LocalApicWrite(uint32_t offset, uint32_t value) {
  MmioWrite(local_apic_base + offset, 4, value);
}

}  // namespace

bool EnableLocalApic() {
  if ((Cpuid(1).edx & kCpuidApicBit) == 0) return false;
  uint64_t base = ReadMsr(kIa32ApicBaseMsr);
  if ((base & kApicBaseGlobalEnable) == 0) {
    base |= kApicBaseGlobalEnable;
    WriteMsr(kIa32ApicBaseMsr, base);
  }
  local_apic_base = base & kApicBaseAddressMask;
  // The entry stub maps the default base (0xfee00000) uncached already; a
  // relocated one may lie elsewhere.
  if (!MapDeviceMemory(local_apic_base, 4096)) return false;
  LocalApicWrite(kApicTaskPriority, 0);
  LocalApicWrite(kApicSpuriousVector, kApicSoftwareEnable | kSpuriousVector);
  return true;
}

uint32_t LocalApicId() { return LocalApicRead(kApicId) >> 24; }

void SignalEndOfInterrupt() {
  if (local_apic_base != 0) LocalApicWrite(kApicEoi, 0);
}

void StartLocalApicTimer(uint8_t vector, uint32_t count) {
  LocalApicWrite(kApicTimerDivide, kApicTimerDivideBy1);
  LocalApicWrite(kApicTimerLvt, vector);
  LocalApicWrite(kApicTimerInitialCount, count);  // Starts the count.
}

void StopLocalApicTimer() {
  LocalApicWrite(kApicTimerInitialCount, 0);
  LocalApicWrite(kApicTimerLvt, kLvtMasked);
}

uint32_t LocalApicTimerCount() { return LocalApicRead(kApicTimerCurrentCount); }

void DisableLegacyPics() {
  // The initialisation sequence (ICW1..ICW4) is the only way to change the
  // vector base; the masks (OCW1) follow.
  Out8(kMasterCommand, kIcw1Init);
  Out8(kSlaveCommand, kIcw1Init);
  Out8(kMasterData, kLegacyPicVectorBase);
  Out8(kSlaveData, kLegacyPicVectorBase + 8);
  Out8(kMasterData, 1u << 2);  // The slave hangs on IRQ 2.
  Out8(kSlaveData, 2);         // Its cascade identity.
  Out8(kMasterData, kIcw4x86);
  Out8(kSlaveData, kIcw4x86);
  Out8(kMasterData, 0xff);
  Out8(kSlaveData, 0xff);
}

uint32_t IoApic::Read(uint32_t index) {
  MmioWrite(base_ + kIoApicSelect, 4, index);
  return MmioRead(base_ + kIoApicWindow, 4);
}

void IoApic::Write(uint32_t index, uint32_t value) {
  MmioWrite(base_ + kIoApicSelect, 4, index);
  MmioWrite(base_ + kIoApicWindow, 4, value);
}

unsigned IoApic::pins() { return ((Read(kIoApicVersion) >> 16) & 0xff) + 1; }

void IoApic::Route(unsigned pin, uint8_t vector, Trigger trigger,
                   Polarity polarity, uint32_t apic_id) {
  uint32_t low = vector | kRedirectionMasked;  // Fixed, physical: zeroes.
  if (trigger == Trigger::kLevel) low |= kRedirectionLevel;
  if (polarity == Polarity::kActiveLow) low |= kRedirectionActiveLow;
  // Masked while the destination changes, so that no half-written entry
  // delivers.
  Write(kIoApicRedirection + 2 * pin, kRedirectionMasked);
  Write(kIoApicRedirection + 2 * pin + 1, apic_id << 24);
  Write(kIoApicRedirection + 2 * pin, low);
}

void IoApic::SetMasked(unsigned pin, bool masked) {
  const uint32_t low = Read(kIoApicRedirection + 2 * pin);
  Write(kIoApicRedirection + 2 * pin,
        masked ? low | kRedirectionMasked : low & ~kRedirectionMasked);
}

}  // namespace boot
