"""single_threaded_cc_test: a cc_test that never starts a thread.

It is tagged "single_threaded", which CI's TSan run leaves out (a race needs two threads),
and linked with //tests/threads:single_threaded_guard, which ends it should it start one.
"""

def single_threaded_cc_test(name, deps = [], tags = [], **kwargs):
    native.cc_test(
        name = name,
        deps = deps + ["//tests/threads:single_threaded_guard"],
        tags = tags + ["single_threaded"],
        **kwargs
    )
