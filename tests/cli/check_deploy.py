"""Checks deploy/: the manifests parse, and every adaline command and flag
they use exists in the binary (as `adaline help COMMAND` lists them)."""
import glob
import re
import shlex
import subprocess
import sys

import yaml

adaline, root = sys.argv[1], sys.argv[2]
failures = []
commands_seen = 0


def containers(document):
    spec = document.get("spec", {})
    template = spec.get("template", {}).get("spec", {})
    return template.get("containers", [])


for path in sorted(glob.glob(root + "/deploy/k8s/*.yaml")):
    with open(path) as stream:
        documents = [d for d in yaml.safe_load_all(stream) if d]
    if not documents:
        failures.append(f"{path}: no YAML documents")
    for document in documents:
        for key in ("apiVersion", "kind", "metadata"):
            if key not in document:
                failures.append(f"{path}: a document has no {key}")
        for container in containers(document):
            text = " ".join(container.get("command", []) + container.get("args", []))
            for match in re.finditer(r"\badaline\s+(\w+)([^;&|]*)", text):
                command, rest = match.group(1), match.group(2)
                commands_seen += 1
                help_text = subprocess.run([adaline, "help", command], capture_output=True,
                                           text=True)
                if help_text.returncode != 0:
                    failures.append(f"{path}: 'adaline {command}' is not a command")
                    continue
                for token in shlex.split(rest, posix=False):
                    if token.startswith("--"):
                        flag = token.split("=", 1)[0].replace("_", "-")
                        if f"  {flag} " not in help_text.stdout:
                            failures.append(f"{path}: 'adaline {command}' has no {flag}")

dockerfile = open(root + "/deploy/Dockerfile").read()
for needed in ("FROM debian:12", "tools/install.sh", "bazel build //:adaline"):
    if needed not in dockerfile:
        failures.append(f"deploy/Dockerfile does not mirror README's first command: no '{needed}'")
readme = open(root + "/README.md").read()
if "deploy/k8s" not in readme:
    failures.append("README.md does not show how to run a job with deploy/k8s")
if commands_seen < 2:
    failures.append(f"found only {commands_seen} adaline commands in the manifests")
for failure in failures:
    print("FAIL:", failure)
print(f"{commands_seen + 3 - len(failures)} passed, {len(failures)} failed")
sys.exit(1 if failures else 0)
