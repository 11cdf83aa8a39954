// Printing a traced request: a line that reads like strace, and JSON.
#include <linux/fuse.h>

#include <cstring>
#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "sim/fuse_trace.h"

namespace sim {
namespace {

// `text` in double quotes: quotes and backslashes escaped, printable ASCII as
// is, any other byte as `Escape` formats it (names are bytes, not necessarily
// UTF-8).
template <typename Escape>
std::string QuotedWith(std::string_view text, Escape escape) {
  std::string out = "\"";
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      absl::StrAppend(&out, escape(c));
    }
  }
  out += '"';
  return out;
}

// A name as a C string literal (\xXX).
std::string Quoted(std::string_view name) {
  return QuotedWith(
      name, [](unsigned char c) { return absl::StrFormat("\\x%02x", c); });
}

// A JSON string (\u00XX).
std::string JsonString(std::string_view text) {
  return QuotedWith(
      text, [](unsigned char c) { return absl::StrFormat("\\u%04x", c); });
}

std::string Octal(uint32_t mode) { return absl::StrFormat("0%o", mode); }

}  // namespace

std::string FormatFuseTraceLine(const FuseTraceEvent& event) {
  std::string line = absl::StrFormat(
      "%10.6f %-6s #%-4u ", static_cast<double>(event.time_nanos) / 1e9,
      QueueName(event.queue), event.unique);
  if (event.malformed) {
    absl::StrAppend(&line, "<no fuse_in_header: ", event.in_bytes, " bytes>");
  } else {
    const FuseTraceArgs& a = event.args;
    std::string args = absl::StrCat("node=", event.nodeid);
    auto add = [&args](absl::string_view part) {
      absl::StrAppend(&args, ", ", part);
    };
    if (!a.name.empty()) add(Quoted(a.name));
    if (event.opcode == FUSE_RENAME || event.opcode == FUSE_RENAME2) {
      if (a.new_parent) add(absl::StrCat("new_parent=", *a.new_parent));
    } else if (event.opcode == FUSE_LINK) {
      if (a.new_parent) add(absl::StrCat("target=", *a.new_parent));
    } else if (event.opcode == FUSE_COPY_FILE_RANGE) {
      if (a.new_parent) add(absl::StrCat("node_out=", *a.new_parent));
    }
    if (!a.name2.empty()) {
      add(event.opcode == FUSE_SYMLINK ? absl::StrCat("-> ", Quoted(a.name2))
                                       : Quoted(a.name2));
    }
    if (a.major && a.minor)
      add(absl::StrCat("version=", *a.major, ".", *a.minor));
    if (a.init_flags)
      add(absl::StrCat("flags=", InitFlagsString(*a.init_flags)));
    if (a.fh) add(absl::StrCat("fh=", *a.fh));
    if (a.offset) add(absl::StrCat("offset=", *a.offset));
    if (a.size) add(absl::StrCat("size=", *a.size));
    if (a.length) add(absl::StrCat("length=", *a.length));
    if (a.valid) add(absl::StrCat("valid=", SetattrValidString(*a.valid)));
    if (a.flags) add(absl::StrCat("flags=", OpenFlagsString(*a.flags)));
    if (a.mode) add(absl::StrCat("mode=", Octal(*a.mode)));
    if (a.mask) add(absl::StrFormat("mask=%#x", *a.mask));
    if (a.whence) add(absl::StrCat("whence=", *a.whence));
    if (a.nlookup) add(absl::StrCat("nlookup=", *a.nlookup));
    if (a.count) {
      add(absl::StrCat(event.opcode == FUSE_INTERRUPT ? "unique=" : "count=",
                       *a.count));
    }
    absl::StrAppend(&line, FuseOpcodeName(event.opcode), "(", args, ")");
  }
  if (!event.replied) {
    absl::StrAppend(&line, " = (no reply)");
  } else if (event.error != 0) {
    int error = -event.error;
    absl::StrAppend(&line, " = ", ErrnoName(error), " (", std::strerror(error),
                    ")");
  } else {
    absl::StrAppend(&line, " = ", event.result.value_or(0));
    if (event.out_node) absl::StrAppend(&line, " node=", *event.out_node);
    if (event.out_fh) absl::StrAppend(&line, " fh=", *event.out_fh);
    if (event.out_init_flags) {
      absl::StrAppend(&line, " flags=", InitFlagsString(*event.out_init_flags));
    }
  }
  absl::StrAppend(
      &line, absl::StrFormat("  (%u B in, %u B out, %.1f us)", event.in_bytes,
                             event.out_bytes,
                             static_cast<double>(event.latency_nanos) / 1e3));
  if (!event.injected.empty()) {
    absl::StrAppend(&line, "  [injected: ", event.injected, "]");
  }
  return line;
}

std::string FormatFuseTraceJson(const FuseTraceEvent& event) {
  std::string json =
      absl::StrCat("{\"t_ns\":", event.time_nanos,
                   ",\"queue\":", JsonString(QueueName(event.queue)),
                   ",\"vq\":", event.queue, ",\"unique\":", event.unique,
                   ",\"op\":", JsonString(FuseOpcodeName(event.opcode)),
                   ",\"opcode\":", event.opcode, ",\"node\":", event.nodeid);
  const FuseTraceArgs& a = event.args;
  auto number = [&json](absl::string_view key, std::optional<uint64_t> value) {
    if (value) absl::StrAppend(&json, ",\"", key, "\":", *value);
  };
  if (event.malformed) absl::StrAppend(&json, ",\"malformed\":true");
  if (!a.name.empty()) absl::StrAppend(&json, ",\"name\":", JsonString(a.name));
  if (!a.name2.empty()) {
    absl::StrAppend(&json, ",\"name2\":", JsonString(a.name2));
  }
  number("new_parent", a.new_parent);
  number("fh", a.fh);
  number("offset", a.offset);
  number("size", a.size);
  number("length", a.length);
  number("nlookup", a.nlookup);
  number("count", a.count);
  number("mask", a.mask);
  number("whence", a.whence);
  number("valid", a.valid);
  if (a.flags) {
    absl::StrAppend(&json,
                    ",\"flags\":", JsonString(OpenFlagsString(*a.flags)));
  }
  if (a.mode) absl::StrAppend(&json, ",\"mode\":", JsonString(Octal(*a.mode)));
  if (a.major && a.minor) {
    absl::StrAppend(&json, ",\"version\":",
                    JsonString(absl::StrCat(*a.major, ".", *a.minor)));
  }
  if (a.init_flags) {
    absl::StrAppend(
        &json, ",\"init_flags\":", JsonString(InitFlagsString(*a.init_flags)));
  }
  absl::StrAppend(&json, ",\"replied\":", event.replied ? "true" : "false");
  if (event.replied && event.error != 0) {
    absl::StrAppend(&json, ",\"error\":", JsonString(ErrnoName(-event.error)),
                    ",\"errno\":", -event.error);
  } else if (event.replied) {
    number("result", event.result.value_or(0));
    number("out_node", event.out_node);
    number("out_fh", event.out_fh);
    if (event.out_init_flags) {
      absl::StrAppend(&json, ",\"out_init_flags\":",
                      JsonString(InitFlagsString(*event.out_init_flags)));
    }
  }
  if (!event.injected.empty()) {
    absl::StrAppend(&json, ",\"injected\":", JsonString(event.injected));
  }
  absl::StrAppend(&json, ",\"in_bytes\":", event.in_bytes,
                  ",\"out_bytes\":", event.out_bytes,
                  ",\"latency_ns\":", event.latency_nanos, "}");
  return json;
}

}  // namespace sim
