"""A precompiled header (gcc's .gch) of system headers that many test files parse.

Parsing GoogleTest's header and the C++ standard headers it pulls in is about a sixth of a
typical test file's compile time (0.9 s of 5.7 s). A test built with `gtest_test` (below)
compiles with `-include tests/pch/gtest_pch.h`: gcc loads the header's .gch, made once per
build configuration with the flags every C++ file of that configuration gets, instead of
parsing it again. gcc refuses a .gch made with other flags; the tests make that refusal an error
(invalid-pch), so that the saving is never lost unseen. A test with flags of its own that
change the header (-fno-rtti, say) is a plain cc_test.
"""

load("@bazel_tools//tools/build_defs/cc:action_names.bzl", "CPP_COMPILE_ACTION_NAME")
load("@bazel_tools//tools/cpp:toolchain_utils.bzl", "find_cpp_toolchain")
load("//tests/threads:single_threaded.bzl", "single_threaded_cc_test")

def _precompiled_header_impl(ctx):
    cc_toolchain = find_cpp_toolchain(ctx)
    features = cc_common.configure_features(
        ctx = ctx,
        cc_toolchain = cc_toolchain,
        requested_features = ctx.features,
        unsupported_features = ctx.disabled_features,
    )

    # Generated, not a source file: a test's -include finds it only in the output tree,
    # beside its .gch (gcc looks for NAME.gch where it finds NAME).
    header = ctx.actions.declare_file(ctx.attr.header)
    ctx.actions.write(
        header,
        "".join(["#include <%s>\n" % name for name in ctx.attr.includes]),
    )
    gch = ctx.actions.declare_file(ctx.attr.header + ".gch")
    variables = cc_common.create_compile_variables(
        feature_configuration = features,
        cc_toolchain = cc_toolchain,
        user_compile_flags = ctx.fragments.cpp.copts + ctx.fragments.cpp.cxxopts,
        source_file = header.path,
        output_file = gch.path,
        # As Bazel compiles a test's own files: position-independent but in opt mode
        # (without --force_pic, which this project does not use).
        use_pic = ctx.var["COMPILATION_MODE"] != "opt",
    )
    ctx.actions.run(
        executable = cc_common.get_tool_for_action(
            feature_configuration = features,
            action_name = CPP_COMPILE_ACTION_NAME,
        ),
        arguments = ["-x", "c++-header"] + cc_common.get_memory_inefficient_command_line(
            feature_configuration = features,
            action_name = CPP_COMPILE_ACTION_NAME,
            variables = variables,
        ),
        env = cc_common.get_environment_variables(
            feature_configuration = features,
            action_name = CPP_COMPILE_ACTION_NAME,
            variables = variables,
        ),
        inputs = depset([header], transitive = [cc_toolchain.all_files]),
        outputs = [gch],
        mnemonic = "CppPrecompileHeader",
        progress_message = "Precompiling %s" % header.short_path,
    )
    files = depset([header, gch])
    return [
        DefaultInfo(files = files),
        CcInfo(compilation_context = cc_common.create_compilation_context(headers = files)),
    ]

precompiled_header = rule(
    implementation = _precompiled_header_impl,
    attrs = {
        "header": attr.string(mandatory = True, doc = "The generated header's name."),
        "includes": attr.string_list(mandatory = True, doc = "The <headers> it includes."),
        "_cc_toolchain": attr.label(default = "@bazel_tools//tools/cpp:current_cc_toolchain"),
    },
    fragments = ["cpp"],
    toolchains = ["@bazel_tools//tools/cpp:toolchain_type"],
    incompatible_use_toolchain_transition = True,
)

def gtest_test(name, copts = [], deps = [], single_threaded = False, **kwargs):
    """A cc_test whose files load GoogleTest's header precompiled (see the top).

    Args:
      name, copts, deps: as cc_test's.
      single_threaded: the test never starts a thread (tests/threads/single_threaded.bzl).
      **kwargs: cc_test's other attributes.
    """
    test = single_threaded_cc_test if single_threaded else native.cc_test
    test(
        name = name,
        copts = ["-include", "tests/pch/gtest_pch.h", "-Werror=invalid-pch"] + copts,
        deps = deps + ["//tests/pch:gtest_pch"],
        **kwargs
    )
