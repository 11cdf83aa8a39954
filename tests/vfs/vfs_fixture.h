// A test fixture with a freshly booted VFS kernel (memfs at "/", "/tmp") whose
// init task the test thread (and any thread it starts) acts as; shut down
// afterwards.
#ifndef TESTS_VFS_VFS_FIXTURE_H_
#define TESTS_VFS_VFS_FIXTURE_H_

#include <fcntl.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>

#include "tests/vfs/host_platform.h"
#include "vfs/kernel.h"
#include "vfs/posix.h"
#include "vfs/task.h"

namespace vfs_test {

class VfsTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_NO_FATAL_FAILURE(BootKernel()); }
  void TearDown() override { kernel_.reset(); }

  // A fresh kernel in place of the current one, its init task the default.
  void BootKernel() {
    kernel_.reset();
    auto booted = vfs::Kernel::Boot(platform_, BootOptions());
    ASSERT_TRUE(booted.ok());
    kernel_ = std::move(booted).value();
    ASSERT_TRUE(vfs::OfferDefaultTask(&kernel_->init_task()));
  }

  virtual vfs::BootOptions BootOptions() { return {}; }

  // Writes `data` to a new file at `path`.
  void WriteFile(const char* path, const std::string& data) {
    int fd = vfs::open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ASSERT_GE(fd, 0) << path;
    ASSERT_EQ(vfs::write(fd, data.data(), data.size()),
              static_cast<int64_t>(data.size()));
    ASSERT_EQ(vfs::close(fd), 0);
  }

  std::string ReadFile(const char* path) {
    int fd = vfs::open(path, 0);
    if (fd < 0) return "<" + std::to_string(fd) + ">";
    std::string out;
    char buffer[4096];
    int64_t n;
    while ((n = vfs::read(fd, buffer, sizeof(buffer))) > 0)
      out.append(buffer, n);
    vfs::close(fd);
    return out;
  }

  HostPlatform platform_;
  std::unique_ptr<vfs::Kernel> kernel_;
};

}  // namespace vfs_test

#endif  // TESTS_VFS_VFS_FIXTURE_H_
