"""A libFuzzer target and the test that replays its corpus.

`bazel build --config=fuzz //fuzz:NAME` links NAME against libFuzzer (clang,
ASan, UBSan) for real fuzzing; the default build links the same code to a
small main that runs every file of corpus/NAME once, and `NAME_corpus_test`
does so in `bazel test`, so seeds and past crashes stay regression tests.
"""

def adaline_fuzzer(name, srcs, deps = []):
    native.cc_binary(
        name = name,
        srcs = srcs,
        deps = deps + select({
            "//fuzz:fuzzing": [],
            "//conditions:default": ["//fuzz:replay_main"],
        }),
        linkopts = select({
            "//fuzz:fuzzing": ["-fsanitize=fuzzer"],
            "//conditions:default": [],
        }),
        tags = ["fuzzer"],
    )
    native.cc_test(
        name = name + "_corpus_test",
        srcs = srcs,
        deps = deps + ["//fuzz:replay_main"],
        args = ["fuzz/corpus/" + name],
        data = native.glob(["corpus/%s/*" % name]),
    )
