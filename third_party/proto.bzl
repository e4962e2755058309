"""C++ protobuf and gRPC stubs made by Debian's protoc and grpc_cpp_plugin.

Bazel 4.2.3's proto rules want to download protobuf; this macro runs the
installed compilers in a genrule and wraps their output in a cc_library.
"""

def cc_proto_grpc_library(name, src, deps = [], grpc = True, visibility = None):
    """Generates `name` from one .proto file; `deps` are other such libraries."""
    base = src[:-len(".proto")]
    outs = [base + ".pb.h", base + ".pb.cc"]
    if grpc:
        outs += [base + ".grpc.pb.h", base + ".grpc.pb.cc"]
    cmd = "protoc -I. --cpp_out=$(GENDIR) "
    if grpc:
        cmd += "--grpc_out=$(GENDIR) --plugin=protoc-gen-grpc=$$(command -v grpc_cpp_plugin) "
    cmd += "$(location %s)" % src
    native.genrule(
        name = name + "_generate",
        srcs = [src] + [d + "_sources" for d in deps],
        outs = outs,
        cmd = cmd,
    )
    native.filegroup(
        name = name + "_sources",
        srcs = [src],
        visibility = visibility,
    )
    native.cc_library(
        name = name,
        srcs = [o for o in outs if o.endswith(".cc")],
        hdrs = [o for o in outs if o.endswith(".h")],
        copts = ["-w"],
        deps = deps + ["@system//:protobuf"] + (["@system//:grpc"] if grpc else []),
        visibility = visibility,
    )
