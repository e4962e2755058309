#!/usr/bin/env bash
# Runs tests/check_deploy.py with Debian's Python and PyYAML.
exec /usr/bin/python3 "$PWD/tests/check_deploy.py" "$PWD/cli/adaline" "$PWD"
