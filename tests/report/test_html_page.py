"""``tsbench-report --format html`` rendered by headless Chromium (Debian's chromium and
chromium-driver; .ci/run installs them): the tables are there, every picture loaded, the
console stayed clean, a phone-width screen needs no sideways scrolling, and a protocol card
opens. Screenshots go to $TSBENCH_SCREENSHOTS (default: the test's temporary folder)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

from tests.report.conftest import Zoo, report

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[webdriver.Chrome]:
    for binary in (CHROMIUM, CHROMEDRIVER):
        assert Path(binary).is_file(), f"{binary} missing: apt-get install chromium chromium-driver"
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def _screenshot(driver: webdriver.Chrome, width: int, path: Path) -> None:
    """The whole page at ``width`` CSS pixels."""
    driver.set_window_size(width, 900)
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(width, int(height) + 100)
    driver.save_screenshot(str(path))


@pytest.mark.heavy
def test_the_html_report_renders_in_chromium(zoo: Zoo, browser: webdriver.Chrome,
                                             tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    report(zoo.sweep, zoo.features_s, "--baseline", "dlinear", "--format", "html", "-o", page)
    html = page.read_text()
    assert "<script" not in html and "http://" not in html and "https://" not in html
    browser.get(page.as_uri())
    tables = browser.find_elements(By.CSS_SELECTOR, "table.results")
    assert len(tables) == 2  # ili at pred_len 24 and 36
    text = tables[0].text
    assert "dlinear" in text and "naive (features=S)" in text and "baseline" in text
    assert "features S (table: M)" in text
    images = browser.find_elements(By.TAG_NAME, "img")
    assert len(images) == 4  # CD diagram, MSE by horizon, a forecast of each model
    for image in images:
        assert image.get_attribute("src").startswith("data:image/png;base64,")
        width = browser.execute_script(
            "return arguments[0].complete ? arguments[0].naturalWidth : 0", image)
        assert width > 0, image.get_attribute("alt")
    summary = browser.find_element(By.CSS_SELECTOR, "tr.cardrow details summary")
    card = browser.find_element(By.CSS_SELECTOR, "tr.cardrow details dl.card")
    assert not card.is_displayed()
    summary.click()
    assert card.is_displayed() and "data file" in card.text and "seeds" in card.text
    shots = Path(os.environ.get("TSBENCH_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    _screenshot(browser, 1280, shots / "report-desktop.png")
    _screenshot(browser, 390, shots / "report-phone.png")
    overflow = browser.execute_script(
        "return document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{overflow} px of sideways scrolling at phone width"
    widest = browser.execute_script(
        "return Math.max(...[...document.querySelectorAll('table.results, img')].map("
        "e => e.getBoundingClientRect().right)) - window.innerWidth")
    assert widest <= 0, f"a table or picture reaches {widest} px past a phone's screen"
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == []
