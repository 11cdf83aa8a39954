// A hand-written vhost-user front-end for tests of vhost_user::Device: it owns
// guest memory (a memfd the device maps), lays out rings in it with
// sim_test::TestRing (split) or PackedTestRing (packed), and sends the device
// messages over a socketpair while a thread of the test serves the other end.
// It does right and wrong things on purpose.
#ifndef TESTS_VHOST_USER_TEST_FRONTEND_H_
#define TESTS_VHOST_USER_TEST_FRONTEND_H_

#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "sim/dma_allocator.h"
#include "sim/guest_memory.h"
#include "tests/sim/test_driver.h"
#include "vhost_user/device.h"
#include "vhost_user/protocol.h"

namespace vhost_user_test {

using vhost_user::Header;
using vhost_user::UniqueFd;

class TestFrontend {
 public:
  // Serves `device` on a socketpair in a thread; `memory_bytes` of guest
  // memory.
  explicit TestFrontend(vhost_user::Device& device,
                        uint64_t memory_bytes = 1 << 20)
      : memory_(sim::GuestMemory::Create(memory_bytes)), allocator_(*memory_) {
    int fds[2];
    EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    socket_ = UniqueFd(fds[0]);
    served_socket_ = UniqueFd(fds[1]);
    server_ = std::thread([this, &device] {
      served_ = device.Serve(served_socket_.get());
      served_socket_.Reset();  // As the server does: the connection ends.
    });
  }
  ~TestFrontend() { Close().IgnoreError(); }

  // Ends the connection and waits for Serve to return; its result.
  absl::Status Close() {
    socket_.Reset();
    if (server_.joinable()) server_.join();
    return served_;
  }

  sim::GuestMemory& memory() { return *memory_; }
  sim::DmaAllocator& allocator() { return allocator_; }
  // The front-end address of bus address `bus` (its own mapping).
  uint64_t FrontendAddress(uint64_t bus) {
    return reinterpret_cast<uint64_t>(memory_->HostPointer(bus, 1));
  }

