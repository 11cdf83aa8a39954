// A scripted FUSE device for FuseClient tests: a FuseChannel that records every
// request and answers it with whatever the test's handler returns, well formed
// or hostile.
#ifndef TESTS_DRIVER_SCRIPTED_FUSE_DEVICE_H_
#define TESTS_DRIVER_SCRIPTED_FUSE_DEVICE_H_

#include <linux/fuse.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/platform.h"
#include "driver/fuse_channel.h"
#include "tests/driver/heap_fuse_channel.h"

namespace driver_test {

// Keeps log lines so tests can check that refused replies are logged.
class LogPlatform : public base::Platform {
 public:
  base::Result<base::DmaRegion> AllocateDma(size_t, size_t) override {
    return base::Error{ENOMEM};
  }
  void FreeDma(const base::DmaRegion&) override {}
  // FUSE tests over a scripted channel map nothing.
  base::Result<base::DmaMapping> MapDma(void*, size_t,
                                        base::DmaDirection) override {
    return base::Error{ENODEV};
  }
  void UnmapDma(const base::DmaMapping&, size_t) override {}
  uint64_t MonotonicNanos() override { return 0; }
  void Log(base::LogLevel, const char* message) override {
    std::lock_guard<std::mutex> lock(mutex_);
    logs_.push_back(message);
  }
  std::unique_ptr<base::Lock> CreateLock() override { return nullptr; }
  void Relax() override {}

  std::vector<std::string> logs() {
    std::lock_guard<std::mutex> lock(mutex_);
    return logs_;
  }
  // How many log lines contain `text`.
  int CountLogs(const std::string& text) {
    std::lock_guard<std::mutex> lock(mutex_);
    return static_cast<int>(std::count_if(
        logs_.begin(), logs_.end(),
        [&](const auto& l) { return l.find(text) != std::string::npos; }));
  }

 private:
  std::mutex mutex_;
  std::vector<std::string> logs_;
};

// One request as the device saw it.
struct SeenRequest {
  driver::FuseLane lane = driver::FuseLane::kRequest;
  std::vector<uint8_t> bytes;  // All request segments, concatenated.
  size_t segments = 0;
  size_t reply_capacity = 0;
  size_t reply_segments = 0;

  fuse_in_header header() const {
    fuse_in_header h{};
    std::memcpy(&h, bytes.data(), std::min(bytes.size(), sizeof(h)));
    return h;
  }
  uint32_t opcode() const { return header().opcode; }
  uint64_t unique() const { return header().unique; }
  uint64_t nodeid() const { return header().nodeid; }
  // The operation's struct after the header (the first `size` bytes of it).
  template <typename T>
  T in(size_t size = sizeof(T)) const {
    T value{};
    if (bytes.size() >= sizeof(fuse_in_header) + size) {
      std::memcpy(&value, bytes.data() + sizeof(fuse_in_header), size);
    }
    return value;
  }
  // The bytes after the header and a struct of `in_size` bytes.
  std::vector<uint8_t> tail(size_t in_size) const {
    const size_t start = sizeof(fuse_in_header) + in_size;
    if (bytes.size() < start) return {};
    return std::vector<uint8_t>(bytes.begin() + start, bytes.end());
  }
  // The NUL-terminated strings after the header and a struct of `in_size`
  // bytes.
  std::vector<std::string> names(size_t in_size) const {
    std::vector<std::string> out;
    std::vector<uint8_t> t = tail(in_size);
    size_t start = 0;
    for (size_t i = 0; i < t.size(); ++i) {
      if (t[i] == 0) {
        out.emplace_back(reinterpret_cast<const char*>(t.data()) + start,
                         i - start);
        start = i + 1;
      }
    }
    return out;
  }
};

// What the device answers: the reply bytes (scattered into the reply buffers as
// far as they reach) and the used length it reports (by default the number of
// bytes).
struct ScriptedReply {
  std::vector<uint8_t> bytes;
  std::optional<uint32_t> used;
  std::optional<int>
      channel_error;  // Fail the exchange itself with this errno.
};

inline std::vector<uint8_t> ReplyBytes(uint64_t unique, int32_t error,
                                       const void* payload, size_t size) {
  fuse_out_header h{};
  h.len = static_cast<uint32_t>(sizeof(h) + size);
  h.error = error;
  h.unique = unique;
  std::vector<uint8_t> out(sizeof(h) + size);
  std::memcpy(out.data(), &h, sizeof(h));
  if (size) std::memcpy(out.data() + sizeof(h), payload, size);
  return out;
}

template <typename T>
ScriptedReply Ok(const SeenRequest& request, const T& out) {
  return {ReplyBytes(request.unique(), 0, &out, sizeof(out))};
}
inline ScriptedReply OkEmpty(const SeenRequest& request) {
  return {ReplyBytes(request.unique(), 0, nullptr, 0)};
}
inline ScriptedReply OkData(const SeenRequest& request,
                            const std::vector<uint8_t>& data) {
  return {ReplyBytes(request.unique(), 0, data.data(), data.size())};
}
inline ScriptedReply Err(const SeenRequest& request, int errno_value) {
  return {ReplyBytes(request.unique(), -errno_value, nullptr, 0)};
}
inline ScriptedReply NoReply() { return {{}, 0u}; }

inline fuse_init_out GoodInit(uint32_t max_write = 1 << 20,
                              uint16_t max_pages = 256) {
  fuse_init_out out{};
  out.major = FUSE_KERNEL_VERSION;
  out.minor = FUSE_KERNEL_MINOR_VERSION;
  out.max_readahead = 128 * 1024;
  out.flags = FUSE_ASYNC_READ | FUSE_ATOMIC_O_TRUNC | FUSE_BIG_WRITES |
              FUSE_MAX_PAGES | FUSE_PARALLEL_DIROPS | FUSE_DO_READDIRPLUS;
  out.max_write = max_write;
  out.max_pages = max_pages;
  return out;
}

inline fuse_attr RegularAttr(uint64_t ino, uint64_t size = 0) {
  fuse_attr attr{};
  attr.ino = ino;
  attr.size = size;
  attr.mode = 0100644;
  attr.nlink = 1;
  return attr;
}

inline fuse_entry_out EntryOut(uint64_t nodeid, uint32_t mode = 0100644) {
  fuse_entry_out out{};
  out.nodeid = nodeid;
  out.generation = 7;
  out.entry_valid = 1;
  out.attr_valid = 2;
  out.attr = RegularAttr(nodeid);
  out.attr.mode = mode;
  return out;
}

// Appends one fuse_dirent record (padded as FUSE_DIRENT_SIZE says) to `buffer`.
inline void AppendDirent(std::vector<uint8_t>& buffer, uint64_t ino,
                         uint64_t off, const std::string& name,
                         uint32_t type = 8) {
  fuse_dirent d{};
  d.ino = ino;
  d.off = off;
  d.namelen = static_cast<uint32_t>(name.size());
  d.type = type;
  const size_t start = buffer.size();
  buffer.resize(start + FUSE_DIRENT_ALIGN(FUSE_NAME_OFFSET + name.size()), 0);
  std::memcpy(buffer.data() + start, &d, FUSE_NAME_OFFSET);
  std::memcpy(buffer.data() + start + FUSE_NAME_OFFSET, name.data(),
              name.size());
}

inline void AppendDirentPlus(std::vector<uint8_t>& buffer,
                             const fuse_entry_out& entry, uint64_t off,
                             const std::string& name, uint32_t type = 8) {
  fuse_dirent d{};
  d.ino = entry.attr.ino;
  d.off = off;
  d.namelen = static_cast<uint32_t>(name.size());
  d.type = type;
  const size_t start = buffer.size();
  buffer.resize(
      start + FUSE_DIRENT_ALIGN(FUSE_NAME_OFFSET_DIRENTPLUS + name.size()), 0);
  std::memcpy(buffer.data() + start, &entry, sizeof(entry));
  std::memcpy(buffer.data() + start + sizeof(entry), &d, FUSE_NAME_OFFSET);
  std::memcpy(buffer.data() + start + FUSE_NAME_OFFSET_DIRENTPLUS, name.data(),
              name.size());
}

class ScriptedFuseDevice : public HeapFuseChannel {
 public:
  using Handler = std::function<ScriptedReply(const SeenRequest&)>;

