#include "vfs/fifo.h"

#include <new>
#include <utility>

namespace vfs {
namespace {

class FifoFile final : public OpenFile {
 public:
  FifoFile(base::Platform& platform, RefPtr<Node> node, int flags, Pipe& pipe)
      : OpenFile(platform, std::move(node), flags),
        platform_(platform),
        pipe_(pipe) {}

  // Counts this file as an end of the pipe (the pipe's lock held); from then
  // on its destructor uncounts it.
  void CountAsEnd() {
    if (readable()) {
      ++pipe_.readers;
      pipe_.reader_opens.fetch_add(1, std::memory_order_release);
    }
    if (writable()) {
      ++pipe_.writers;
      pipe_.writer_opens.fetch_add(1, std::memory_order_release);
    }
    counted_ = true;
  }

  ~FifoFile() override {
    if (!counted_) return;
    std::unique_ptr<std::byte[]> dropped;
    SpinGuard guard(pipe_.lock);
    if (readable()) --pipe_.readers;
    if (writable()) --pipe_.writers;
    if (pipe_.readers == 0 && pipe_.writers == 0) {
      dropped = std::move(pipe_.buffer);
      pipe_.head = pipe_.used = 0;
    }
  }

 protected:
  Result<size_t> ReadAt(std::span<std::byte> buffer, uint64_t) override {
    if (buffer.empty()) return size_t{0};
    for (;;) {
      {
        SpinGuard guard(pipe_.lock);
        if (pipe_.used > 0) {
          size_t n = 0;
          while (n < buffer.size() && pipe_.used > 0) {
            buffer[n++] = pipe_.buffer[pipe_.head];
            pipe_.head = (pipe_.head + 1) % Pipe::kCapacity;
            --pipe_.used;
          }
          return n;
        }
        if (pipe_.writers == 0) return size_t{0};
      }
      if (flags() & base::kOpenNonBlock) return Error{EAGAIN};
      platform_.Relax();
    }
  }

  Result<size_t> WriteAt(std::span<const std::byte> data, uint64_t*,
                         bool) override {
    size_t written = 0;
    while (written < data.size()) {
      {
        SpinGuard guard(pipe_.lock);
        if (pipe_.readers == 0) return Error{EPIPE};
        const size_t space = Pipe::kCapacity - pipe_.used;
        const size_t left = data.size() - written;
        if (space > 0 && (left > Pipe::kAtomic || space >= left)) {
          const size_t n = left < space ? left : space;
          for (size_t i = 0; i < n; ++i) {
            pipe_.buffer[(pipe_.head + pipe_.used) % Pipe::kCapacity] =
                data[written + i];
            ++pipe_.used;
          }
          written += n;
          continue;
        }
      }
      if (flags() & base::kOpenNonBlock) {
        if (written > 0) return written;
        return Error{EAGAIN};
      }
      platform_.Relax();
    }
    return written;
  }

  Result<uint32_t> PollReady(uint32_t events) override {
    SpinGuard guard(pipe_.lock);
    uint32_t ready = 0;
    if ((events & base::kPollIn) && (pipe_.used > 0 || pipe_.writers == 0)) {
      ready |= base::kPollIn;
    }
    if ((events & base::kPollOut) && pipe_.used < Pipe::kCapacity) {
      ready |= base::kPollOut;
    }
    return ready;
  }

  Result<uint64_t> SeekDataOrHole(uint64_t, int) override {
    return Error{ESPIPE};
  }

 private:
  base::Platform& platform_;
  Pipe& pipe_;  // The node's: the file holds the node.
  bool counted_ = false;
};

// Waits until the other end has been opened since `seen` opens of it.
void WaitForOtherEnd(base::Platform& platform,
                     const std::atomic<uint32_t>& opens, uint32_t seen) {
  while (opens.load(std::memory_order_acquire) == seen) platform.Relax();
}

}  // namespace

Result<RefPtr<OpenFile>> OpenFifo(base::Platform& platform, RefPtr<Node> node,
                                  int flags) {
  Pipe* pipe = node->pipe();
  if (!pipe) return Error{ENOMEM};
  const int mode = flags & base::kOpenAccessMode;
  const bool reads = mode != base::kOpenWriteOnly;
  const bool writes = mode != base::kOpenReadOnly;
  const bool nonblock = (flags & base::kOpenNonBlock) != 0;
  std::unique_ptr<std::byte[]> buffer(new (std::nothrow)
                                          std::byte[Pipe::kCapacity]);
  RefPtr<FifoFile> file(new (std::nothrow)
                            FifoFile(platform, node, flags, *pipe));
  if (!buffer || !file) return Error{ENOMEM};
  bool wait_for_writer = false, wait_for_reader = false;
  uint32_t writers_seen, readers_seen;
  {
    SpinGuard guard(pipe->lock);
    if (writes && !reads && nonblock && pipe->readers == 0) {
      return Error{ENXIO};
    }
    if (!pipe->buffer) pipe->buffer = std::move(buffer);
    writers_seen = pipe->writer_opens.load(std::memory_order_relaxed);
    readers_seen = pipe->reader_opens.load(std::memory_order_relaxed);
    wait_for_writer = !writes && !nonblock && pipe->writers == 0;
    wait_for_reader = !reads && !nonblock && pipe->readers == 0;
    file->CountAsEnd();
  }
  if (wait_for_writer) {
    WaitForOtherEnd(platform, pipe->writer_opens, writers_seen);
  }
  if (wait_for_reader) {
    WaitForOtherEnd(platform, pipe->reader_opens, readers_seen);
  }
  return RefPtr<OpenFile>(std::move(file));
}

}  // namespace vfs
