// sim::TracingBackend and the decoding and formatting of sim/fuse_trace.h:
// requests and replies built by hand, including chains that lie about their
// lengths.
#include "sim/fuse_trace.h"

#include <fcntl.h>
#include <linux/fuse.h>

#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sim/tracing_backend.h"
#include "tests/cli/vfsim_runner.h"

namespace {

using ::testing::HasSubstr;

// Request bytes: a fuse_in_header, a fixed struct and names.
class RequestBuilder {
 public:
  RequestBuilder(uint32_t opcode, uint64_t unique, uint64_t nodeid) {
    fuse_in_header header = {};
    header.opcode = opcode;
    header.unique = unique;
    header.nodeid = nodeid;
    Append(&header, sizeof(header));
  }
  template <typename T>
  RequestBuilder& Struct(const T& value) {
    Append(&value, sizeof(value));
    return *this;
  }
  RequestBuilder& Name(const std::string& name) {
    Append(name.c_str(), name.size() + 1);
    return *this;
  }
  // Sets fuse_in_header.len (to the real size unless given).
  std::vector<uint8_t> Build(
      std::optional<uint32_t> claimed_len = std::nullopt) {
    uint32_t len = claimed_len.value_or(static_cast<uint32_t>(bytes_.size()));
    memcpy(bytes_.data(), &len, sizeof(len));
    return bytes_;
  }

