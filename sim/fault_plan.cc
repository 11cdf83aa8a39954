#include "sim/fault_plan.h"

#include <fstream>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "sim/fuse_trace.h"

namespace sim {
namespace {

struct KindName {
  FaultKind kind;
  const char* name;
  enum { kNone, kErrno, kNumber } value;
};
constexpr KindName kKinds[] = {
    {FaultKind::kError, "error", KindName::kErrno},
    {FaultKind::kHostError, "host-error", KindName::kErrno},
    {FaultKind::kTruncateReply, "truncate", KindName::kNumber},
    {FaultKind::kWrongUnique, "wrong-unique", KindName::kNone},
    {FaultKind::kWrongLen, "wrong-len", KindName::kNone},
    {FaultKind::kOversize, "oversize", KindName::kNone},
    {FaultKind::kDelayRequests, "delay", KindName::kNumber},
    {FaultKind::kDelayMillis, "delay-ms", KindName::kNumber},
    {FaultKind::kHold, "hold", KindName::kNone},
    {FaultKind::kDropNotification, "drop-notify", KindName::kNone},
    {FaultKind::kStallMillis, "stall-ms", KindName::kNumber},
    {FaultKind::kNeedsReset, "needs-reset", KindName::kNone},
    {FaultKind::kResetSession, "reset-session", KindName::kNone},
};

const KindName& Describe(FaultKind kind) {
  for (const KindName& entry : kKinds) {
    if (entry.kind == kind) return entry;
  }
  return kKinds[0];
}

// An errno by name (EIO) or number.
std::optional<int> ParseErrno(absl::string_view text) {
  int number;
  if (absl::SimpleAtoi(text, &number)) {
    if (number > 0 && number < 4096) return number;
    return std::nullopt;
  }
  for (int e = 1; e < 134; ++e) {
    if (ErrnoName(e) == text) return e;
  }
  return std::nullopt;
}

std::optional<uint32_t> ParseOpcode(absl::string_view text) {
  for (uint32_t op = 1; op < 64; ++op) {
    if (FuseOpcodeName(op) == text) return op;
  }
  return std::nullopt;
}

absl::Status Invalid(const std::string& text, const std::string& why) {
  return absl::InvalidArgumentError(
      absl::StrCat("fault \"", text, "\": ", why));
}

}  // namespace

std::string FaultRule::ToString() const {
  const KindName& kind_name = Describe(kind);
  std::string text = kind_name.name;
  if (kind_name.value == KindName::kErrno) {
    absl::StrAppend(&text, "=", ErrnoName(static_cast<int>(value)));
  } else if (kind_name.value == KindName::kNumber) {
    absl::StrAppend(&text, "=", value);
  }
  std::vector<std::string> matches;
  if (opcode) matches.push_back(absl::StrCat("op=", FuseOpcodeName(*opcode)));
  if (nodeid) matches.push_back(absl::StrCat("node=", *nodeid));
  if (queue) matches.push_back(absl::StrCat("queue=", *queue));
  if (nth) matches.push_back(absl::StrCat("nth=", *nth));
  if (count) matches.push_back(absl::StrCat("count=", *count));
  if (probability < 1.0) matches.push_back(absl::StrCat("p=", probability));
  if (!matches.empty())
    absl::StrAppend(&text, "@", absl::StrJoin(matches, ","));
  return text;
}

absl::StatusOr<FaultRule> ParseFaultRule(const std::string& text) {
  std::pair<std::string, std::string> parts =
      absl::StrSplit(text, absl::MaxSplits('@', 1));
  std::pair<std::string, std::string> kind_value =
      absl::StrSplit(parts.first, absl::MaxSplits('=', 1));
  FaultRule rule;
  const KindName* kind = nullptr;
  for (const KindName& entry : kKinds) {
    if (kind_value.first == entry.name) kind = &entry;
  }
  if (!kind)
    return Invalid(text, absl::StrCat("no fault \"", kind_value.first, "\""));
  rule.kind = kind->kind;
  switch (kind->value) {
    case KindName::kNone:
      if (!kind_value.second.empty()) return Invalid(text, "takes no value");
      break;
    case KindName::kErrno: {
      std::optional<int> error = ParseErrno(kind_value.second);
      if (!error) return Invalid(text, "wants an errno (EIO, 28 ...)");
      rule.value = *error;
      break;
    }
    case KindName::kNumber:
      if (!absl::SimpleAtoi(kind_value.second, &rule.value) || rule.value < 0) {
        return Invalid(text, "wants a number");
      }
      break;
  }
  for (absl::string_view match :
       absl::StrSplit(parts.second, ',', absl::SkipEmpty())) {
    std::pair<std::string, std::string> kv =
        absl::StrSplit(match, absl::MaxSplits('=', 1));
    uint64_t number = 0;
    const bool is_number = absl::SimpleAtoi(kv.second, &number);
    if (kv.first == "op") {
      rule.opcode = ParseOpcode(kv.second);
      if (!rule.opcode)
        return Invalid(text, absl::StrCat("no opcode ", kv.second));
    } else if (kv.first == "node" && is_number) {
      rule.nodeid = number;
    } else if (kv.first == "queue" && is_number && number < 65536) {
      rule.queue = static_cast<uint16_t>(number);
    } else if (kv.first == "nth" && is_number && number > 0) {
      rule.nth = number;
    } else if (kv.first == "count" && is_number && number > 0) {
      rule.count = number;
    } else if (kv.first == "p" &&
               absl::SimpleAtod(kv.second, &rule.probability) &&
               rule.probability >= 0 && rule.probability <= 1) {
    } else {
      return Invalid(text, absl::StrCat("bad selector \"", match, "\""));
    }
  }
  return rule;
}

FaultPlan::FaultPlan(const FaultPlan& other) { *this = other; }

FaultPlan& FaultPlan::operator=(const FaultPlan& other) {
  if (this == &other) return *this;
  std::scoped_lock lock(mutex_, other.mutex_);
  entries_ = other.entries_;
  random_ = other.random_;
  has_rules_.store(!entries_.empty(), std::memory_order_relaxed);
  return *this;
}

void FaultPlan::Add(const FaultRule& rule) {
  std::lock_guard<std::mutex> lock(mutex_);
  entries_.push_back({rule});
  has_rules_.store(true, std::memory_order_relaxed);
}

absl::Status FaultPlan::AddFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    absl::string_view text = absl::StripAsciiWhitespace(line);
    if (text.empty() || text[0] == '#') continue;
    if (absl::ConsumePrefix(&text, "seed ")) {
      uint64_t seed;
      if (!absl::SimpleAtoi(text, &seed)) {
        return absl::InvalidArgumentError(
            absl::StrCat(path, ":", number, ": a seed is a number"));
      }
      SetSeed(seed);
      continue;
    }
    absl::StatusOr<FaultRule> rule = ParseFaultRule(std::string(text));
    if (!rule.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ":", number, ": ", rule.status().message()));
    }
    Add(*rule);
  }
  return absl::OkStatus();
}

