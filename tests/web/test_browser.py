"""The what-if page in a real browser: headless Chromium driven by selenium.

A person's session, start to end: open the page (with its token), solve the instance as
given, cut every budget and solve again, add a policy floor (a housing block in every
county) and solve again, compare the three plans (less budget: an objective not higher;
the floor said in what was changed), download the cut scenario's instance workbook and
check its budgets, see a bad value and a floor above its program's cap refused beside
their fields, and find no error in the browser's console. Chromium and chromedriver are
Debian packages (``apt-get install chromium chromium-driver``; ``.ci/run`` installs
them): without them the test fails, it does not skip. Screenshots go to the folder named
by ``TALENTPLAN_SCREENSHOTS`` when it is set.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as ready
from selenium.webdriver.support.ui import Select, WebDriverWait

import talentplan as tp
from talentplan.web.app import create_app

pytestmark = pytest.mark.slow

TOKEN = "browser-test-token"


def executable(*names: str) -> str:
    """The first of ``names`` on PATH, or a failure that says how to install it."""
    for name in names:
        found = shutil.which(name)
        if found is not None:
            return found
    pytest.fail(
        f"{names[0]} is missing: install it with `apt-get install -y chromium "
        "chromium-driver` (.ci/run does) to run the browser test of the what-if page"
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """The page on qingyuan served by uvicorn in a thread; yields its address."""
    app = create_app("qingyuan", tmp_path / "whatif", token=TOKEN)
    port = free_port()
    running = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    end = time.monotonic() + 20
    while not running.started:
        assert time.monotonic() < end, "the server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    running.should_exit = True
    thread.join(20)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[WebDriver]:
    """Headless Chromium with its console logged and downloads into tmp_path/downloads."""
    options = webdriver.ChromeOptions()
    options.binary_location = executable("chromium", "chromium-browser")
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1400,1800",
        f"--user-data-dir={tmp_path / 'profile'}",
    ):
        options.add_argument(flag)
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    options.add_experimental_option(
        "prefs",
        {"download.default_directory": str(downloads), "download.prompt_for_download": False},
    )
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable("chromedriver")))
    driver.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
    )
    try:
        yield driver
    finally:
        driver.quit()


def shoot(driver: WebDriver, name: str) -> None:
    """Save a screenshot into $TALENTPLAN_SCREENSHOTS, when set."""
    folder = os.environ.get("TALENTPLAN_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(Path(folder) / f"{name}.png"))


def solve(driver: WebDriver, base: str, name: str, **fields: str) -> str:
    """Fill the form, press Solve, wait for the plan's page; return the scenario's key."""
    driver.get(base + "/")
    for field, value in {"name": name, "time_limit": "20", "mip_gap": "0.01", **fields}.items():
        box = driver.find_element(By.NAME, field)
        if box.tag_name == "select":
            Select(box).select_by_visible_text(value)
            continue
        box.clear()
        box.send_keys(value)
    driver.find_element(By.ID, "solve").click()
    WebDriverWait(driver, 60).until(ready.url_contains("/scenarios/"))
    WebDriverWait(driver, 10).until(ready.presence_of_element_located((By.ID, "status")))
    return driver.current_url.rsplit("/", 1)[1].split("?")[0]


def account_objectives(driver: WebDriver) -> dict[str, float]:
    """The objective of each plan in the comparison's account table (not the changes)."""
    table = driver.find_element(By.CSS_SELECTOR, "table.account")
    names = [th.text for th in table.find_elements(By.CSS_SELECTOR, "thead th")][1:]
    for row in table.find_elements(By.CSS_SELECTOR, "tbody tr"):
        if row.find_element(By.TAG_NAME, "th").text == "objective":
            cells = [td.text for td in row.find_elements(By.TAG_NAME, "td")]
            return {
                n: float(c.replace(",", ""))
                for n, c in zip(names, cells, strict=True)
                if " vs " not in n
            }
    raise AssertionError("no objective row in the account table")


