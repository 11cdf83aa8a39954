#include "cli/demo.h"

#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/abi.h"
#include "cli/commands.h"
#include "cli/guest_fs.h"
#include "sim/fuse_trace.h"
#include "vfs/posix.h"

namespace cli {
namespace {

constexpr int kSteps = 9;
constexpr char kMessage[] = "hello from the guest\n";

// A system call's result as strace shows it: "= 3" or "= -ENOENT (No such
// file or directory)".
std::string Shown(int64_t result) {
  if (result >= 0) return absl::StrCat("= ", result);
  int error = static_cast<int>(-result);
  return absl::StrCat("= -", sim::ErrnoName(error), " (", ErrorText(-error),
                      ")");
}

std::string Escaped(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

class Demo {
 public:
  Demo(Session& session, std::string base)
      : session_(session), base_(std::move(base)) {}

  std::string Path(const std::string& name) const {
    return JoinPath(base_, name);
  }

  // Starts step `number`: its title, and a fresh capture of requests.
  void Step(int number, const std::string& title) {
    printf("\n[%d/%d] %s\n", number, kSteps, title.c_str());
    session_.recorder().StartCapture();
  }

  // Prints one system call of the guest and its result. False when the result
  // is not what the step expects; the demo stops there.
  bool Call(const std::string& call, int64_t result,
            bool expect_error = false) {
    printf("  guest: %s %s\n", call.c_str(), Shown(result).c_str());
    if ((result < 0) != expect_error) {
      failed_ = true;
      return false;
    }
    return true;
  }

  void Note(const std::string& note) { printf("         %s\n", note.c_str()); }

  // Prints the requests captured since Step, and any violation.
  void ShowRequests(const std::string& when_none) {
    std::vector<std::string> lines = session_.recorder().TakeCaptured();
    if (lines.empty()) {
      printf(
          "  device saw: no request%s\n",
          when_none.empty() ? "" : absl::StrCat(" (", when_none, ")").c_str());
    } else {
      printf("  device saw %zu request%s:\n", lines.size(),
             lines.size() == 1 ? "" : "s");
      for (const std::string& line : lines) printf("    %s\n", line.c_str());
    }
    fflush(stdout);
    if (!session_.CheckDevice()) failed_ = true;
  }

  bool failed() const { return failed_; }

 private:
  Session& session_;
  std::string base_;
  bool failed_ = false;
};

}  // namespace

int RunDemo(Session& session, bool on_sample_share) {
  const sim::MachineOptions& options = session.options();
  const driver::Negotiated& negotiated =
      session.machine().client().negotiated();
  printf(
      "vfsim demo: a virtio-fs device simulated in software, with the driver\n"
      "and the VFS running against it in this one process.\n\n");
  printf(
      "machine: virtio-fs over %s, %u %s request queue%s of %u entries, "
      "notify %s, %s mode\n",
      options.transport == base::TransportKind::kPci ? "PCI" : "virtio-mmio",
      options.request_queues,
      session.machine().virtio_fs().device().packed_ring() ? "packed" : "split",
      options.request_queues == 1 ? "" : "s", options.queue_size,
      options.notify_mode == sim::NotifyMode::kInline ? "inline"
                                                      : "on a device thread",
      options.strict ? "strict" : "lenient");
  printf("share:   host directory %s, tag \"%s\", mounted at %s\n",
         options.share_dir.c_str(), options.tag.c_str(),
         session.mount_point().c_str());
  printf("FUSE:    protocol 7.%u negotiated, up to %u bytes per READ/WRITE\n",
         negotiated.minor, negotiated.max_write);
  printf(
      "\nEach step shows the guest's system calls, then every FUSE request "
      "the\n"
      "device handled because of them: time, queue, unique, opcode(arguments)\n"
      "= result, bytes in and out, and the device's latency.\n");

  std::string base = session.mount_point();
  if (!on_sample_share) base = JoinPath(base, "vfsim-demo");
  Demo demo(session, base);

  // The boot's requests were captured before the machine came up.
  printf(
      "\n[0/%d] Boot: the driver found the device and started a FUSE session\n",
      kSteps);
  demo.ShowRequests("");

  int step = 0;
  auto stop = [&]() {
    printf(
        "\nThe demo stopped at step %d: the result above is not what a working "
        "driver returns.\n",
        step);
    return kFailure;
  };

  demo.Step(++step, "List the share");
  if (!on_sample_share) {
    if (!demo.Call(absl::StrCat("mkdir(\"", base, "\", 0755)"),
                   vfs::mkdir(base.c_str(), 0755))) {
      demo.ShowRequests("");
      return stop();
    }
  }
  std::vector<GuestDirEntry> entries;
  int listed = ListDirectory(base, &entries);
  if (!demo.Call(absl::StrCat("open + getdents64 + close(\"", base, "\")"),
                 listed)) {
    demo.ShowRequests("");
    return stop();
  }
  std::string names;
  for (const GuestDirEntry& entry : entries) {
    absl::StrAppend(
        &names, names.empty() ? "" : "  ", entry.name,
        entry.type == base::DirentTypeOf(base::kTypeDirectory) ? "/" : "");
  }
  demo.Note(absl::StrCat(entries.size(),
                         " entries: ", names.empty() ? "(empty)" : names));
  demo.ShowRequests("listing served from the VFS caches");

  demo.Step(++step, "Create a file and write to it");
  std::string notes = demo.Path("notes.txt");
  int fd = vfs::open(
      notes.c_str(),
      base::kOpenWriteOnly | base::kOpenCreate | base::kOpenExclusive, 0644);
  if (!demo.Call(
          absl::StrCat("open(\"", notes, "\", O_WRONLY|O_CREAT|O_EXCL, 0644)"),
          fd)) {
    demo.ShowRequests("");
    return stop();
  }
  int64_t written = vfs::write(fd, kMessage, sizeof(kMessage) - 1);
  bool ok = demo.Call(absl::StrFormat("write(%d, \"%s\", %zu)", fd,
                                      Escaped(kMessage), sizeof(kMessage) - 1),
                      written);
  ok = demo.Call(absl::StrCat("close(", fd, ")"), vfs::close(fd)) && ok;
  demo.ShowRequests("");
  if (!ok) return stop();

  demo.Step(++step, "Read it back");
  fd = vfs::open(notes.c_str(), base::kOpenReadOnly);
  if (!demo.Call(absl::StrCat("open(\"", notes, "\", O_RDONLY)"), fd)) {
    demo.ShowRequests("");
    return stop();
  }
  char buffer[4096];
  int64_t got = vfs::read(fd, buffer, sizeof(buffer));
  ok = demo.Call(absl::StrCat("read(", fd, ", buf, 4096)"), got);
  std::string content =
      got > 0 ? std::string(buffer, static_cast<size_t>(got)) : "";
  ok = demo.Call(absl::StrCat("close(", fd, ")"), vfs::close(fd)) && ok;
  demo.Note(absl::StrCat(
      "read \"", Escaped(content), "\": ",
      content == kMessage ? "the bytes written" : "NOT the bytes written"));
  demo.ShowRequests("served from the VFS caches");
  if (!ok || content != kMessage) return stop();

  demo.Step(++step, "Make a directory and move the file into it (rename)");
  std::string drafts = demo.Path("drafts");
  std::string moved = demo.Path("drafts/notes.txt");
  ok = demo.Call(absl::StrCat("mkdir(\"", drafts, "\", 0755)"),
                 vfs::mkdir(drafts.c_str(), 0755)) &&
       demo.Call(absl::StrCat("rename(\"", notes, "\", \"", moved, "\")"),
                 vfs::rename(notes.c_str(), moved.c_str()));
  demo.ShowRequests("");
  if (!ok) return stop();

  demo.Step(++step, "Create a symbolic link and read through it");
  std::string latest = demo.Path("latest");
  std::string target;
  ok =
      demo.Call(absl::StrCat("symlink(\"drafts/notes.txt\", \"", latest, "\")"),
                vfs::symlink("drafts/notes.txt", latest.c_str()));
  if (ok) {
    int result = ReadLinkTarget(latest, &target);
    ok = demo.Call(absl::StrCat("readlink(\"", latest, "\")"),
                   result < 0 ? result : static_cast<int64_t>(target.size()));
    demo.Note(absl::StrCat("the link points to \"", target, "\""));
  }
  if (ok) {
    std::string through;
    int result = ReadWholeFile(latest, &through);
    ok = demo.Call(absl::StrCat("open + read + close(\"", latest, "\")"),
                   result);
    demo.Note(absl::StrCat("read \"", Escaped(through), "\" through the link"));
  }
  demo.ShowRequests("");
  if (!ok) return stop();

  demo.Step(++step,
            "Look at attributes (stat follows the link, lstat does not)");
  vfs::Stat st;
  ok = demo.Call(absl::StrCat("stat(\"", latest, "\", &st)"),
                 vfs::stat(latest.c_str(), &st));
  if (ok) {
    demo.Note(absl::StrFormat(
        "%s, mode %04o (%s), size %d, inode %u, %u link%s",
        FileTypeName(st.st_mode), st.st_mode & base::kPermissionMask,
        ModeString(st.st_mode), st.st_size, st.st_ino, st.st_nlink,
        st.st_nlink == 1 ? "" : "s"));
  }
  vfs::Stat lst;
  ok = demo.Call(absl::StrCat("lstat(\"", latest, "\", &st)"),
                 vfs::lstat(latest.c_str(), &lst)) &&
       ok;
  if (ok) {
    demo.Note(absl::StrFormat("%s, size %d (the length of its target)",
                              FileTypeName(lst.st_mode), lst.st_size));
  }
  demo.ShowRequests(absl::StrCat("attributes cached for ", options.attr_timeout,
                                 " s, as the device allowed"));
  if (!ok) return stop();

  demo.Step(++step, "Open a file that does not exist");
  std::string missing = demo.Path("missing.txt");
  ok = demo.Call(absl::StrCat("open(\"", missing, "\", O_RDONLY)"),
                 vfs::open(missing.c_str(), base::kOpenReadOnly),
                 /*expect_error=*/true);
  demo.Note("the device's ENOENT reaches the guest unchanged");
  demo.ShowRequests("the negative entry was cached");
  if (!ok) return stop();

  demo.Step(++step, "Delete everything the demo made");
  ok = demo.Call(absl::StrCat("unlink(\"", latest, "\")"),
                 vfs::unlink(latest.c_str())) &&
       demo.Call(absl::StrCat("unlink(\"", moved, "\")"),
                 vfs::unlink(moved.c_str())) &&
       demo.Call(absl::StrCat("rmdir(\"", drafts, "\")"),
                 vfs::rmdir(drafts.c_str()));
  if (ok && !on_sample_share) {
    ok = demo.Call(absl::StrCat("rmdir(\"", base, "\")"),
                   vfs::rmdir(base.c_str()));
  }
  demo.ShowRequests("");
  if (!ok) return stop();

  demo.Step(++step, "Summary");
  session.recorder().TakeCaptured();
  RequestStats stats = session.recorder().stats();
  uint64_t violations = session.recorder().violations_total();
  printf("  requests: %llu in all: %s\n",
         static_cast<unsigned long long>(stats.total()),
         stats.Summary().c_str());
  printf("  violations: %s\n",
         violations == 0
             ? "none (the driver kept every virtio rule the device checks)"
             : absl::StrCat(violations, " (see above)").c_str());
  printf("  the host directory %s is as the requests left it.\n",
         options.share_dir.c_str());
  printf(
      "\nNext: vfsim shell (try `trace on`), vfsim --trace ls -l /%s,\n"
      "      vfsim stats, vfsim bench, vfsim --help.\n",
      options.tag.c_str());
  return demo.failed() || violations != 0 ? kFailure : kSuccess;
}

}  // namespace cli
