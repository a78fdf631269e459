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
echo "== services"
# Redis and PostgreSQL from Debian's packages when the machine has neither (the S3 server is
# moto's, from the test extra, started by the tests themselves).
missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v pg_ctlcluster >/dev/null 2>&1 || missing+=(postgresql)
if [ ${#missing[@]} -gt 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null || true
fi
# The queue tests run against a real Redis (PIER_TEST_REDIS, default the local one). Start it if
# it does not answer; under CI=true the tests fail rather than skip when it is missing.
if command -v redis-server >/dev/null 2>&1 && ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  echo "starting Redis on 127.0.0.1:6379"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
fi
if ! command -v redis-server >/dev/null 2>&1; then
  echo "redis-server is not installed: the queue tests will say so (and fail under CI=true)"
fi
# The store tests run on SQLite and on a real PostgreSQL (PIER_TEST_POSTGRES, default the local
# server), where each test session makes a throw-away database. Start it if it does not answer;
# under CI=true the tests fail rather than skip when it is missing.
export PIER_TEST_POSTGRES="${PIER_TEST_POSTGRES:-postgresql://postgres@127.0.0.1:5432/postgres}"
postgres_answers() { command -v pg_isready >/dev/null 2>&1 && pg_isready -q -d "$PIER_TEST_POSTGRES"; }
if ! postgres_answers && command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
  echo "starting PostgreSQL"
  for version in $(ls /etc/postgresql); do
    pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  done
  for _ in $(seq 100); do postgres_answers && break; sleep 0.1; done  # up to ~10 s
fi
if ! postgres_answers; then
  echo "PostgreSQL does not answer: the PostgreSQL tests will say so (and fail under CI=true)"
fi
echo "== pytest"
python -m pytest -q -p no:cacheprovider "$@"
if [ -d tests/js ]; then
  echo "== node tests"
  node --test tests/js/
fi
