"""fuzz_target: one libFuzzer target and its corpus replayed as a regression test."""

load("//tests/threads:single_threaded.bzl", "single_threaded_cc_test")

def fuzz_target(name, srcs, deps, corpus):
    """Defines `name` (the libFuzzer binary, built by tools/fuzz.sh with clang: manual)
    and `name`_regression (every file of `corpus` replayed, in `bazel test //...`).

    Args:
      name: the fuzz target's name.
      srcs: its sources (they define LLVMFuzzerTestOneInput).
      deps: what they need.
      corpus: the directory of checked-in inputs.
    """
    native.cc_library(
        name = name + "_lib",
        testonly = True,
        srcs = srcs,
        deps = deps,
        alwayslink = True,
    )
    # A replay never starts a thread.
    single_threaded_cc_test(
        name = name + "_regression",
        srcs = ["replay_main.cc"],
        # Tests run in the runfiles root: the corpus is at its package path.
        args = [native.package_name() + "/" + corpus],
        data = native.glob([corpus + "/*"]),
        deps = [":" + name + "_lib"],
    )
    native.cc_binary(
        name = name,
        testonly = True,
        linkopts = ["-fsanitize=fuzzer"],
        tags = ["manual"],
        deps = [":" + name + "_lib"],
    )
