"""The demo FAQ in a real headless Chromium, opened from disk (file://) at 360 px:
entries, the language switch, search finding "refund" and "退货", no console errors.
Screenshots are kept in the test's own folder (pytest's tmp_path)."""

from __future__ import annotations

import json

import pytest

from tests.helpers.browser import chromium
from tui_desk import demo

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo")
    demo.build(folder / "desk.db")
    return demo.faq_dir(folder / "desk.db")


def _questions(driver) -> list[str]:
    from selenium.webdriver.common.by import By
    return [h.text for h in driver.find_elements(By.CSS_SELECTOR, "article.entry > h2")]


def _search(driver, words: str) -> list[tuple[str, str]]:
    """Type into the search box; the results as (text, href). The input event runs the
    search at once, so the list is complete when send_keys returns."""
    from selenium.webdriver.common.by import By
    box = driver.find_element(By.ID, "_q")
    box.clear()
    box.send_keys(words)
    return [(a.find_element(By.XPATH, "..").text, a.get_attribute("href"))
            for a in driver.find_elements(By.CSS_SELECTOR, "#_results a")]


def _severe(driver) -> list[str]:
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def test_the_demo_faq_in_a_browser(site, tmp_path):
    from selenium.webdriver.common.by import By

    index = json.loads((site / "search-index.json").read_text(encoding="utf-8"))
    in_order = {lang: [e["question"] for e in index["entries"] if e["lang"] == lang] for lang in index["languages"]}
    with chromium(width=360, height=900) as driver:
        driver.get((site / "index.html").as_uri())
        assert driver.execute_script("return document.documentElement.lang") == "en"
        assert driver.execute_script("return window.innerWidth") == 360
        # the entries, in the index's order (most used first), and nothing wider than the screen
        assert _questions(driver) == in_order["en"] and "When will I get my refund?" in in_order["en"]
        assert driver.execute_script("return document.documentElement.scrollWidth") <= 360
        assert driver.find_element(By.ID, "_search").is_displayed()  # the script ran and showed the search
        driver.save_screenshot(str(tmp_path / "faq-en-360px.png"))

        hits = _search(driver, "refund")
        assert hits and hits[0][0] == "When will I get my refund?"
        assert hits[0][1].endswith("#refund-issued")
        assert driver.find_element(By.ID, "_status").text.endswith("found")
        driver.save_screenshot(str(tmp_path / "faq-search-refund-360px.png"))

        hits = _search(driver, "退货")
        assert hits, "退货 found nothing"
        text, href = hits[0]
        assert text == "如何退货？退款多久到账？ (中文)" and href.endswith("/zh.html#returns-zh")
        driver.find_element(By.CSS_SELECTOR, "#_results a").click()
        assert driver.execute_script("return document.documentElement.lang") == "zh"
        assert _questions(driver) == in_order["zh"]
        assert driver.execute_script("return document.querySelector(':target').id") == "returns-zh"
        assert driver.find_element(By.CSS_SELECTOR, "h1").text == "常见问题"

        # the language switch: every page links to every language, its own marked as current
        current = driver.find_element(By.CSS_SELECTOR, "nav.languages a[aria-current='page']")
        assert current.text == "中文"
        driver.find_element(By.CSS_SELECTOR, "nav.languages a[hreflang='de']").click()
        assert driver.execute_script("return document.documentElement.lang") == "de"
        assert _questions(driver) == in_order["de"] == ["Wo ist meine Bestellung?"]
        assert _search(driver, "bestellung")[0][0] == "Wo ist meine Bestellung?"
        driver.find_element(By.CSS_SELECTOR, "nav.languages a[hreflang='en']").click()
        assert _questions(driver) == in_order["en"]
        assert _search(driver, "zzqx") == []
        assert driver.find_element(By.ID, "_status").text.startswith("Nothing found")
        driver.save_screenshot(str(tmp_path / "faq-after-360px.png"))
        assert _severe(driver) == []
    for name in ("faq-en-360px.png", "faq-search-refund-360px.png", "faq-after-360px.png"):
        assert (tmp_path / name).stat().st_size > 1000
    print(f"screenshots in {tmp_path}")
