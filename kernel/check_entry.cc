// Entry point of the link-check image: it is never run, only linked, so that
// every object of the kernel code must resolve against the kernel runtime
// alone.
extern "C" [[noreturn]] void kernel_check_entry() {
  for (;;) __builtin_ia32_pause();
}
