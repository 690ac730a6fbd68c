"""The /docs page in a real browser: Swagger UI loads from the app alone and "Try it out" works.

Headless Chromium (Debian's /usr/bin/chromium, driven by Playwright; `playwright install` is
never needed) opens /docs on the whole application, expands POST /predict, clicks
"Try it out" then "Execute" with the example body of the OpenAPI document, and checks that the
page shows status 200. Every request the page makes is recorded: all must go to the app's own
origin, which shows the page needs no internet access (no CDN, no validator badge).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 30_000


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@pytest.fixture
def browser_page():
    """A page in a fresh headless Chromium profile, plus the requests and errors it records."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium package (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with tempfile.TemporaryDirectory(prefix="docs-page-chromium-") as user_data_dir:
        with sync_api.sync_playwright() as playwright:
            context = playwright.chromium.launch_persistent_context(
                user_data_dir,
                executable_path=str(CHROMIUM),
                headless=True,
                args=CHROMIUM_ARGS,
            )
            try:
                requested: list[str] = []
                problems: list[str] = []
                # On the context, not the page: also catches requests of workers and popups.
                context.on("request", lambda request: requested.append(request.url))
                page = context.new_page()
                page.set_default_timeout(TIMEOUT_MS)
                page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
                page.on(
                    "console",
                    lambda message: problems.append(f"console {message.type}: {message.text}")
                    if message.type == "error"
                    else None,
                )
                yield page, requested, problems
            finally:
                context.close()


def test_try_it_out_on_predict_returns_200_with_no_external_request(app_url, browser_page):
    page, requested, problems = browser_page
    document = requests.get(f"{app_url}/openapi.json", timeout=10).json()
    example = document["paths"]["/predict"]["post"]["requestBody"]["content"]["application/json"]["example"]

    response = page.goto(f"{app_url}/docs")
    assert response is not None and response.status == 200
    csp = response.headers.get("content-security-policy", "")
    assert "default-src 'none'" in csp and "script-src 'self'" in csp, csp

    # The operation block of POST /predict (Swagger UI renders one per path and method).
    operation = page.locator(".opblock.opblock-post").filter(
        has=page.locator('.opblock-summary-path[data-path="/predict"]')
    )
    operation.wait_for()
    operation.locator(".opblock-summary").click()
    operation.get_by_role("button", name="Try it out").click()

    # Swagger UI fills the body editor with the document's example; send it unchanged.
    body_editor = operation.locator("textarea.body-param__text")
    assert json.loads(body_editor.input_value()) == example

    with page.expect_response(
        lambda r: urlsplit(r.url).path == "/predict" and r.request.method == "POST"
    ) as predict_info:
        operation.get_by_role("button", name="Execute").click()
    predict = predict_info.value
    assert predict.status == 200, predict.text()
    assert origin(predict.url) == app_url, predict.url
    assert json.loads(predict.request.post_data or "null") == example
    assert "category" in predict.json()

    # The status Swagger UI shows under "Server response".
    shown_status = operation.locator(".live-responses-table tbody .response-col_status").first
    shown_status.wait_for()
    assert shown_status.inner_text().strip() == "200"

    # No request left the app's origin (data: and blob: URLs are not network requests).
    network = [url for url in requested if urlsplit(url).scheme not in ("data", "blob")]
    external = [url for url in network if origin(url) != app_url]
    assert not external, f"requests outside {app_url}: {external}"
    assert f"{app_url}/docs/swagger-ui-bundle.js" in network
    assert f"{app_url}/openapi.json" in network
    # A Content-Security-Policy violation or a script error would show up here.
    assert not problems, problems