void FaultPlan::SetSeed(uint64_t seed) {
  std::lock_guard<std::mutex> lock(mutex_);
  random_.seed(seed);
}

void FaultPlan::Clear() {
  std::lock_guard<std::mutex> lock(mutex_);
  entries_.clear();
  has_rules_.store(false, std::memory_order_relaxed);
}

std::vector<FaultRule> FaultPlan::rules() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<FaultRule> out;
  for (const Entry& entry : entries_) out.push_back(entry.rule);
  return out;
}

std::optional<FaultRule> FaultPlan::Match(const FaultRequest& request) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (Entry& entry : entries_) {
    const FaultRule& rule = entry.rule;
    if (rule.opcode && *rule.opcode != request.opcode) continue;
    if (rule.nodeid && *rule.nodeid != request.nodeid) continue;
    if (rule.queue && *rule.queue != request.queue) continue;
    const uint64_t matched = ++entry.matched;
    if (rule.nth && matched != *rule.nth) continue;
    if (rule.count && entry.fired >= *rule.count) continue;
    if (rule.probability < 1.0 && std::uniform_real_distribution<double>(
                                      0, 1)(random_) >= rule.probability) {
      continue;
    }
    ++entry.fired;
    return rule;
  }
  return std::nullopt;
}

}  // namespace sim