def test_cut_a_budget_solve_compare_and_download(
    server: str, browser: WebDriver, tmp_path: Path
) -> None:
    started = time.monotonic()
    browser.get(server + "/")
    assert "403" in browser.page_source  # no token: refused
    browser.get(f"{server}/?token={TOKEN}")
    assert browser.find_element(By.ID, "solve").is_displayed()
    shoot(browser, "01-form")

    given = solve(browser, server, "as given")
    shoot(browser, "02-plan")
    assert browser.find_element(By.CSS_SELECTOR, "section.headline").is_displayed()
    cut = solve(browser, server, "budget cut", budget_scale="0.6")
    housing = {"newfloor:0:program": "talent_housing", "newfloor:0:by_year": "2027"}
    floor = solve(browser, server, "housing everywhere", **housing)

    browser.get(server + "/")
    for key in (given, cut, floor):
        browser.find_element(By.CSS_SELECTOR, f"tr[data-key='{key}'] input[name='key']").click()
    browser.find_element(By.ID, "compare").click()
    WebDriverWait(browser, 20).until(
        ready.presence_of_element_located((By.CSS_SELECTOR, "table.account"))
    )
    objectives = account_objectives(browser)
    shoot(browser, "03-compare")
    assert set(objectives) == {"as given", "budget cut", "housing everywhere"}
    assert objectives["budget cut"] <= objectives["as given"] * (1 + 1e-2)
    changed = browser.find_elements(By.CSS_SELECTOR, ".scenario-changes li")
    assert sorted(li.text for li in changed) == [
        "every budget × 0.6",
        "floor: talent_housing ≥ 1 in every county by 2027",
        "nothing: the instance as given",
    ]
    assert "The objective (" in browser.find_element(By.CSS_SELECTOR, "p.moves").text

    browser.get(f"{server}/scenarios/{cut}")
    browser.find_element(By.ID, "download-instance-xlsx").click()
    downloads = tmp_path / "downloads"
    end = time.monotonic() + 20
    while not list(downloads.glob("*instance.xlsx")):
        assert time.monotonic() < end, f"no download: {list(downloads.iterdir())}"
        time.sleep(0.2)
    time.sleep(0.5)
    book = next(downloads.glob("*instance.xlsx"))
    budgets = tp.load_instance(str(book)).tables["budgets"]["amount"].sum()
    original = tp.load_instance("qingyuan").tables["budgets"]["amount"].sum()
    assert budgets == pytest.approx(0.6 * original)

    browser.get(server + "/")
    bad = browser.find_element(By.NAME, "land:Fogang")
    bad.clear()
    bad.send_keys("-5")
    Select(browser.find_element(By.NAME, "newfloor:1:program")).select_by_visible_text(
        "talent_housing"
    )
    units = browser.find_element(By.NAME, "newfloor:1:min_units")
    units.clear()
    units.send_keys("11")
    browser.find_element(By.ID, "solve").click()
    message = browser.find_element(By.CSS_SELECTOR, "[data-field='land:Fogang']").text
    assert re.search(r"land_quota_mu.*expected a number >= 0", message), message
    shoot(browser, "04-refused")
    beside = browser.find_element(By.CSS_SELECTOR, "tr[data-floor='newfloor:1'] .field-error")
    assert "exceed the largest possible level 10" in beside.text, beside.text
    browser.execute_script("arguments[0].scrollIntoView()", browser.find_element(By.ID, "floors"))
    shoot(browser, "04b-floor-refused")
    assert browser.find_elements(By.CSS_SELECTOR, "table.scenarios tbody tr")  # kept

    errors = [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    # Refused on purpose: the first visit without the token (the page and the icon the
    # browser asks for by itself, 403) and the form with the bad value (400).
    refused = "Failed to load resource: the server responded with a status of"
    expected = (
        f"{server}/ - {refused} 403",
        f"{server}/favicon.ico - {refused} 403",
        f"{server}/solve - {refused} 400",
    )
    unexpected = [m for m in errors if not m.startswith(expected)]
    assert unexpected == [], unexpected
    assert time.monotonic() - started < 60


def test_progress_shows_and_cancel_keeps_the_best_plan(tmp_path: Path, browser: WebDriver) -> None:
    app = create_app("synthetic:15:1", tmp_path / "whatif")
    port = free_port()
    running = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    try:
        while not running.started:
            time.sleep(0.05)
        base = f"http://127.0.0.1:{port}"
        browser.get(base + "/")
        for field, value in {"name": "stopped", "mip_gap": "0", "time_limit": "60"}.items():
            box = browser.find_element(By.NAME, field)
            box.clear()
            box.send_keys(value)
        browser.find_element(By.ID, "solve").click()
        WebDriverWait(browser, 10).until(ready.url_contains("/jobs/"))
        WebDriverWait(browser, 40).until(
            ready.text_to_be_present_in_element((By.ID, "progress"), "search")
        )
        shoot(browser, "05-progress")
        browser.find_element(By.ID, "cancel").click()
        WebDriverWait(browser, 30).until(ready.url_contains("/scenarios/"))
        banner = browser.find_element(By.ID, "interrupted").text
        assert "best plan found by then" in banner
        assert browser.find_element(By.ID, "status").text == "interrupted"
        shoot(browser, "06-interrupted")
        errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
        assert errors == [], errors
    finally:
        running.should_exit = True
        thread.join(20)
