"""Chaos: 2 API processes and 3 workers on one PostgreSQL, one Redis and one file directory,
1,000 predictions created through the official Python client against both API processes, while
API processes and workers are killed with SIGKILL at random moments and started again.

Afterwards every accepted prediction (a create that returned an id; one that raised is not
accepted) has ended; none is lost or stuck, none has two different results (the predictor puts
a token of its own run in the output, so a second run would show), and each one's `completed`
webhook arrived, repeats under the same `webhook-id`. `pytest -s` shows the counts.

PIER_CHAOS_SEED picks other victims and pauses; PIER_CHAOS_LOG_LEVEL=info keeps each process's
full log (under the test's temporary directory, printed when the test fails).
"""

from __future__ import annotations

import collections
import http.server
import json
import os
import random
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import redis
import replicate
from replicate.exceptions import ReplicateError

from pier.webhooks.sender import ATTEMPT_HOLD, WebhookSender
from tests.chaos.cluster import PIER, Cluster, Member
from tests.conftest import model_dir
from tests.postgres import ThrowAwayDatabase, connect, postgres_or_skip
from tests.queue.conftest import REDIS_URL, redis_url_or_skip

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

PREDICTIONS = 1000
CLIENT_THREADS = 8
API_PROCESSES = 2
WORKERS = 3
LEASE = 2.0  # seconds; a killed worker's running prediction fails this long after it died
RUN_TIME = 0.03  # seconds each prediction takes in the model, so that kills catch some running
PAUSE = (1.0, 3.0)  # seconds between kills
MIN_KILLS = 8  # the chaos goes on at least this long, even if the creates are done sooner
SEED = int(os.environ.get("PIER_CHAOS_SEED", "8"))
TOKEN = "chaos-admin-token"
LEASE_ERROR = "stopped answering"  # in the error of a prediction whose worker was killed
# Once nothing ends for this long, what is still open is stuck: a lease, a reclaim of a queue
# delivery (one lease idle) and a slot's blocking claim (5 s) fit in it several times.
STALL = 6 * LEASE + 10
# A process killed while it sent a webhook leaves that attempt held; another one sends it once
# the hold is over, at its next scan.
WEBHOOK_SETTLE = ATTEMPT_HOLD + WebhookSender.scan_interval + 20
TERMINAL = {"succeeded", "failed", "canceled"}


def _redis_or_skip() -> str:
    """The test Redis on a database of its own (14), emptied first."""
    return redis_url_or_skip(urllib.parse.urlsplit(REDIS_URL)._replace(path="/14").geturl())


# -- the webhook receiver -----------------------------------------------------------------------
@dataclass
class Delivery:
    webhook_id: str
    body: dict[str, Any]


class Receiver(http.server.ThreadingHTTPServer):
    """Takes every webhook (200) and keeps them by prediction id."""

    daemon_threads = True
    request_queue_size = 256  # every worker sends up to 32 at once

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.deliveries: dict[str, list[Delivery]] = collections.defaultdict(list)
        super().__init__(("127.0.0.1", 0), _Hook)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hook"

    def snapshot(self) -> dict[str, list[Delivery]]:
        with self.lock:
            return {key: list(value) for key, value in self.deliveries.items()}