 private:
  void Append(const void* data, size_t size) {
    const auto* p = static_cast<const uint8_t*>(data);
    bytes_.insert(bytes_.end(), p, p + size);
  }
  std::vector<uint8_t> bytes_;
};

sim::FuseTraceEvent Decode(const std::vector<uint8_t>& request) {
  return sim::DecodeFuseRequest(request.data(), request.size(), request.size());
}

std::vector<uint8_t> Reply(int32_t error, uint64_t unique,
                           const void* body = nullptr, size_t body_size = 0) {
  fuse_out_header header = {};
  header.len = static_cast<uint32_t>(sizeof(header) + body_size);
  header.error = error;
  header.unique = unique;
  std::vector<uint8_t> bytes(sizeof(header) + body_size);
  memcpy(bytes.data(), &header, sizeof(header));
  if (body_size > 0) memcpy(bytes.data() + sizeof(header), body, body_size);
  return bytes;
}

TEST(FuseTraceTest, NamesOfOpcodesErrnosFlagsAndQueues) {
  EXPECT_EQ(sim::FuseOpcodeName(FUSE_LOOKUP), "LOOKUP");
  EXPECT_EQ(sim::FuseOpcodeName(FUSE_BATCH_FORGET), "BATCH_FORGET");
  EXPECT_EQ(sim::FuseOpcodeName(FUSE_TMPFILE), "TMPFILE");
  EXPECT_EQ(sim::FuseOpcodeName(7), "OP_7");
  EXPECT_EQ(sim::ErrnoName(ENOENT), "ENOENT");
  EXPECT_EQ(sim::ErrnoName(EEXIST), "EEXIST");
  EXPECT_EQ(sim::OpenFlagsString(O_WRONLY | O_CREAT | O_TRUNC),
            "O_WRONLY|O_CREAT|O_TRUNC");
  EXPECT_EQ(sim::OpenFlagsString(O_RDONLY), "O_RDONLY");
  EXPECT_EQ(sim::OpenFlagsString(O_RDWR | O_SYNC), "O_RDWR|O_SYNC");
  EXPECT_EQ(sim::QueueName(0), "hiprio");
  EXPECT_EQ(sim::QueueName(1), "req0");
  EXPECT_EQ(sim::QueueName(3), "req2");
}

TEST(FuseTraceTest, CreateDecodesNameFlagsModeAndTheReply) {
  fuse_create_in create = {};
  create.flags = O_WRONLY | O_CREAT | O_EXCL;
  create.mode = 0100644;
  sim::FuseTraceEvent event = Decode(RequestBuilder(FUSE_CREATE, 8, 1)
                                         .Struct(create)
                                         .Name("notes.txt")
                                         .Build());
  EXPECT_EQ(event.opcode, FUSE_CREATE);
  EXPECT_EQ(event.unique, 8u);
  EXPECT_EQ(event.args.name, "notes.txt");
  EXPECT_EQ(event.args.mode, 0100644u);

  struct {
    fuse_entry_out entry;
    fuse_open_out open;
  } body = {};
  body.entry.nodeid = 42;
  body.open.fh = 7;
  std::vector<uint8_t> reply = Reply(0, 8, &body, sizeof(body));
  sim::DecodeFuseReply(reply.data(), reply.size(), reply.size(), event);
  EXPECT_TRUE(event.replied);
  EXPECT_EQ(event.out_node, 42u);
  EXPECT_EQ(event.out_fh, 7u);

  std::string line = sim::FormatFuseTraceLine(event);
  EXPECT_THAT(line, HasSubstr("#8"));
  EXPECT_THAT(
      line,
      HasSubstr("CREATE(node=1, \"notes.txt\", flags=O_WRONLY|O_CREAT|O_EXCL, "
                "mode=0100644) = 0 node=42 fh=7"));
  std::map<std::string, std::string> fields;
  ASSERT_TRUE(
      cli_test::ParseFlatJsonObject(sim::FormatFuseTraceJson(event), &fields));
  EXPECT_EQ(fields["op"], "CREATE");
  EXPECT_EQ(fields["name"], "notes.txt");
  EXPECT_EQ(fields["flags"], "O_WRONLY|O_CREAT|O_EXCL");
  EXPECT_EQ(fields["mode"], "0100644");
  EXPECT_EQ(fields["out_node"], "42");
  EXPECT_EQ(fields["out_fh"], "7");
}

TEST(FuseTraceTest, InitShowsTheFlagsOfferedAndAccepted) {
  fuse_init_in init = {};
  init.major = 7;
  init.minor = 38;
  init.flags = FUSE_ASYNC_READ | FUSE_DO_READDIRPLUS | FUSE_INIT_EXT;
  init.flags2 = FUSE_SECURITY_CTX >> 32;
  sim::FuseTraceEvent event =
      Decode(RequestBuilder(FUSE_INIT, 2, 0).Struct(init).Build());
  EXPECT_EQ(event.args.init_flags,
            uint64_t{FUSE_ASYNC_READ | FUSE_DO_READDIRPLUS | FUSE_INIT_EXT} |
                FUSE_SECURITY_CTX);
  fuse_init_out out = {};
  out.major = 7;
  out.minor = 38;
  out.flags = FUSE_DO_READDIRPLUS | 0x80000000u;  // An unnamed bit.
  std::vector<uint8_t> reply = Reply(0, 2, &out, sizeof(out));
  sim::DecodeFuseReply(reply.data(), reply.size(), reply.size(), event);
  EXPECT_EQ(event.out_init_flags, uint64_t{FUSE_DO_READDIRPLUS | 0x80000000u});
  const std::string line = sim::FormatFuseTraceLine(event);
  EXPECT_THAT(line, HasSubstr("INIT(node=0, version=7.38, "
                              "flags=ASYNC_READ|DO_READDIRPLUS|INIT_EXT|"
                              "SECURITY_CTX) = 0 flags=DO_READDIRPLUS|"
                              "0x80000000"));
  std::map<std::string, std::string> fields;
  ASSERT_TRUE(
      cli_test::ParseFlatJsonObject(sim::FormatFuseTraceJson(event), &fields));
  EXPECT_EQ(fields["init_flags"],
            "ASYNC_READ|DO_READDIRPLUS|INIT_EXT|SECURITY_CTX");
  EXPECT_EQ(fields["out_init_flags"], "DO_READDIRPLUS|0x80000000");
}

TEST(FuseTraceTest, ErrorsAreShownByName) {
  sim::FuseTraceEvent event =
      Decode(RequestBuilder(FUSE_LOOKUP, 10, 1).Name("missing").Build());
  std::vector<uint8_t> reply = Reply(-ENOENT, 10);
  sim::DecodeFuseReply(reply.data(), reply.size(), reply.size(), event);
  EXPECT_THAT(
      sim::FormatFuseTraceLine(event),
      HasSubstr(
          "LOOKUP(node=1, \"missing\") = ENOENT (No such file or directory)"));
  std::map<std::string, std::string> fields;
  ASSERT_TRUE(
      cli_test::ParseFlatJsonObject(sim::FormatFuseTraceJson(event), &fields));
  EXPECT_EQ(fields["error"], "ENOENT");
  EXPECT_EQ(fields["errno"], std::to_string(ENOENT));
  EXPECT_EQ(fields.count("result"), 0u);
}

TEST(FuseTraceTest, RenameReadAndWriteArguments) {
  fuse_rename_in rename = {};
  rename.newdir = 5;
  sim::FuseTraceEvent renamed = Decode(RequestBuilder(FUSE_RENAME, 2, 1)
                                           .Struct(rename)
                                           .Name("old")
                                           .Name("new")
                                           .Build());
  EXPECT_EQ(renamed.args.name, "old");
  EXPECT_EQ(renamed.args.name2, "new");
  EXPECT_EQ(renamed.args.new_parent, 5u);

  fuse_read_in read = {};
  read.fh = 3;
  read.offset = 4096;
  read.size = 8192;
  sim::FuseTraceEvent event =
      Decode(RequestBuilder(FUSE_READ, 4, 9).Struct(read).Build());
  std::vector<uint8_t> data(100, 'x');
  std::vector<uint8_t> reply = Reply(0, 4, data.data(), data.size());
  sim::DecodeFuseReply(reply.data(), reply.size(), reply.size(), event);
  EXPECT_EQ(event.result, 100u);
  EXPECT_THAT(sim::FormatFuseTraceLine(event),
              HasSubstr("READ(node=9, fh=3, offset=4096, size=8192) = 100"));

  fuse_write_in write = {};
  write.size = 5;
  fuse_write_out written = {};
  written.size = 5;
  sim::FuseTraceEvent wrote = Decode(
      RequestBuilder(FUSE_WRITE, 6, 9).Struct(write).Name("data").Build());
  reply = Reply(0, 6, &written, sizeof(written));
  sim::DecodeFuseReply(reply.data(), reply.size(), reply.size(), wrote);
  EXPECT_EQ(wrote.result, 5u);
}

TEST(FuseTraceTest, LyingAndShortRequestsAreDecodedWithinTheirBytes) {
  // No whole header.
  std::vector<uint8_t> short_request(10, 0xff);
  sim::FuseTraceEvent event = Decode(short_request);
  EXPECT_TRUE(event.malformed);
  EXPECT_THAT(sim::FormatFuseTraceLine(event), HasSubstr("no fuse_in_header"));

  // A header claiming far more than the chain holds, and a name without NUL.
  std::vector<uint8_t> request =
      RequestBuilder(FUSE_LOOKUP, 12, 1).Build(1u << 30);
  request.insert(request.end(), {'a', 'b', 'c'});
  event = Decode(request);
  EXPECT_FALSE(event.malformed);
  EXPECT_EQ(event.in_bytes, request.size());
  EXPECT_EQ(event.args.name, "abc");

  // A header claiming less than its own size: no arguments are read.
  fuse_mkdir_in mkdir = {};
  mkdir.mode = 0755;
  event = Decode(
      RequestBuilder(FUSE_MKDIR, 14, 1).Struct(mkdir).Name("d").Build(4));
  EXPECT_FALSE(event.args.mode.has_value());
  EXPECT_EQ(event.args.name, "");

  // A fixed struct cut short.
  event = Decode(RequestBuilder(FUSE_READ, 16, 1).Struct(uint32_t{7}).Build());
  EXPECT_FALSE(event.args.fh.has_value());

  // A reply shorter than its header.
  std::vector<uint8_t> reply = Reply(0, 16);
  sim::DecodeFuseReply(reply.data(), 8, 8, event);
  EXPECT_FALSE(event.replied);
  EXPECT_THAT(sim::FormatFuseTraceLine(event), HasSubstr("(no reply)"));
}

TEST(FuseTraceTest, NamesAreEscapedInTextAndJson) {
  sim::FuseTraceEvent event =
      Decode(RequestBuilder(FUSE_UNLINK, 2, 1).Name("a\"b\\c\n\xff").Build());
  EXPECT_THAT(sim::FormatFuseTraceLine(event),
              HasSubstr("\"a\\\"b\\\\c\\x0a\\xff\""));
  std::map<std::string, std::string> fields;
  ASSERT_TRUE(
      cli_test::ParseFlatJsonObject(sim::FormatFuseTraceJson(event), &fields));
  EXPECT_EQ(fields["name"], "a\"b\\c\n\xff");
}

// An inner backend that replies to LOOKUP with ENOENT, at once or later.
class FakeBackend : public sim::DeviceBackend {
 public:
  uint32_t device_id() const override { return 26; }
  uint64_t device_features() const override { return 0; }
  uint16_t num_queues() const override { return 2; }
  uint32_t config_size() const override { return 4; }
  void ReadConfig(uint32_t, void* out, uint32_t length) const override {
    memset(out, 0xab, length);
  }
  void Activate(uint64_t, sim::ChainCompleter& completer) override {
    completer_ = &completer;
  }
  void Reset() override { ++resets; }
  std::optional<uint32_t> HandleChain(
      const sim::DescriptorChain& chain) override {
    std::vector<uint8_t> reply = Reply(-ENOENT, 20);
    memcpy(chain.writable[0].data, reply.data(), reply.size());
    if (defer) return std::nullopt;
    return static_cast<uint32_t>(reply.size());
  }
  void CompleteLater(uint16_t queue, uint16_t head) {
    completer_->Complete(queue, head, sizeof(fuse_out_header));
  }

