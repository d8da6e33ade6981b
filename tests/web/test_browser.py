"""The web app in a real browser (Debian's Chromium driven by Playwright), with axe-core.

The server is ``tinylift serve`` in its own process; screenshots of each step go
to ``test-artifacts/browser/``.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, sync_playwright
from tests.collector.conftest import free_port
from tests.web.conftest import DISCOUNT, PASSWORD

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "browser"
AXE = ROOT / ".venv" / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="module")
def server(web_workspace: Path) -> Iterator[str]:
    """``tinylift serve`` on the web demo, once it answers."""
    port = free_port()
    log = web_workspace / "serve.log"
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tinylift.cli.main",
                "serve",
                "--dir",
                str(web_workspace),
                "--port",
                str(port),
            ],
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/api/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.3)
    else:
        proc.kill()
        raise AssertionError(f"the server did not start: {log.read_text()[-2000:]}")
    yield url
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=60)


@pytest.fixture(scope="module")
def page() -> Iterator[Page]:
    assert Path(CHROMIUM).exists(), "Debian's chromium is missing: make test installs it"
    assert AXE.exists(), "axe-core is missing: make test fetches it from the npm registry"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        pg = context.new_page()
        pg.set_default_timeout(30_000)  # a loaded two-core machine is slow
        errors: list[str] = []
        pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        pg.on("pageerror", lambda e: errors.append(str(e)))
        pg.errors = errors  # type: ignore[attr-defined]
        yield pg
        context.close()
        browser.close()


def _axe(page: Page, name: str) -> None:
    """No serious or critical accessibility violation on this page."""
    page.evaluate(AXE.read_text() + "\n;void 0")
    result: dict[str, Any] = page.evaluate(
        "async () => await axe.run(document, {resultTypes: ['violations']})"
    )
    bad = [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert not bad, f"{name}: " + "; ".join(bad)


def _shot(page: Page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _sign_in_and_open(page: Page, server: str, handle: str, section: str) -> None:
    """Sign in from the keyboard, then open a section from the main navigation."""
    page.goto(f"{server}/login")
    page.fill("#handle", handle)
    page.fill("#password", PASSWORD)
    page.press("#password", "Enter")
    page.wait_for_url(f"{server}/experiments")
    page.click(f"nav a[href='/{section}']")
    page.wait_for_url(f"{server}/{section}")


def test_the_portfolio_page_draws_its_figures(server: str, page: Page) -> None:
    _sign_in_and_open(page, server, "vic", "portfolio")
    assert page.locator("table.impact tbody tr[data-metric='conversion']").count() == 1
    page.wait_for_selector("[data-plot='fig-rates'] .main-svg")  # 66 days in: nothing shipped yet
    assert "too few to correct" in page.locator("table.impact").inner_text()
    _shot(page, "portfolio")
    _axe(page, "portfolio page")
    assert not page.errors, page.errors  # type: ignore[attr-defined]
    page.click("form.who button")  # sign out for the next test


def test_a_team_reads_aligns_and_decides_in_the_browser(server: str, page: Page) -> None:
    # sign in, from the keyboard
    page.goto(f"{server}/experiments")
    assert "/login" in page.url
    _axe(page, "sign-in page")
    page.fill("#handle", "sam")
    page.fill("#password", PASSWORD)
    page.press("#password", "Enter")
    page.wait_for_url(f"{server}/experiments")
    _shot(page, "1-list")
    _axe(page, "experiment list")

    # filter the list by team
    everything = page.locator("table.list tbody tr").count()
    page.select_option("#f-team", "sales")
    page.click("button:has-text('Filter')")
    page.wait_for_url("**team=sales**")
    rows = page.locator("table.list tbody tr")
    assert 0 < rows.count() < everything
    assert all(
        rows.nth(i).locator("td").nth(1).inner_text() == "sales" for i in range(rows.count())
    )
    _shot(page, "2-list-sales")

    # the discount experiment: the failed guardrail and the rendered forest plot
    page.click(f"a[href='/experiments/{DISCOUNT}']")
    page.wait_for_url(f"**/experiments/{DISCOUNT}")
    guard = page.locator("table.scorecard tr[data-metric='return_rate']")
    assert "guardrail failed" in guard.inner_text()
    page.wait_for_selector("#forest-plot .main-svg")
    assert page.locator("#forest-plot .point").count() >= 3  # one marker per metric
    _shot(page, "3-discount")
    _axe(page, "experiment page")

    # an anecdote, typed and sent from the keyboard
    page.fill("#a-text", "Three customers returned the hub the week they bought it.")
    page.fill("#a-source", "return reasons")
    page.select_option("#a-sentiment", "negative")
    page.select_option("#a-variant", "treatment")
    page.focus("form[aria-label='Add an anecdote'] button")
    page.keyboard.press("Enter")
    page.wait_for_selector("blockquote:has-text('Three customers returned the hub')")

    # the decision, then it is in the history
    page.select_option("#d-outcome", "abandon")
    page.fill("#d-rationale", "The discount's returns outweigh its conversion gain.")
    page.focus("form[aria-label='Record the decision'] button")
    page.keyboard.press("Enter")
    page.wait_for_selector("#decision-made")
    assert "abandon" in page.locator("#decision-made").inner_text()
    assert "returns outweigh" in page.locator("#history").inner_text()
    _shot(page, "4-decided")

    # a new experiment, planned with the power calculator
    page.click("text=Experiments")
    page.click("text=New experiment")
    page.wait_for_url("**/experiments/new")
    _axe(page, "create page")
    page.fill("#c-baseline", "0.05")
    page.fill("#c-mde", "5")
    page.fill("#c-daily", "4000")
    page.press("#c-daily", "Enter")
    page.wait_for_selector("#plan")
    fixed = int(
        page.locator("#plan tr[data-design='fixed'] td").nth(1).inner_text().replace(",", "")
    )
    sequential = int(
        page.locator("#plan tr[data-design='sequential'] td").nth(1).inner_text().replace(",", "")
    )
    assert 100_000 < fixed < sequential  # always-valid intervals cost units
    assert page.input_value("#e-units") == str(fixed)  # the plan fills the design
    _shot(page, "5-power")
    page.fill("#e-key", "sales-bundle-hub")
    page.fill("#e-name", "Hub and sensor bundle")
    page.fill("#e-hypothesis", "A bundle lifts hub conversion.")
    page.select_option("#e-area", "packaging")
    page.focus("form[aria-label='Create the experiment'] button")
    page.keyboard.press("Enter")
    page.wait_for_url("**/experiments/sales-bundle-hub")
    assert "Not analysed yet" in page.locator("#no-analysis").inner_text()
    assert "sales" in page.locator("p.sub").first.inner_text()

    # the other pages: catalog, teams, learnings, data health
    page.click("nav >> text=Metrics")
    page.wait_for_selector("#metric-return_rate")
    _axe(page, "metric catalog")
    for name, selector in (("Teams", "table"), ("Learnings", "#lq"), ("Data health", "#tables")):
        page.click(f"nav >> text={name}")
        page.wait_for_selector(selector)
        _axe(page, name)
    _shot(page, "6-data-health")
    page.click("button:has-text('Sign out')")
    page.wait_for_url("**/login")
    page.goto(f"{server}/experiments")
    assert "/login" in page.url  # the session is gone
    _shot(page, "7-signed-out")
    assert not page.errors, page.errors  # type: ignore[attr-defined]


def test_the_market_test_page_draws_the_counterfactual_and_the_placebos(
    server: str, page: Page, web_workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tinylift.cli.main import main

    # the served process owns the warehouse holding the series: the command asks it
    assert main(["markets", "analyze", "pkg-eco-box", "--draws", "99", "--json",
                 "--dir", str(web_workspace)]) == 0  # fmt: skip
    assert '"sell_through"' in capsys.readouterr().out
    _sign_in_and_open(page, server, "vic", "markets")
    page.click("tr[data-test='pkg-eco-box'] a")
    page.wait_for_url(f"{server}/markets/pkg-eco-box")
    for fig in ("paths", "gap", "placebo", "weights"):
        page.wait_for_selector(f"[data-plot='fig-{fig}'] .main-svg")
    assert "Recommendation" in page.locator("#recommendation").inner_text()
    for metric in ("sell_through", "returns"):
        assert page.locator(f"tr[data-metric='{metric}']").count() == 1
    _shot(page, "market-test")
    _axe(page, "market test page")
    page.goto(f"{server}/markets/retail-accessory-display")
    page.wait_for_selector("[data-plot='fig-event'] .main-svg")
    assert "Two-way fixed effects" in page.locator("#naive").inner_text()
    _shot(page, "market-rollout")
    assert not page.errors, page.errors  # type: ignore[attr-defined]
    page.click("form.who button")  # sign out for the next test


def test_the_launch_page_draws_the_plan_and_answers_what_if(server: str, page: Page) -> None:
    _sign_in_and_open(page, server, "pat", "launches")
    page.click("tr[data-plan='hub2-launch'] a")
    page.wait_for_url(f"{server}/launches/hub2-launch")
    for fig in ("gantt", "finish", "criticality", "waits", "history"):
        page.wait_for_selector(f"[data-plot='fig-{fig}'] .main-svg")
    assert page.locator("table.tasks tr.critical").count() >= 3
    assert "P80" in page.locator("#summary").inner_text()
    _shot(page, "launch")
    _axe(page, "launch page")
    # what if certification slips ten days?
    page.select_option("#c-task", "certification")
    page.fill("#c-slip", "10")
    page.click("form[aria-label='What if a task slips'] button")
    page.wait_for_selector("#cascade-result")
    assert "certification" in page.locator("#cascade-result").inner_text()
    assert page.locator("tr[data-moved='launch']").count() == 1
    # record a slip: the history grows by one forecast
    rows = page.locator("table.history tbody tr").count()
    page.select_option("#s-task", "tooling")
    page.fill("#s-days", "4")
    page.fill("#s-why", "a supplier's holiday")
    page.click("form[aria-label='Record a slip'] button")
    page.wait_for_url(f"{server}/launches/hub2-launch#history")
    assert page.locator("table.history tbody tr").count() == rows + 1
    assert "a supplier's holiday" in page.locator("table.history").inner_text()
    assert not page.errors, page.errors  # type: ignore[attr-defined]
    page.click("form.who button")  # sign out for the next test
