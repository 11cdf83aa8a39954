// fuzz::FuzzShare: a share directory for the fuzz targets, beside an
// "outside" directory holding a file and a directory the device must never
// touch, with a snapshot of the outside (names, types, sizes, modes, mtimes,
// contents) to compare after each input.
#ifndef FUZZ_FUZZ_SHARE_H_
#define FUZZ_FUZZ_SHARE_H_

#include <string>

namespace fuzz {

class FuzzShare {
 public:
  // Under $TMPDIR (or /tmp); aborts when the directories cannot be made.
  FuzzShare();
  ~FuzzShare();
  FuzzShare(const FuzzShare&) = delete;
  FuzzShare& operator=(const FuzzShare&) = delete;

  const std::string& share() const { return share_; }
  // Everything under the outside directory, as text.
  std::string SnapshotOutside() const;
  // Removes everything inside the share (the share itself stays).
  void EmptyShare() const;

 private:
  std::string base_;
  std::string share_;
  std::string outside_;
};

}  // namespace fuzz

#endif  // FUZZ_FUZZ_SHARE_H_