  // Answers INIT well and everything else through `handler` (ENOSYS when none
  // is set).
  ScriptedFuseDevice() {
    handler_ = [](const SeenRequest& r) { return Err(r, ENOSYS); };
  }

  void SetHandler(Handler handler) {
    std::lock_guard<std::mutex> lock(mutex_);
    handler_ = std::move(handler);
  }
  void SetInit(fuse_init_out init) { init_ = init; }
  void SetMaxDataBytes(uint32_t bytes) { max_data_bytes_ = bytes; }

  std::vector<SeenRequest> requests() {
    std::lock_guard<std::mutex> lock(mutex_);
    return requests_;
  }
  // The requests seen after INIT.
  std::vector<SeenRequest> requests_after_init() {
    std::vector<SeenRequest> all = requests();
    std::vector<SeenRequest> out;
    for (auto& r : all) {
      if (r.opcode() != FUSE_INIT) out.push_back(r);
    }
    return out;
  }
  void ClearRequests() {
    std::lock_guard<std::mutex> lock(mutex_);
    requests_.clear();
  }

  base::Result<uint32_t> Transfer(
      driver::FuseLane lane, std::span<const driver::ConstBuffer> request,
      std::span<const driver::MutableBuffer> reply) override {
    SeenRequest seen;
    seen.lane = lane;
    seen.segments = request.size();
    for (const auto& segment : request) {
      const auto* p = static_cast<const uint8_t*>(segment.data);
      seen.bytes.insert(seen.bytes.end(), p, p + segment.size);
    }
    seen.reply_segments = reply.size();
    for (const auto& segment : reply) seen.reply_capacity += segment.size;
    Handler handler;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      requests_.push_back(seen);
      handler = handler_;
    }
    ScriptedReply answer = seen.opcode() == FUSE_INIT && !script_init_
                               ? Ok(seen, init_)
                               : handler(seen);
    if (answer.channel_error) return base::Error{*answer.channel_error};
    // Scatter the reply over the buffers, never past them.
    size_t at = 0;
    for (const auto& segment : reply) {
      if (at >= answer.bytes.size()) break;
      const size_t n = std::min(segment.size, answer.bytes.size() - at);
      std::memcpy(segment.data, answer.bytes.data() + at, n);
      at += n;
    }
    return answer.used.value_or(static_cast<uint32_t>(answer.bytes.size()));
  }

  uint32_t MaxDataBytes() const override { return max_data_bytes_; }

  // Sends INIT through the handler too (for INIT tests).
  void ScriptInit(bool on) { script_init_ = on; }

 private:
  std::mutex mutex_;
  Handler handler_;
  std::vector<SeenRequest> requests_;
  fuse_init_out init_ = GoodInit();
  uint32_t max_data_bytes_ = UINT32_MAX;
  bool script_init_ = false;
};

}  // namespace driver_test

#endif  // TESTS_DRIVER_SCRIPTED_FUSE_DEVICE_H_
