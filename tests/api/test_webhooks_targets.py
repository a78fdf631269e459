"""Webhook signatures (the known-answer vector) and the guard on where webhooks may go."""

from __future__ import annotations

import ipaddress
import socket
import time

import httpx
import pytest
from replicate.webhook import InvalidSignatureError, Webhooks, WebhookSigningSecret

from pier.webhooks import signing, targets
from pier.webhooks.targets import TargetRefused, check_events, check_url, public_address

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def test_signature_matches_the_standard_webhooks_vector() -> None:
    signature = signing.sign(
        SECRET, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, b'{"test": 2432232314}'
    )
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_the_python_client_accepts_signed_headers_and_rejects_tampering() -> None:
    body = b'{"id":"abc","status":"succeeded"}'
    now = int(time.time())
    headers = signing.headers(SECRET, signing.new_message_id(), now, body)
    secret = WebhookSigningSecret(key=SECRET)
    Webhooks.validate(headers=headers, body=body.decode(), secret=secret, tolerance=60)
    with pytest.raises(InvalidSignatureError):
        Webhooks.validate(headers=headers, body=body.decode() + " ", secret=secret)


def test_message_ids_look_like_replicates() -> None:
    ids = {signing.new_message_id() for _ in range(50)}
    assert len(ids) == 50
    assert all(i.startswith("msg_") and len(i) == 28 and i[4:].isalnum() for i in ids)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9000/hook",
        "http://localhost/hook",
        "http://api.localhost/hook",
        "http://[::1]/hook",
        "http://10.1.2.3/",
        "http://192.168.0.10/",
        "http://172.16.5.4/",
        "http://169.254.169.254/latest/meta-data/",
        "http://100.64.0.1/",
        "http://0.0.0.0:8000/",
        "http://[::ffff:127.0.0.1]/",
        "http://[fd00::1]/",
        "http://224.0.0.1/",
    ],
)
def test_private_targets_are_refused_unless_allowed(url: str) -> None:
    with pytest.raises(TargetRefused, match="PIER_ALLOW_PRIVATE_WEBHOOKS"):
        check_url(url, allow_private=False)
    assert check_url(url, allow_private=True) == url


@pytest.mark.parametrize(
    "url", [None, 42, "", "ftp://example.com/x", "example.com/hook", "http://", "http://h:99999/"]
)
def test_malformed_webhooks_are_refused(url: object) -> None:
    with pytest.raises(TargetRefused):
        check_url(url, allow_private=True)


def test_public_targets_pass() -> None:
    assert check_url("https://example.com/hooks?x=1", allow_private=False)
    assert check_url("http://8.8.8.8:8080/", allow_private=False)


@pytest.mark.parametrize(
    "address, public",
    [
        ("8.8.8.8", True),
        ("2001:4860:4860::8888", True),
        ("127.0.0.1", False),
        ("::ffff:10.0.0.1", False),
        ("64:ff9b::7f00:1", False),  # NAT64 of 127.0.0.1
        ("2002:7f00:1::", False),  # 6to4 of 127.0.0.1
        ("::127.0.0.1", False),  # the deprecated v4-compatible form
        ("ff02::1", False),
    ],
)
def test_public_address(address: str, public: bool) -> None:
    assert public_address(ipaddress.ip_address(address)) is public


def test_events_filter() -> None:
    assert check_events(None) is None
    assert check_events(["completed", "start"]) == ["start", "completed"]
    assert check_events([]) == []
    with pytest.raises(TargetRefused, match="unknown events"):
        check_events(["finished"])
    with pytest.raises(TargetRefused):
        check_events("completed")


async def test_guarded_client_will_not_dial_a_loopback_address() -> None:
    # Even a name that passed the check at creation is refused when it resolves privately.
    async with targets.client(allow_private=False, timeout=2.0) as guarded:
        for url in ("http://127.0.0.1:9/", "http://localhost:9/"):
            with pytest.raises(httpx.ConnectError, match="no public address"):
                await guarded.post(url, content=b"{}")


@pytest.mark.parametrize(
    "url",
    [
        "http://2130706433/",
        "http://127.1/",
        "http://127.0.1:8000/hook",
        "http://0x7f000001/",
        "http://0x7F.1/",
        "http://0177.0.0.1/",
        "http://0/",
        "http://0.0/",
        "http://017700000001/",
        "http://3232235521/",  # 192.168.0.1
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[::ffff:7f00:1]/",
    ],
)
def test_numeric_spellings_of_private_addresses_are_refused(url: str) -> None:
    with pytest.raises(TargetRefused, match="loopback or private"):
        check_url(url, allow_private=False)


def test_numeric_spellings_of_public_addresses_pass() -> None:
    assert check_url("http://134744072/", allow_private=False)  # 8.8.8.8
    assert check_url("http://0x8.0x8.0x8.0x8/", allow_private=False)


@pytest.mark.parametrize(
    "host",
    [
        "2130706433",
        "127.1",
        "127.0.1",
        "0x7f000001",
        "0X7F.0.0.1",
        "0177.0.0.1",
        "0",
        "00",
        "0x",
        "08",
        "09.1",
        "1.2.3.4.5",
        "4294967295",
        "4294967296",
        "256.1",
        "1.16777215",
        "1.16777216",
        "1.2.65535",
        "1.2.65536",
        "0x100.1",
        "000000000000000000000177.1",
        "1" * 5000,
        "example.com",
        "",
        "-1",
        "1e3",
    ],
)
def test_numeric_hosts_read_like_the_system_resolver(host: str) -> None:
    try:
        expected = ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        expected = None
    assert targets.inet_aton(host) == expected
