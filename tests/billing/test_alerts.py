"""Billing alerts: a real SMTP server and a real webhook receiver on this machine, the balance rows
as the ledger leaves them, and `check` called as the ledger calls it after a charge."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from replicate.webhook import Webhooks, WebhookSigningSecret

from pier.billing.alerts import AlertContext, check
from pier.store import Row, Store
from pier.util import utcnow
from pier.webhooks import client as webhook_client
from tests.api.test_webhooks import Receiver
from tests.billing.conftest import customer, public_model, set_price
from tests.billing.mailserver import PASSWORD, USER, MailServer, Received, free_port, self_signed
from tests.conftest import Pier, query_database, running_pier

DOLLAR = 1_000_000
FAST_RETRIES = (0.05, 0.1, 0.2)


@pytest.fixture
async def inbox_server() -> AsyncIterator[MailServer]:
    server = await MailServer().start()
    yield server
    await server.stop()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    hook = Receiver(url=f"http://127.0.0.1:{sock.getsockname()[1]}/alerts")
    server = uvicorn.Server(uvicorn.Config(hook, lifespan="off", log_level="warning", ws="none"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0.01)
    yield hook
    server.should_exit = True
    await task


@pytest.fixture
async def pier(tmp_path: Path, database: str, inbox_server: MailServer) -> AsyncIterator[Pier]:
    async with running_pier(
        tmp_path,
        database=database,
        allow_private_webhooks=True,
        smtp_host="127.0.0.1",
        smtp_port=inbox_server.port,
        smtp_tls="none",
        public_url="https://pier.example.com",
    ) as instance:
        yield instance


class Alerts:
    """AlertContexts on the app's store (or another store on its database, like a second
    process), closed at the end."""

    def __init__(self, pier: Pier) -> None:
        self.pier = pier
        self.made: list[AlertContext] = []
        self.stores: list[Store] = []

    def context(self, store: Store | None = None, **settings: Any) -> AlertContext:
        changed = self.pier.services.settings.replace(**settings)
        http = webhook_client(changed.allow_private_webhooks, timeout=10.0)
        ctx = AlertContext(
            changed, store or self.pier.services.store, http, retry_delays=FAST_RETRIES
        )
        self.made.append(ctx)
        return ctx

    def other_process(self) -> AlertContext:
        store = Store(self.pier.services.settings.database_url)
        self.stores.append(store)
        return self.context(store)

    async def close(self) -> None:
        for ctx in self.made:
            await ctx.close()
            await ctx.http.aclose()
        for store in self.stores:
            await store.close()


@pytest.fixture
async def alerts(pier: Pier) -> AsyncIterator[Alerts]:
    made = Alerts(pier)
    yield made
    await made.close()


async def account(pier: Pier, name: str, email: str | None = None) -> Row:
    return await pier.services.store.create_account(name, email=email)


def set_balance(pier: Pier, account_id: str, **values: Any) -> None:
    """The account's balances row, as the ledger would leave it (written behind Pier's back)."""
    settings = pier.services.settings
    query_database(
        settings,
        "INSERT INTO balances (account_id, updated_at) VALUES (:id, :now) "
        "ON CONFLICT (account_id) DO NOTHING",
        id=account_id,
        now=utcnow(),
    )
    if values:
        assignments = ", ".join(f"{name} = :{name}" for name in values)
        query_database(
            settings,
            f"UPDATE balances SET {assignments} WHERE account_id = :id",  # noqa: S608
            id=account_id,
            **values,
        )


async def check_many(ctx: AlertContext | list[AlertContext], account_id: str, n: int = 20) -> None:
    """`check` called n times at once (spread over the contexts given), and the sends it started
    waited for."""
    contexts = ctx if isinstance(ctx, list) else [ctx]
    await asyncio.gather(*(check(contexts[i % len(contexts)], account_id) for i in range(n)))
    for each in contexts:
        assert await each.drain(10.0)


async def finished(client: httpx.AsyncClient, prediction_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while (body := (await client.get(f"/v1/predictions/{prediction_id}")).json())["status"] not in (
        "succeeded",
        "failed",
        "canceled",
    ):
        assert time.monotonic() < deadline, body
        await asyncio.sleep(0.02)
    return body  # type: ignore[no-any-return]


def kinds(calls: list[Any]) -> list[str]:
    return [call.json["kind"] for call in calls]


async def test_first_dollar_once_by_mail_and_webhook(
    pier: Pier, alerts: Alerts, inbox_server: MailServer, receiver: Receiver
) -> None:
    ctx = alerts.context()
    ann = await account(pier, "ann", "ann@example.com")
    set_balance(
        pier,
        ann["id"],
        available_micros=9 * DOLLAR,
        spent_micros=990_000,
        alert_webhook=receiver.url,
    )
    await check_many(ctx, ann["id"])
    assert inbox_server.inbox.mails == [] and receiver.calls == []

    set_balance(
        pier,
        ann["id"],
        available_micros=8_800_000,
        spent_micros=1_200_000,
        month="2026-11",
        month_spent_micros=1_200_000,
    )
    await check_many([ctx, alerts.other_process()], ann["id"], n=40)
    [mail] = await inbox_server.inbox.wait_for(1)
    await receiver.wait_for(lambda calls: len(calls) == 1)
    await check_many(ctx, ann["id"], n=5)
    assert len(inbox_server.inbox.mails) == 1 and len(receiver.calls) == 1

    assert mail.recipients == ["ann@example.com"]
    assert mail.sender == "pier@localhost"
    assert mail.message["Subject"] == "Pier: ann has spent its first $1.00"
    body = mail.body
    assert "has now spent $1.20 in all: its first dollar" in body
    assert "Spent in 2026-11: $1.20 (no limit)" in body
    assert "Balance: $8.80" in body
    assert "https://pier.example.com/billing" in body

    [call] = receiver.calls
    secret = (await pier.services.store.get_account(ann["id"]))["webhook_secret"]  # type: ignore[index]
    Webhooks.validate(
        headers=call.headers,
        body=call.body.decode(),
        secret=WebhookSigningSecret(key=secret),
        tolerance=300,
    )
    event = call.json
    assert event.pop("created_at").endswith("Z")
    assert event == {
        "type": "billing.alert",
        "kind": "first_dollar",
        "account": "ann",
        "message": "ann has spent its first $1.00",
        "threshold_usd": "1.00",
        "spent_this_month_usd": "1.20",
        "monthly_limit_usd": None,
        "month": "2026-11",
        "balance_usd": "8.80",
        "total_spent_usd": "1.20",
    }


async def test_monthly_limit_50_80_100_once_each_and_again_next_month(
    pier: Pier, alerts: Alerts, inbox_server: MailServer, receiver: Receiver
) -> None:
    ctx, other = alerts.context(), alerts.other_process()
    bob = await account(pier, "bob", "bob@example.com")
    set_balance(
        pier,
        bob["id"],
        available_micros=100 * DOLLAR,
        monthly_limit_micros=10 * DOLLAR,
        month="2026-11",
        alert_webhook=receiver.url,
    )

    def spend(month_spent: int, month: str = "2026-11") -> None:
        set_balance(
            pier, bob["id"], month=month, month_spent_micros=month_spent, spent_micros=month_spent
        )

    def limit_kinds() -> list[str]:
        return [k for k in kinds(receiver.calls) if k.startswith("monthly_limit_")]

    spend(4_990_000)
    await check_many([ctx, other], bob["id"])
    assert limit_kinds() == []
    for spent, expected in [
        (5 * DOLLAR, ["monthly_limit_50"]),
        (7_999_999, ["monthly_limit_50"]),
        (8_500_000, ["monthly_limit_50", "monthly_limit_80"]),
        (10 * DOLLAR, ["monthly_limit_50", "monthly_limit_80", "monthly_limit_100"]),
        (12 * DOLLAR, ["monthly_limit_50", "monthly_limit_80", "monthly_limit_100"]),
    ]:
        spend(spent)
        await check_many([ctx, other], bob["id"])
        assert limit_kinds() == expected

    # A new month arms them again; crossing 50% and 80% at once tells only of the 80%.
    spend(9 * DOLLAR, "2026-12")
    await check_many([ctx, other], bob["id"])
    await receiver.wait_for(lambda _calls: len(limit_kinds()) == 4)
    assert limit_kinds()[-1] == "monthly_limit_80"
    spend(9_500_000, "2026-12")
    await check_many([ctx, other], bob["id"])
    assert len(limit_kinds()) == 4

    mails = await inbox_server.inbox.wait_for(5)  # first dollar, 50, 80, 100, 80 again
    subjects = [m.message["Subject"] for m in mails]
    assert subjects[0] == "Pier: bob has spent its first $1.00"
    assert subjects[1:] == [
        "Pier: 50% of bob's monthly limit used ($5.00 of $10.00)",
        "Pier: 80% of bob's monthly limit used ($8.50 of $10.00)",
        "Pier: 100% of bob's monthly limit used ($10.00 of $10.00)",
        "Pier: 80% of bob's monthly limit used ($9.00 of $10.00)",
    ]
    full = mails[3].body
    assert "has spent $10.00 in 2026-11, 100% or more of its monthly limit of $10.00" in full
    assert "refused until the month ends or the limit is raised" in full
    assert "Spent in 2026-11: $10.00 of a $10.00 limit" in full
    assert "https://pier.example.com/billing" in full
    hundred = [c.json for c in receiver.calls if c.json["kind"] == "monthly_limit_100"]
    assert hundred[0]["threshold_usd"] == "10.00"
    assert hundred[0]["monthly_limit_usd"] == "10.00"

    # A changed limit is a new line to cross.
    set_balance(pier, bob["id"], monthly_limit_micros=20 * DOLLAR)
    spend(10 * DOLLAR, "2026-12")
    await check_many([ctx, other], bob["id"])
    await receiver.wait_for(lambda _calls: len(limit_kinds()) == 5)
    assert receiver.calls[-1].json["threshold_usd"] == "10.00"
    assert receiver.calls[-1].json["monthly_limit_usd"] == "20.00"


async def test_low_balance_once_until_credit_is_added(
    pier: Pier, alerts: Alerts, inbox_server: MailServer, receiver: Receiver
) -> None:
    ctx, other = alerts.context(), alerts.other_process()
    cat = await account(pier, "cat", "cat@example.com")
    set_balance(
        pier,
        cat["id"],
        available_micros=6 * DOLLAR,
        spent_micros=500_000,
        low_balance_micros=5 * DOLLAR,
        alert_webhook=receiver.url,
    )

    def lows() -> list[dict[str, Any]]:
        return [c.json for c in receiver.calls if c.json["kind"] == "low_balance"]

    await check_many([ctx, other], cat["id"])
    assert lows() == []
    # Charged 2 dollars: 4 left, of which 1 is held by a running prediction.
    set_balance(
        pier, cat["id"], available_micros=3 * DOLLAR, held_micros=DOLLAR, spent_micros=2_500_000
    )
    await check_many([ctx, other], cat["id"])
    await receiver.wait_for(lambda _calls: len(lows()) == 1)
    assert lows()[0]["balance_usd"] == "4.00" and lows()[0]["threshold_usd"] == "5.00"
    set_balance(pier, cat["id"], available_micros=2 * DOLLAR, held_micros=0, spent_micros=4_500_000)
    await check_many([ctx, other], cat["id"])
    assert len(lows()) == 1

    # A top-up of 10 lifts it above the line; the next fall below is told again.
    set_balance(pier, cat["id"], available_micros=12 * DOLLAR)
    await check_many([ctx, other], cat["id"])
    assert len(lows()) == 1
    set_balance(pier, cat["id"], available_micros=4_900_000, spent_micros=11_600_000)
    await check_many([ctx, other], cat["id"])
    await receiver.wait_for(lambda _calls: len(lows()) == 2)
    assert lows()[1]["balance_usd"] == "4.90"

    mails = [m for m in await inbox_server.inbox.wait_for(3) if "balance" in m.message["Subject"]]
    assert [m.message["Subject"] for m in mails] == [
        "Pier: cat's balance is below $5.00 ($4.00 left)",
        "Pier: cat's balance is below $5.00 ($4.90 left)",
    ]
    assert "below the $5.00 you asked to be told about" in mails[0].body
    assert "https://pier.example.com/billing" in mails[0].body


async def test_nothing_due_reads_and_sends_nothing(
    pier: Pier, alerts: Alerts, inbox_server: MailServer
) -> None:
    ctx = alerts.context()
    dan = await account(pier, "dan", "dan@example.com")
    await check(ctx, dan["id"])  # no balance row yet
    await check(ctx, "no-such-account")
    set_balance(pier, dan["id"], available_micros=DOLLAR, spent_micros=10)
    await check_many(ctx, dan["id"])
    assert query_database(pier.services.settings, "SELECT * FROM alerts_sent") == []
    assert inbox_server.inbox.mails == []


async def test_without_an_address_or_a_webhook_the_alert_is_recorded_only(
    pier: Pier, alerts: Alerts, inbox_server: MailServer
) -> None:
    ctx = alerts.context()
    eve = await account(pier, "eve")
    set_balance(pier, eve["id"], spent_micros=3 * DOLLAR)
    await check_many(ctx, eve["id"])
    rows = query_database(
        pier.services.settings,
        "SELECT kind, period FROM alerts_sent WHERE account_id = :id",
        id=eve["id"],
    )
    assert rows == [("first_dollar", "all")]
    assert inbox_server.inbox.mails == []


async def test_mail_server_down_breaks_nothing_and_is_retried(
    pier: Pier, alerts: Alerts, receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    port = free_port()  # nothing listens there yet
    ctx = alerts.context(smtp_port=port)
    ctx.retry_delays = (0.2, 0.5, 1.0, 2.0)
    fay = await account(pier, "fay", "fay@example.com")
    set_balance(pier, fay["id"], spent_micros=2 * DOLLAR, alert_webhook=receiver.url)
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="pier.billing.alerts"):
        await check(ctx, fay["id"])
        assert time.monotonic() - started < 2.0  # sending is in the background
        await receiver.wait_for(lambda calls: len(calls) == 1)  # the webhook goes out anyway
        deadline = time.monotonic() + 10
        while "attempt 1 of 5 failed" not in caplog.text:
            assert time.monotonic() < deadline, caplog.text
            await asyncio.sleep(0.02)
        server = await MailServer().start(port)  # the mail server comes back
        try:
            [mail] = await server.inbox.wait_for(1)
            assert mail.message["Subject"] == "Pier: fay has spent its first $1.00"
        finally:
            await server.stop()
    assert await ctx.drain(5.0)


async def test_mail_server_gone_for_good_is_given_up_and_logged(
    pier: Pier, alerts: Alerts, caplog: pytest.LogCaptureFixture
) -> None:
    ctx = alerts.context(smtp_port=free_port())
    gus = await account(pier, "gus", "gus@example.com")
    set_balance(pier, gus["id"], spent_micros=2 * DOLLAR, low_balance_micros=DOLLAR)
    with caplog.at_level(logging.WARNING, logger="pier.billing.alerts"):
        await check(ctx, gus["id"])
        assert await ctx.drain(10.0)
    gave_up = [r for r in caplog.records if "gave up after 4 attempts" in r.getMessage()]
    assert len(gave_up) == 2  # first dollar and low balance, each given up once
    assert "e-mail first_dollar alert of gus to gus@example.com" in caplog.text


async def test_a_private_webhook_is_refused_unless_allowed(
    pier: Pier,
    alerts: Alerts,
    inbox_server: MailServer,
    receiver: Receiver,
    caplog: pytest.LogCaptureFixture,
) -> None:
    ctx = alerts.context(allow_private_webhooks=False)
    hal = await account(pier, "hal", "hal@example.com")
    set_balance(pier, hal["id"], spent_micros=2 * DOLLAR, alert_webhook=receiver.url)
    with caplog.at_level(logging.WARNING, logger="pier.billing.alerts"):
        await check(ctx, hal["id"])
        assert await ctx.drain(10.0)
    await inbox_server.inbox.wait_for(1)
    assert receiver.calls == []
    assert "not sent: the address 127.0.0.1 is a loopback or private address" in caplog.text


@pytest.mark.parametrize("tls", ["starttls", "tls"])
async def test_encrypted_mail_server(
    tls: str,
    pier: Pier,
    alerts: Alerts,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cert = self_signed(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert[0]))  # the client trusts the test certificate
    server = await MailServer(tls, cert).start()
    try:
        user = USER if tls == "starttls" else ""  # the STARTTLS server asks for a login
        ctx = alerts.context(
            smtp_port=server.port, smtp_tls=tls, smtp_user=user, smtp_password=PASSWORD
        )
        ivy = await account(pier, "ivy", "ivy@example.com")
        set_balance(pier, ivy["id"], spent_micros=2 * DOLLAR)
        await check(ctx, ivy["id"])
        [mail] = await server.inbox.wait_for(1)
        assert isinstance(mail, Received) and mail.encrypted
        assert mail.login == (USER if tls == "starttls" else None)
        assert mail.message["Subject"] == "Pier: ivy has spent its first $1.00"
    finally:
        await server.stop()


async def test_an_untrusted_certificate_is_refused(
    pier: Pier, alerts: Alerts, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    server = await MailServer("starttls", self_signed(tmp_path)).start()
    try:
        ctx = alerts.context(smtp_port=server.port, smtp_tls="starttls")
        ctx.retry_delays = ()
        jon = await account(pier, "jon", "jon@example.com")
        set_balance(pier, jon["id"], spent_micros=2 * DOLLAR)
        with caplog.at_level(logging.WARNING, logger="pier.billing.alerts"):
            await check(ctx, jon["id"])
            assert await ctx.drain(10.0)
        assert server.inbox.mails == []
        assert "CERTIFICATE_VERIFY_FAILED" in caplog.text or "certificate" in caplog.text
    finally:
        await server.stop()


async def test_a_real_prediction_crossing_a_dollar_mails_and_calls_the_webhook(
    pier: Pier, inbox_server: MailServer, receiver: Receiver
) -> None:
    await public_model(pier, "acme/hello", "hello_world.py")
    await set_price(pier, model="acme/hello", per_run_usd="0.60")
    await pier.services.store.create_account("kim", email="kim@example.com")
    kim = await customer(pier, "kim", credit="5")
    changed = await kim.client.patch(
        "/v1/billing", json={"alert_webhook": receiver.url, "monthly_limit_usd": "2"}
    )
    assert changed.status_code == 200, changed.text

    for _ in range(2):  # 0.60 and then 1.20 spent
        created = await kim.client.post("/v1/models/acme/hello/predictions", json={"input": {}})
        assert created.status_code == 201, created.text
        done = await finished(kim.client, created.json()["id"])
        assert done["status"] == "succeeded" and done["metrics"]["cost_usd"] == "0.60"

    mails = await inbox_server.inbox.wait_for(2)  # 1.20 is also 60% of the $2 limit
    by_subject = {m.message["Subject"]: m for m in mails}
    assert sorted(by_subject) == [
        "Pier: 50% of kim's monthly limit used ($1.20 of $2.00)",
        "Pier: kim has spent its first $1.00",
    ]
    mail = by_subject["Pier: kim has spent its first $1.00"]
    assert {m.recipients[0] for m in mails} == {"kim@example.com"}
    assert "has now spent $1.20 in all" in mail.body
    assert "$1.20 of a $2.00 limit" in mail.body
    assert "https://pier.example.com/billing" in mail.body
    await receiver.wait_for(lambda calls: len(calls) == 2)
    assert sorted(kinds(receiver.calls)) == ["first_dollar", "monthly_limit_50"]
    await kim.client.aclose()


async def test_an_address_that_cannot_be_a_header_is_skipped_and_the_webhook_still_goes(
    pier: Pier,
    alerts: Alerts,
    inbox_server: MailServer,
    receiver: Receiver,
    caplog: pytest.LogCaptureFixture,
) -> None:
    ctx = alerts.context()
    kit = await account(pier, "kit", "kit@example.com\r\nBcc: someone@example.com")
    set_balance(pier, kit["id"], spent_micros=2 * DOLLAR, alert_webhook=receiver.url)
    with caplog.at_level(logging.WARNING, logger="pier.billing.alerts"):
        await check(ctx, kit["id"])
        assert await ctx.drain(10.0)
    assert kinds(receiver.calls) == ["first_dollar"]
    assert inbox_server.inbox.mails == []
    assert "e-mail first_dollar alert of kit not sent" in caplog.text
