#!/usr/bin/env bash
# Runs tests/cli/check_deploy.py with Debian's Python and PyYAML.
exec /usr/bin/python3 "$PWD/tests/cli/check_deploy.py" "$PWD/cli/adaline" "$PWD"
