// vfs::Pipe and OpenFifo: open(2) of a FIFO. As on Linux (fs/pipe.c), a
// FIFO's data never reaches its filesystem: the VFS keeps a pipe on the FIFO's
// node, and the filesystem only holds the name and attributes.
//
// Opening for reading or writing alone waits for the other end unless
// O_NONBLOCK (then a writer without a reader is ENXIO); O_RDWR never waits.
// Reads wait for data while a writer is present, and see end-of-file once none
// is; writes without a reader fail with EPIPE; writes of at most kAtomic bytes
// go in whole. Waiting spins with Platform::Relax, as every wait of this kernel
// does. The data goes when the last end is closed.
#ifndef VFS_FIFO_H_
#define VFS_FIFO_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "base/platform.h"
#include "base/result.h"
#include "vfs/node.h"
#include "vfs/open_file.h"
#include "vfs/spin_lock.h"

namespace vfs {

// The pipe of one FIFO node (Node::pipe()).
struct Pipe {
  static constexpr size_t kCapacity = 65536;  // Linux's default.
  static constexpr size_t kAtomic = 4096;     // PIPE_BUF.

  SpinLock lock;
  // Under `lock`:
  std::unique_ptr<std::byte[]> buffer;  // While an end is open.
  size_t head = 0;                      // Next byte to read.
  size_t used = 0;
  uint32_t readers = 0, writers = 0;
  // Opens of each end ever: an open waiting for the other end watches them.
  std::atomic<uint32_t> reader_opens{0}, writer_opens{0};
};

// An open file on the FIFO `node` with open(2)'s `flags`. ENXIO, ENOMEM.
Result<RefPtr<OpenFile>> OpenFifo(base::Platform& platform, RefPtr<Node> node,
                                  int flags);

}  // namespace vfs

#endif  // VFS_FIFO_H_
