"""Installs the adaline Python package: `pip install ./python`.

The gRPC and protobuf modules are generated from ../proto at build time by
generate_stubs.sh (Debian's protoc and grpc_python_plugin); the runtime
needs grpcio, protobuf, numpy and xxhash (Debian: python3-grpcio,
python3-protobuf, python3-numpy, python3-xxhash), and pandas only for
Model.to_frame().
"""

import os
import subprocess

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))


class BuildWithStubs(build_py):
    def run(self):
        super().run()
        subprocess.check_call([os.path.join(HERE, "generate_stubs.sh"),
                               os.path.abspath(self.build_lib),
                               os.path.dirname(HERE)])


setup(
    name="adaline",
    version="0.1.0",
    description="Client and model reader for adaline, a trainer of sparse "
                "linear models",
    # adaline._proto is generated into the build directory (see above).
    packages=["adaline"],
    install_requires=["grpcio", "protobuf", "numpy", "xxhash"],
    cmdclass={"build_py": BuildWithStubs},
    python_requires=">=3.9",
)