  bool defer = false;
  int resets = 0;

 private:
  sim::ChainCompleter* completer_ = nullptr;
};

class RecordingCompleter : public sim::ChainCompleter {
 public:
  void Complete(uint16_t queue, uint16_t head, uint32_t used_length) override {
    completed.push_back({queue, head, used_length});
  }
  void CompleteWithoutNotification(uint16_t queue, uint16_t head,
                                   uint32_t used_length) override {
    Complete(queue, head, used_length);
  }
  struct Completion {
    uint16_t queue, head;
    uint32_t used;
  };
  std::vector<Completion> completed;
};

TEST(TracingBackendTest, ReportsEachChainAndForwardsEverything) {
  auto inner = std::make_unique<FakeBackend>();
  FakeBackend* fake = inner.get();
  std::vector<sim::FuseTraceEvent> events;
  sim::TracingBackend tracing(
      std::move(inner),
      [&events](const sim::FuseTraceEvent& e) { events.push_back(e); });
  EXPECT_EQ(tracing.device_id(), 26u);
  EXPECT_EQ(tracing.num_queues(), 2);
  uint8_t config[4];
  tracing.ReadConfig(0, config, 4);
  EXPECT_EQ(config[3], 0xab);
  RecordingCompleter outer;
  tracing.Activate(0, outer);

  // The request split over two readable buffers, as a driver may.
  std::vector<uint8_t> request =
      RequestBuilder(FUSE_LOOKUP, 20, 1).Name("gone").Build();
  std::vector<uint8_t> first(request.begin(), request.begin() + 30);
  std::vector<uint8_t> second(request.begin() + 30, request.end());
  std::vector<uint8_t> reply_buffer(64, 0);
  sim::DescriptorChain chain;
  chain.queue = 1;
  chain.head = 3;
  chain.readable = {{first.data(), static_cast<uint32_t>(first.size())},
                    {second.data(), static_cast<uint32_t>(second.size())}};
  chain.writable = {
      {reply_buffer.data(), static_cast<uint32_t>(reply_buffer.size())}};
  chain.readable_bytes = request.size();
  chain.writable_bytes = reply_buffer.size();

  EXPECT_EQ(tracing.HandleChain(chain), sizeof(fuse_out_header));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].queue, 1);
  EXPECT_EQ(events[0].args.name, "gone");
  EXPECT_EQ(events[0].error, -ENOENT);
  EXPECT_EQ(events[0].out_bytes, sizeof(fuse_out_header));

  // Deferred: reported when completed, and the outer completer still called.
  fake->defer = true;
  EXPECT_EQ(tracing.HandleChain(chain), std::nullopt);
  EXPECT_EQ(events.size(), 1u);
  fake->CompleteLater(1, 3);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].error, -ENOENT);
  ASSERT_EQ(outer.completed.size(), 1u);
  EXPECT_EQ(outer.completed[0].head, 3);

  // A reset drops deferred chains; completing an unknown one is only
  // forwarded.
  EXPECT_EQ(tracing.HandleChain(chain), std::nullopt);
  tracing.Reset();
  EXPECT_EQ(fake->resets, 1);
  fake->CompleteLater(1, 3);
  EXPECT_EQ(events.size(), 2u);
  EXPECT_EQ(outer.completed.size(), 2u);
}

}  // namespace
