"""Build rules for kernel code (base/, driver/, vfs/, boot/, conformance/).

Kernel code is built twice: once hosted, to link into tests, the simulator and benchmarks,
and once freestanding, to link into bare-metal images with nothing but the project's own
kernel runtime. Both variants forbid exceptions and RTTI.
"""

KERNEL_COPTS = [
    "-fno-exceptions",
    "-fno-rtti",
]

FREESTANDING_COPTS = [
    "-ffreestanding",
    "-fno-sanitize=all",
    "-fno-stack-protector",
    "-fno-pic",
    "-fno-threadsafe-statics",
    "-fno-asynchronous-unwind-tables",
    "-mno-red-zone",
    "-fno-omit-frame-pointer",
    "-O2",
]

def _freestanding_label(dep):
    return dep + "_freestanding"

def kernel_library(name, srcs = [], hdrs = [], deps = [], system_deps = [], alwayslink = False, visibility = None):
    """A library of kernel code: `name` (hosted) and `name_freestanding`.

    Args:
      deps: other kernel_library labels, written with an explicit target name.
      system_deps: header-only targets shared by both variants.
      alwayslink: link every object even when nothing references it (for objects that
        only register themselves through static constructors, such as scenarios).
    """
    native.cc_library(
        name = name,
        srcs = srcs,
        hdrs = hdrs,
        copts = KERNEL_COPTS,
        deps = deps + system_deps,
        alwayslink = alwayslink,
        visibility = visibility,
    )
    native.cc_library(
        name = name + "_freestanding",
        srcs = srcs,
        hdrs = hdrs,
        copts = KERNEL_COPTS + FREESTANDING_COPTS,
        deps = [_freestanding_label(d) for d in deps] + system_deps,
        linkstatic = True,
        alwayslink = alwayslink,
        visibility = visibility,
    )

def _freestanding_link_impl(ctx):
    archives = []
    for dep in ctx.attr.deps:
        for linker_input in dep[CcInfo].linking_context.linker_inputs.to_list():
            for library in linker_input.libraries:
                archive = library.static_library or library.pic_static_library
                if archive and archive not in archives:
                    archives.append(archive)
    image = ctx.actions.declare_file(ctx.label.name + ".elf")
    args = ctx.actions.args()
    args.add(ctx.executable._linker)
    args.add(image)
    args.add(ctx.attr.entry)
    args.add_all(ctx.files.linker_script)
    args.add("--")
    args.add_all(archives)
    ctx.actions.run_shell(
        inputs = archives + ctx.files.linker_script,
        tools = [ctx.executable._linker],
        outputs = [image],
        command = "\"$@\"",
        arguments = [args],
        use_default_shell_env = True,  # gcc finds its libgcc through PATH.
        mnemonic = "FreestandingLink",
        progress_message = "Linking freestanding %s" % image.short_path,
    )
    return [DefaultInfo(files = depset([image]), runfiles = ctx.runfiles(files = [image]))]

freestanding_link = rule(
    implementation = _freestanding_link_impl,
    doc = "Links every object of the deps' freestanding archives with `ld -nostdlib -static`.",
    attrs = {
        "deps": attr.label_list(providers = [CcInfo]),
        "entry": attr.string(mandatory = True),
        "linker_script": attr.label(allow_single_file = True),
        "_linker": attr.label(
            default = "//kernel:link_freestanding",
            executable = True,
            cfg = "exec",
        ),
    },
)
