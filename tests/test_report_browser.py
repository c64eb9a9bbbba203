"""The generated report in a real headless Chromium (Debian's ``chromium``, driven by Playwright).

Skips when chromium or playwright is missing, unless CONFORMANCE_REQUIRE_BROWSER=1
(CI sets it after ``.ci/run`` installs chromium with apt-get), where it fails.
Playwright never downloads a browser here: it drives /usr/bin/chromium.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from autograd_conformance.reports import build, results
from autograd_conformance.reports.synthetic import write_synthetic

CHROMIUM = os.environ.get("CONFORMANCE_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


def _unavailable(reason: str) -> None:
    if os.environ.get("CONFORMANCE_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason} (CONFORMANCE_REQUIRE_BROWSER=1)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        _unavailable(f"{CHROMIUM} not found: install it with `apt-get install -y chromium` to run the browser test")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is missing: `pip install playwright` (no `playwright install` needed)")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("browser")
    paths = [
        write_synthetic(folder, rows=2_000, label="torch-2.9.1", seed=1, flip=0.05),
        write_synthetic(folder, rows=2_000, label="torch-2.13.0"),
        results.write_not_run(folder / "nr.jsonl", label="torch-2.4.1", reason="torch 2.4.1 failed to install"),
    ]
    return build.build(results.load(paths), folder / "index.html")


class Page:
    """A page that remembers every request and every JS error."""

    def __init__(self, browser: Any, url: str) -> None:
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.page = browser.new_page(viewport={"width": 1400, "height": 1000})
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        self.page.on("console", lambda msg: self.errors.append(f"console: {msg.text}") if msg.type == "error" else None)
        self.page.goto(url)
        self.page.wait_for_selector("body[data-ready='1']", timeout=60_000)  # a hang guard, not a speed target

    def rows(self) -> int:
        return self.page.locator("#rows tr.row").count()

    def count(self) -> str:
        return self.page.locator("#count").inner_text()


def test_matrix_filters_drilldown_offline_without_js_errors(browser: Any, report: Path) -> None:
    view = Page(browser, report.as_uri())
    page = view.page
    assert page.locator("#scores .score").count() == 3
    assert "not run" in page.locator("#scores .score.notrun").inner_text()
    assert view.rows() == 100, "the first page of the matrix renders"
    assert view.count() == "2000 of 2000 rows"

    page.check("input[name=status][value=error]")
    narrowed = int(view.count().split()[0])
    assert 0 < narrowed < 2000
    assert "status=error" in page.evaluate("location.hash"), "filters are kept in the URL"
    page.select_option("#family", "linalg")
    by_family = int(view.count().split()[0])
    page.fill("#q", "float32")
    assert 0 < int(view.count().split()[0]) < by_family < narrowed
    assert set(page.locator("#rows tr.family td").all_inner_texts()) == {"family: linalg"}

    page.locator("#rows td.cell.v-error").first.click()
    drill = page.locator("#drill")
    assert drill.is_visible()
    assert "backward()" in page.locator("#drill-repro").inner_text(), "the drilldown shows the repro"
    assert page.locator("#drill dd[data-fact=verdict]").inner_text().startswith("error")
    page.click("#copy")
    page.locator("#copied", has_text="copied").wait_for(timeout=5_000)
    assert "open=" in page.evaluate("location.hash")

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "report.png"))
    assert all(url.startswith("file://") for url in view.requests), f"network requests: {view.requests}"
    assert not view.errors, view.errors
    page.close()


def test_shared_url_restores_the_view(browser: Any, report: Path) -> None:
    view = Page(browser, report.as_uri() + "#status=fail&changed=1&open=0.1")
    page = view.page
    assert page.locator("input[name=status][value=fail]").is_checked()
    assert page.locator("#changed").is_checked()
    assert int(view.count().split()[0]) < 2000
    assert page.locator("#rows tr.row.changed").count() == view.rows() > 0, "changed rows stand out"
    assert page.locator("#drill").is_visible()
    page.keyboard.press("Escape")
    assert page.locator("#drill").is_hidden()
    assert not view.errors, view.errors
    page.close()


def test_20000_rows_open_and_filter(browser: Any, tmp_path: Path) -> None:
    """A 20,000-row report opens and filters (the time limits only catch a hang: speed is not a test's job)."""
    out = build.build(results.load([write_synthetic(tmp_path, rows=20_000)]), tmp_path / "big.html")
    view = Page(browser, out.as_uri())
    assert view.count() == "20000 of 20000 rows"
    view.page.fill("#q", "op01234")
    view.page.locator("#count", has_text="10 of 20000 rows").wait_for(timeout=60_000)
    assert not view.errors, view.errors
    view.page.close()
