"""Security headers on every kind of response, the playground's page free of inline code, no
documentation page that needs the internet, and login links that work once, for one start."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest

from pier.api.routes.web import WEB
from tests.conftest import Pier, running_pier


def policy(response: httpx.Response) -> dict[str, str]:
    """The Content-Security-Policy as {directive: sources}."""
    directives = [part.strip() for part in response.headers["content-security-policy"].split(";")]
    return {d.split(" ", 1)[0]: (d.split(" ", 1) + [""])[1] for d in directives if d}


def check_page_headers(response: httpx.Response) -> None:
    csp = policy(response)
    assert csp["default-src"] == "'self'"
    assert csp["script-src"] == "'self'"  # no 'unsafe-inline', no 'unsafe-eval', no other host
    assert csp["frame-ancestors"] == "'self'"
    assert csp["object-src"] == "'none'"
    assert csp["base-uri"] == "'self'"
    assert "unsafe-inline" not in csp.get("style-src", "")
    check_common_headers(response)


def check_common_headers(response: httpx.Response) -> None:
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"
    assert response.headers["x-frame-options"] == "SAMEORIGIN"


@pytest.mark.parametrize(
    "path",
    ["/", "/login?next=/predictions", "/models/pier/echo", "/static/js/main.js", "/static/app.css"],
)
async def test_pages_and_static_files_carry_the_security_headers(pier: Pier, path: str) -> None:
    response = await pier.client.get(path)
    assert response.status_code == 200
    check_page_headers(response)


@pytest.mark.parametrize(
    ("method", "path", "status", "auth"),
    [
        ("GET", "/v1/account", 200, True),
        ("GET", "/v1/account", 401, False),
        ("GET", "/v1/predictions/nope", 404, True),
        ("POST", "/auth/login", 400, False),
        ("GET", "/static/nope.js", 404, False),
        ("GET", "/openapi.json", 200, False),
    ],
)
async def test_api_responses_and_errors_carry_the_security_headers(
    pier: Pier, method: str, path: str, status: int, auth: bool
) -> None:
    headers = None if auth else {"Authorization": ""}
    response = await pier.client.request(method, path, headers=headers)
    assert response.status_code == status
    check_page_headers(response)


async def test_file_downloads_keep_their_own_sandbox_policy(pier: Pier) -> None:
    html = b"<script>alert(document.domain)</script>"
    upload = await pier.client.post(
        "/v1/files", files={"content": ("page.html", html, "text/html")}
    )
    assert upload.status_code == 201
    response = await pier.client.get(upload.json()["urls"]["get"] + "/download")
    assert response.status_code == 200
    assert response.content == html
    assert response.headers["content-security-policy"] == "sandbox"
    check_common_headers(response)


async def test_output_images_from_the_public_url_are_allowed(tmp_path: Path) -> None:
    async with running_pier(tmp_path, public_url="https://pier.example.org/") as pier:
        csp = policy(await pier.client.get("/"))
    assert "https://pier.example.org" in csp["img-src"].split()
    assert "https://pier.example.org" in csp["connect-src"].split()


class InlineCode(HTMLParser):
    """Collects inline scripts, inline event handlers and style attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name for name, _ in attrs}
        if tag == "script" and "src" not in names:
            self.found.append("inline <script>")
        self.found += [f"{name} on <{tag}>" for name in names if name.startswith("on")]
        if "style" in names:
            self.found.append(f"style attribute on <{tag}>")
        if tag == "style":
            self.found.append("<style> element")


async def test_playground_page_has_no_inline_code_and_no_outside_assets(pier: Pier) -> None:
    page = (await pier.client.get("/")).text
    parser = InlineCode()
    parser.feed(page)
    assert parser.found == []
    assert "http://" not in page and "https://" not in page
    # Nor do the scripts build code or inline styles from strings (the policy would block them).
    blocked = re.compile(
        r"\beval\(|new Function\(|setAttribute\(\s*[\"'](style|on)|\.innerHTML\s*="
    )
    for script in (WEB / "js").rglob("*.js"):
        assert not blocked.search(script.read_text()), script


async def test_no_docs_page_that_loads_assets_from_a_cdn(pier: Pier) -> None:
    docs = await pier.client.get("/docs")
    assert "cdn" not in docs.text.lower()
    assert "swagger" not in docs.text.lower()
    schema = await pier.client.get("/openapi.json")
    assert schema.status_code == 200
    assert schema.json()["info"]["title"] == "Pier"


async def test_login_links_work_once_and_only_for_the_start_that_printed_them(
    tmp_path: Path, database: str
) -> None:
    async with running_pier(tmp_path, database=database) as first:
        earlier = first.info.login_code  # printed, never opened
    async with running_pier(tmp_path, database=database) as second:
        refused = await second.client.post("/auth/login", json={"code": earlier})
        assert refused.status_code == 401
        assert refused.headers["content-type"] == "application/problem+json"
        assert "expired" in refused.json()["detail"]

        code = second.info.login_code
        assert code != earlier
        signed_in = await second.client.post("/auth/login", json={"code": code})
        assert signed_in.status_code == 200
        token = signed_in.json()["token"]
        account = await second.client.get(
            "/v1/account", headers={"Authorization": f"Bearer {token}"}
        )
        assert account.json()["username"] == "admin"
        again = await second.client.post("/auth/login", json={"code": code})
        assert again.status_code == 401
