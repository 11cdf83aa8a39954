#include "cli/trace_recorder.h"

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"

namespace cli {

TraceRecorder::~TraceRecorder() {
  if (json_ != nullptr) fclose(json_);
}

absl::Status TraceRecorder::OpenJson(const std::string& path) {
  FILE* file = fopen(path.c_str(), "we");
  if (file == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("--trace_json=", path, ": ", std::strerror(errno)));
  }
  std::lock_guard<std::mutex> lock(mutex_);
  if (json_ != nullptr) fclose(json_);
  json_ = file;
  return absl::OkStatus();
}

void TraceRecorder::OnRequest(const sim::FuseTraceEvent& event) {
  std::lock_guard<std::mutex> lock(mutex_);
  stats_.Add(event);
  if (json_ != nullptr) {
    std::string json = sim::FormatFuseTraceJson(event);
    json += '\n';
    fwrite(json.data(), 1, json.size(), json_);
    fflush(json_);
  }
  if (!printing_ && !capturing_) return;
  std::string line = sim::FormatFuseTraceLine(event);
  if (printing_) {
    fprintf(stderr, "%s\n", line.c_str());
  }
  if (capturing_) captured_.push_back(std::move(line));
}

void TraceRecorder::OnViolation(const sim::ViolationRecord& record) {
  std::lock_guard<std::mutex> lock(mutex_);
  violations_.push_back(record);
  ++violations_total_;
}

void TraceRecorder::set_printing(bool on) {
  std::lock_guard<std::mutex> lock(mutex_);
  printing_ = on;
}

bool TraceRecorder::printing() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return printing_;
}

void TraceRecorder::StartCapture() {
  std::lock_guard<std::mutex> lock(mutex_);
  capturing_ = true;
  captured_.clear();
}

std::vector<std::string> TraceRecorder::TakeCaptured() {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<std::string> lines = std::move(captured_);
  captured_.clear();
  return lines;
}

RequestStats TraceRecorder::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

void TraceRecorder::ClearStats() {
  std::lock_guard<std::mutex> lock(mutex_);
  stats_.Clear();
}

std::vector<sim::ViolationRecord> TraceRecorder::TakeViolations() {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<sim::ViolationRecord> taken = std::move(violations_);
  violations_.clear();
  return taken;
}

uint64_t TraceRecorder::violations_total() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return violations_total_;
}

}  // namespace cli
