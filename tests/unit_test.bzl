"""unit_tests: one GoogleTest binary per entry, NAME built from NAME.cc."""

def unit_tests(deps_of_test):
    """Defines a cc_test for each NAME: [DEPS] of `deps_of_test`."""
    for name, deps in deps_of_test.items():
        native.cc_test(
            name = name,
            size = "medium",
            srcs = [name + ".cc"],
            deps = deps + ["@system//:gtest_main"],
        )

def shell_tests(data_of_test, size = "large"):
    """Defines an sh_test for each NAME: [DATA], run from NAME.sh."""
    for name, data in data_of_test.items():
        native.sh_test(
            name = name,
            size = size,
            srcs = [name + ".sh"],
            data = data,
        )
