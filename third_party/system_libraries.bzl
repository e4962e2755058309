"""Brings Debian's installed C++ libraries into Bazel without downloads.

Each library becomes a cc_library in @system whose link flags come from
pkg-config, so the build links exactly what `apt-get install` put on the
machine. Headers live in /usr/include, which the compiler already searches.
"""

def _pkg_config(ctx, packages):
    result = ctx.execute(["pkg-config", "--libs"] + packages)
    if result.return_code != 0:
        fail("pkg-config cannot find %s: %s\nRun the install command in README.md." %
             (" ".join(packages), result.stderr))
    return result.stdout.strip().split(" ")

def _system_libraries_impl(ctx):
    rules = ['package(default_visibility = ["//visibility:public"])\n']
    for name, packages in ctx.attr.pkg_config.items():
        flags = _pkg_config(ctx, packages)
        rules.append("cc_library(\n    name = %r,\n    linkopts = %r,\n)\n" % (name, flags))
    for name, flags in ctx.attr.linkopts.items():
        rules.append("cc_library(\n    name = %r,\n    linkopts = %r,\n)\n" % (name, flags))
    ctx.file("WORKSPACE", 'workspace(name = "%s")\n' % ctx.name)
    ctx.file("BUILD.bazel", "\n".join(rules))

system_libraries = repository_rule(
    implementation = _system_libraries_impl,
    attrs = {
        "pkg_config": attr.string_list_dict(
            doc = "target name -> pkg-config packages it links",
        ),
        "linkopts": attr.string_list_dict(
            doc = "target name -> plain link flags, for libraries without a .pc file",
        ),
    },
    environ = ["PKG_CONFIG_PATH"],
    local = True,
)
