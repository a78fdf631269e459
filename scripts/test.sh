#!/usr/bin/env bash
# Installs everything the tests need (Python packages, Chromium, npm packages) and runs them all:
# lint, types, and the test suite. The same command runs locally and in CI.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null 2>&1; then
  echo "== installing Chromium for the browser tests"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

echo "== installing Python packages"
python -m pip install -q --disable-pip-version-check -c constraints.txt -e ".[models,test]"

if [ -f package.json ]; then
  echo "== installing npm packages"
  npm ci --no-audit --no-fund --silent
fi

echo "== ruff"
ruff format --check pier tests bench scripts training
ruff check pier tests bench scripts training
echo "== mypy"
mypy pier
echo "== pytest"
python -m pytest -q -p no:cacheprovider "$@"
if [ -d tests/js ]; then
  echo "== node tests"
  node --test tests/js/
fi
