// fuzz::Input: a fuzzer's input read front to back as typed values; zeros once
// it runs out, so every input is a complete program.
#ifndef FUZZ_FUZZ_INPUT_H_
#define FUZZ_FUZZ_INPUT_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

namespace fuzz {

class Input {
 public:
  Input(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  bool empty() const { return at_ >= size_; }
  template <typename T>
  T Take() {
    T value{};
    const size_t n = size_ - at_ < sizeof(T) ? size_ - at_ : sizeof(T);
    memcpy(&value, data_ + at_, n);
    at_ += n;
    return value;
  }
  // Up to `count` bytes (fewer at the end).
  std::vector<uint8_t> Bytes(size_t count) {
    const size_t n = size_ - at_ < count ? size_ - at_ : count;
    std::vector<uint8_t> out(data_ + at_, data_ + at_ + n);
    at_ += n;
    return out;
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t at_ = 0;
};

}  // namespace fuzz

#endif  // FUZZ_FUZZ_INPUT_H_