  // Sends a request; `need_reply` sets the REPLY_ACK flag. False when the
  // device has closed the connection.
  bool Send(uint32_t request, const void* payload, uint32_t size,
            std::vector<int> fds = {}, bool need_reply = false,
            uint32_t flags = vhost_user::kVersion) {
    Header header{request,
                  flags | (need_reply ? vhost_user::kNeedReplyFlag : 0u), size};
    std::vector<uint8_t> bytes(sizeof(header) + size);
    std::memcpy(bytes.data(), &header, sizeof(header));
    if (size) std::memcpy(bytes.data() + sizeof(header), payload, size);
    iovec iov{bytes.data(), bytes.size()};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 16)];
    if (!fds.empty()) {
      msg.msg_control = control;
      msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
      cmsghdr* c = CMSG_FIRSTHDR(&msg);
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_RIGHTS;
      c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
      std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
    }
    return sendmsg(socket_.get(), &msg, MSG_NOSIGNAL) ==
           static_cast<ssize_t>(bytes.size());
  }
  template <typename T>
  bool SendValue(uint32_t request, const T& value, std::vector<int> fds = {},
                 bool need_reply = false) {
    return Send(request, &value, sizeof(value), std::move(fds), need_reply);
  }

  // The next reply's payload; nullopt when the connection closed or the reply
  // is malformed.
  std::optional<std::vector<uint8_t>> Reply(uint32_t request) {
    Header header;
    if (!ReadAll(&header, sizeof(header))) return std::nullopt;
    EXPECT_EQ(header.request, request);
    EXPECT_EQ(header.flags, vhost_user::kVersion | vhost_user::kReplyFlag);
    std::vector<uint8_t> payload(header.size);
    if (header.size && !ReadAll(payload.data(), header.size)) {
      return std::nullopt;
    }
    return payload;
  }
  std::optional<uint64_t> U64Reply(uint32_t request) {
    std::optional<std::vector<uint8_t>> payload = Reply(request);
    if (!payload || payload->size() != 8) return std::nullopt;
    uint64_t value;
    std::memcpy(&value, payload->data(), 8);
    return value;
  }
  // Whether the device closed the connection: end of stream, or a reset when
  // it closed with the refused message's bytes unread.
  bool Closed() {
    char byte;
    const ssize_t n = read(socket_.get(), &byte, 1);
    return n == 0 || (n < 0 && errno == ECONNRESET);
  }

  // The usual start: features (with protocol features and REPLY_ACK), owner,
  // and the memory table of the one region.
  void Negotiate(uint64_t features) {
    ASSERT_TRUE(Send(vhost_user::kGetFeatures, nullptr, 0));
    ASSERT_TRUE(U64Reply(vhost_user::kGetFeatures).has_value());
    ASSERT_TRUE(Send(vhost_user::kSetOwner, nullptr, 0));
    ASSERT_TRUE(SendValue(vhost_user::kSetFeatures, features));
    ASSERT_TRUE(SendValue(vhost_user::kSetProtocolFeatures,
                          vhost_user::kProtocolReplyAck));
    SendMemoryTable();
  }
  void SendMemoryTable() {
    vhost_user::MemoryTable table{};
    table.num_regions = 1;
    table.regions[0] = {memory_->base(), memory_->size(),
                        FrontendAddress(memory_->base()), 0};
    ASSERT_TRUE(Send(vhost_user::kSetMemTable, &table, 8 + 32, {memory_->fd()},
                     /*need_reply=*/true));
    ASSERT_EQ(U64Reply(vhost_user::kSetMemTable), 0u);
  }

  // Configures vring `index` on `ring` (rings in guest memory) with fresh
  // kick and call eventfds and enables it. REPLY_ACK must be negotiated.
  void StartVring(uint32_t index, sim_test::TestRing& ring, uint32_t base = 0) {
    StartVring(index, ring.layout(), base);
  }
  // The same for a ring of either format laid out at `layout`; `base` as
  // SET_VRING_BASE carries it.
  void StartVring(uint32_t index, const sim::QueueLayout& layout,
                  uint32_t base) {
    vhost_vring_state num{index, layout.size};
    ASSERT_TRUE(SendValue(vhost_user::kSetVringNum, num, {}, true));
    ASSERT_EQ(U64Reply(vhost_user::kSetVringNum), 0u);
    vhost_vring_state state{index, base};
    ASSERT_TRUE(SendValue(vhost_user::kSetVringBase, state, {}, true));
    ASSERT_EQ(U64Reply(vhost_user::kSetVringBase), 0u);
    ASSERT_TRUE(SendVringAddresses(index, layout));
    ASSERT_EQ(U64Reply(vhost_user::kSetVringAddr), 0u);
    kick_ = UniqueFd(eventfd(0, EFD_CLOEXEC));
    call_ = UniqueFd(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    ASSERT_TRUE(SendValue(vhost_user::kSetVringCall, uint64_t{index},
                          {call_.get()}, true));
    ASSERT_EQ(U64Reply(vhost_user::kSetVringCall), 0u);
    ASSERT_TRUE(SendValue(vhost_user::kSetVringKick, uint64_t{index},
                          {kick_.get()}, true));
    ASSERT_EQ(U64Reply(vhost_user::kSetVringKick), 0u);
    vhost_vring_state enable{index, 1};
    ASSERT_TRUE(SendValue(vhost_user::kSetVringEnable, enable, {}, true));
    ASSERT_EQ(U64Reply(vhost_user::kSetVringEnable), 0u);
  }

  // SET_VRING_ADDR with the front-end addresses of `layout` (REPLY_ACK
  // asked).
  bool SendVringAddresses(uint32_t index, const sim::QueueLayout& layout) {
    vhost_vring_addr addr{};
    addr.index = index;
    addr.desc_user_addr = FrontendAddress(layout.desc);
    addr.avail_user_addr = FrontendAddress(layout.driver);
    addr.used_user_addr = FrontendAddress(layout.device);
    return SendValue(vhost_user::kSetVringAddr, addr, {}, true);
  }
  // GET_VRING_BASE of vring `index` (which stops it); nullopt when the
  // connection ended or the reply is not a vring state of that index.
  std::optional<uint32_t> GetVringBase(uint32_t index) {
    vhost_vring_state which{index, 0};
    if (!SendValue(vhost_user::kGetVringBase, which)) return std::nullopt;
    std::optional<std::vector<uint8_t>> reply =
        Reply(vhost_user::kGetVringBase);
    if (!reply || reply->size() != sizeof(vhost_vring_state)) {
      return std::nullopt;
    }
    vhost_vring_state state;
    std::memcpy(&state, reply->data(), sizeof(state));
    if (state.index != index) return std::nullopt;
    return state.num;
  }

  // The eventfds of the last StartVring, to keep while another ring starts.
  UniqueFd TakeKick() { return std::move(kick_); }
  UniqueFd TakeCall() { return std::move(call_); }

  void Kick() {
    const uint64_t one = 1;
    ASSERT_EQ(write(kick_.get(), &one, 8), 8);
  }
  // Whether the call eventfd was signalled since the last look (and clears
  // it).
  bool Called() {
    uint64_t count;
    return read(call_.get(), &count, 8) == 8;
  }

 private:
  bool ReadAll(void* out, size_t size) {
    size_t done = 0;
    while (done < size) {
      const ssize_t n =
          read(socket_.get(), static_cast<char*>(out) + done, size - done);
      if (n <= 0) return false;
      done += static_cast<size_t>(n);
    }
    return true;
  }

  std::unique_ptr<sim::GuestMemory> memory_;
  sim::DmaAllocator allocator_;
  UniqueFd socket_;
  UniqueFd served_socket_;
  std::thread server_;
  absl::Status served_;
  UniqueFd kick_;
  UniqueFd call_;
};

}  // namespace vhost_user_test

#endif  // TESTS_VHOST_USER_TEST_FRONTEND_H_