class _Hook(http.server.BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:  # noqa: N802 - the standard library's name
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        with self.server.lock:
            self.server.deliveries[body["id"]].append(Delivery(self.headers["webhook-id"], body))
        self.send_response(200)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    hook = Receiver()
    thread = threading.Thread(target=hook.serve_forever, daemon=True)
    thread.start()
    yield hook
    hook.shutdown()
    hook.server_close()
    thread.join(10)


# -- creating, under fire -----------------------------------------------------------------------
@dataclass
class Creates:
    accepted: dict[str, str] = field(default_factory=dict)  # prediction id -> its input text
    refused: collections.Counter[str] = field(default_factory=collections.Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)
    done: threading.Event = field(default_factory=threading.Event)
    failure: BaseException | None = None


def create_all(cluster: Cluster, version: str, hook: str, creates: Creates) -> None:
    """Create every prediction, spread over the API processes that are up; a create that raised
    is made again (against the next API process) and does not count as accepted."""
    numbers = iter(range(PREDICTIONS))
    take = threading.Lock()

    def run() -> None:
        clients: dict[str, replicate.Client] = {}
        try:
            while True:
                with take:
                    number = next(numbers, None)
                if number is None:
                    return
                _create(cluster, clients, number, version, hook, creates)
        except BaseException as exc:
            creates.failure = exc
        finally:
            for client in clients.values():
                client._client.close()

    threads = [threading.Thread(target=run) for _ in range(CLIENT_THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    creates.done.set()


def _create(
    cluster: Cluster,
    clients: dict[str, replicate.Client],
    number: int,
    version: str,
    hook: str,
    creates: Creates,
) -> None:
    text = f"p{number}"
    deadline = time.monotonic() + 120
    attempt = 0
    while time.monotonic() < deadline:
        urls = cluster.urls()
        if not urls:
            time.sleep(0.05)
            continue
        url = urls[(number + attempt) % len(urls)]
        attempt += 1
        client = clients.get(url)
        if client is None:
            client = clients[url] = replicate.Client(api_token=TOKEN, base_url=url)
        try:
            prediction = client.predictions.create(
                version=version,
                input={"text": text, "sleep": RUN_TIME},
                webhook=hook,
                webhook_events_filter=["completed"],
            )
        except ReplicateError as exc:
            with creates.lock:
                creates.refused[f"HTTP {exc.status}"] += 1
            time.sleep(0.05)
            continue
        except Exception as exc:  # the API process went away under the request
            with creates.lock:
                creates.refused[type(exc).__name__] += 1
            if url not in cluster.urls():
                clients.pop(url)._client.close()
            time.sleep(0.05)
            continue
        with creates.lock:
            creates.accepted[prediction.id] = text
        return
    raise AssertionError(f"prediction {number} could not be created in 120 s")


# -- the chaos ---------------------------------------------------------------------------------
@dataclass
class Chaos:
    cluster: Cluster
    until: threading.Event  # the creates are done
    rng: random.Random
    kills: list[str] = field(default_factory=list)
    crashed: list[str] = field(default_factory=list)  # died without being killed
    failure: BaseException | None = None

    def run(self) -> None:
        try:
            while not (self.until.is_set() and len(self.kills) >= MIN_KILLS):
                time.sleep(self.rng.uniform(*PAUSE))
                # workers and API processes by turns, a random one of each
                group = self.cluster.workers if len(self.kills) % 2 == 0 else self.cluster.apis
                victim: Member = self.rng.choice(group)
                self.check_alive()
                victim.kill()
                self.kills.append(victim.name)
                self.cluster.start(victim)
            self.check_alive()
        except BaseException as exc:
            self.failure = exc

    def check_alive(self) -> None:
        for member in self.cluster.members:
            if not member.alive:
                self.crashed.append(member.name)
                self.cluster.start(member)


# -- settling and counting ---------------------------------------------------------------------
def statuses(database: str, ids: list[str]) -> dict[str, str]:
    with connect(database) as db:
        rows = db.execute("SELECT id, status FROM predictions WHERE id = ANY(%s)", [ids])
        return {str(pid): str(status) for pid, status in rows}


def open_predictions(database: str) -> list[tuple[str, str]]:
    with connect(database) as db:
        rows = db.execute(
            "SELECT id, status FROM predictions WHERE status NOT IN "
            "('succeeded', 'failed', 'canceled')"
        )
        return [(str(pid), str(status)) for pid, status in rows]


def settle(database: str, ids: list[str]) -> dict[str, str]:
    """Wait until every prediction has ended, or until none has ended for STALL seconds."""
    progress_at, ended = time.monotonic(), -1
    while True:
        found = statuses(database, ids)
        now_ended = sum(1 for status in found.values() if status in TERMINAL)
        if now_ended == len(ids) and not open_predictions(database):
            return found
        if now_ended > ended:
            progress_at, ended = time.monotonic(), now_ended
        if time.monotonic() - progress_at > STALL:
            return found
        time.sleep(0.2)


def wait_webhooks(receiver: Receiver, ids: list[str]) -> dict[str, list[Delivery]]:
    deadline = time.monotonic() + WEBHOOK_SETTLE
    while True:
        got = receiver.snapshot()
        if all(pid in got for pid in ids) or time.monotonic() > deadline:
            return got
        time.sleep(0.2)


def fetch_all(url: str, ids: list[str]) -> dict[str, Any]:
    """Every prediction as the API shows it (None for a 404)."""
    client = replicate.Client(api_token=TOKEN, base_url=url)
    found: dict[str, Any] = {}
    try:
        for pid in ids:
            try:
                found[pid] = client.predictions.get(pid)
            except ReplicateError as exc:
                if exc.status != 404:
                    raise
                found[pid] = None
    finally:
        client._client.close()
    return found


def logged(cluster: Cluster, *words: str) -> int:
    """Lines of every process's log (all its runs) that hold one of `words`."""
    return sum(
        1
        for member in cluster.members
        for line in member.log.read_text(errors="replace").splitlines()
        if any(word in line for word in words)
    )


def register(env: dict[str, str], root: Path) -> str:
    """`pier models add` into the cluster's database and files; the new version's id."""
    added = subprocess.run(
        [*PIER, "models", "add", str(model_dir(root, "echo_run.py")), "--name", "chaos/echo"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **env, "PIER_DATA_DIR": str(root / "registry")},
    )
    assert added.returncode == 0, added.stderr
    return added.stdout.strip().split(":")[1].split()[0]


# -- the test ----------------------------------------------------------------------------------
def test_nothing_accepted_is_lost_or_finished_twice_under_sigkill(
    tmp_path: Path, receiver: Receiver
) -> None:
    postgres_or_skip()
    queue = _redis_or_skip()
    database = ThrowAwayDatabase("pier_chaos")
    env = {
        "PIER_DATABASE": str(database),
        "PIER_QUEUE": queue,
        "PIER_FILES": str(tmp_path / "files"),
        "PIER_LEASE_SECONDS": str(LEASE),
        "PIER_ALLOW_PRIVATE_WEBHOOKS": "true",  # the receiver is on loopback
        "PIER_ADMIN_TOKEN": TOKEN,
        "PIER_BUILTIN_MODELS": "false",
        "PIER_LOG_LEVEL": os.environ.get("PIER_CHAOS_LOG_LEVEL", "warning"),
    }
    cluster = Cluster.build(tmp_path, env, apis=API_PROCESSES, workers=WORKERS)
    try:
        version = register(env, tmp_path)
        cluster.start_all()
        _run_chaos_and_check(cluster, version, receiver, str(database))
    except BaseException:
        print(cluster.tails(), file=sys.stderr)
        raise
    finally:
        cluster.stop_all()
        database.drop()
        client = redis.Redis.from_url(queue)
        client.flushdb()
        client.close()


def _run_chaos_and_check(cluster: Cluster, version: str, receiver: Receiver, db: str) -> None:
    creates = Creates()
    chaos = Chaos(cluster, creates.done, random.Random(SEED))
    chaos_thread = threading.Thread(target=chaos.run)
    started = time.monotonic()
    chaos_thread.start()
    try:
        create_all(cluster, version, receiver.url, creates)
    finally:
        creates.done.set()
        chaos_thread.join()
    created_in = time.monotonic() - started
    assert creates.failure is None, creates.failure
    assert chaos.failure is None, chaos.failure
    assert all(member.alive for member in cluster.members)

    ids = list(creates.accepted)
    stored = settle(db, ids)
    settled_in = time.monotonic() - started
    webhooks = wait_webhooks(receiver, ids)
    hooked_in = time.monotonic() - started
    shown = fetch_all(cluster.urls()[0], ids)
    strays = open_predictions(db)  # open, accepted or not (a create cut off half-way)
    checked_in = time.monotonic() - started
    # A worker drops its result only when another process ended the prediction first (failed
    # it when its lease ran out); Redis never went away, so no process saw it as unreachable;
    # and nothing went wrong inside Pier (a killed process leaves no trace in its log).
    dropped = logged(cluster, "this result is dropped")
    outages = logged(cluster, "is unreachable")
    errors = logged(cluster, " ERROR ", "ERROR:", "Traceback")

    counts: collections.Counter[str] = collections.Counter()
    problems: list[str] = []
    for pid, text in creates.accepted.items():
        prediction = shown[pid]
        if prediction is None or pid not in stored:
            counts["lost"] += 1
            problems.append(f"{pid}: lost")
            continue
        status = prediction.status
        counts[status] += 1
        if status not in TERMINAL:
            counts["stuck"] += 1
            problems.append(f"{pid}: still {status}")
            continue
        right = status != "succeeded" or str(prediction.output).split(" ")[0] == text
        if status == "failed" and LEASE_ERROR not in (prediction.error or ""):
            counts["failed (other)"] += 1
            problems.append(f"{pid}: failed with {prediction.error!r}")
        hooks = webhooks.get(pid, [])
        if not hooks:
            counts["webhook missing"] += 1
            problems.append(f"{pid}: no completed webhook")
        counts["webhooks delivered"] += len(hooks)
        counts["repeats"] += max(0, len(hooks) - 1)
        if len({hook.webhook_id for hook in hooks}) > 1:
            counts["webhook-id changed"] += 1
            problems.append(f"{pid}: repeats under different webhook-ids")
        results = {(hook.body["status"], json.dumps(hook.body["output"])) for hook in hooks}
        results.add((status, json.dumps(prediction.output)))
        if not right or len(results) > 1:
            counts["conflicting"] += 1
            problems.append(f"{pid} ({text}): results {sorted(results)}")

    print(
        f"\nchaos (seed {SEED}): {len(chaos.kills)} kills ({', '.join(chaos.kills)}), "
        f"creates done in {created_in:.1f} s, settled in {settled_in:.1f} s, "
        f"webhooks in {hooked_in:.1f} s, read back in {checked_in:.1f} s; "
        f"creates refused: {dict(creates.refused)}"
    )
    names = ["succeeded", "failed", "canceled", "lost", "stuck", "conflicting"]
    print(
        f"accepted {len(ids)}: "
        + ", ".join(f"{name} {counts[name]}" for name in names)
        + f"; webhooks delivered {counts['webhooks delivered']}, repeats {counts['repeats']}, "
        f"missing {counts['webhook missing']}, webhook-id changed {counts['webhook-id changed']}; "
        f"failed otherwise {counts['failed (other)']}; open in the store {len(strays)}; "
        f"crashed by themselves {chaos.crashed}"
    )
    print(f"logs: results dropped {dropped}, queue outages {outages}, errors {errors}")
    assert len(ids) == PREDICTIONS
    assert problems == [], "\n".join(problems[:20])
    assert strays == []
    assert chaos.crashed == []
    assert dropped <= counts["failed"] + counts["canceled"]
    assert outages == 0
    assert errors == 0
    assert not any(key.startswith("HTTP 5") and key != "HTTP 503" for key in creates.refused)
