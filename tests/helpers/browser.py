"""A headless Chromium driven by selenium, for the FAQ site's browser test.

Debian's `chromium` and `chromium-driver` (the driver is named explicitly, so selenium
never tries to download one). Skips locally when they are missing, saying why, and
fails under CI=true (tests/conftest.need), as the other integration helpers do.
"""

from __future__ import annotations

import contextlib
import os
import shutil


def chromium_binary() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def available() -> str | None:
    """None when a headless Chromium can be driven here, else why not."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[test]')"
    if not chromium_binary():
        return "chromium is not installed (apt-get install chromium chromium-driver)"
    if not shutil.which("chromedriver"):
        return "chromedriver is not installed (apt-get install chromium-driver)"
    return None


@contextlib.contextmanager
def chromium(width: int = 360, height: int = 800):
    """A started headless Chromium with a `width` px wide viewport (its console log kept),
    quit afterwards."""
    from tests.conftest import need

    why = available()
    need(why is None, why or "")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium_binary()
    for argument in ("--headless=new", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                     f"--window-size={width},{height}", "--force-device-scale-factor=1"):
        options.add_argument(argument)
    if os.geteuid() == 0:
        options.add_argument("--no-sandbox")  # Chromium's sandbox refuses to start as root
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # a phone's viewport (headless windows are at least 500 px wide): touch, width, pixel ratio 1
    options.add_experimental_option("mobileEmulation", {"deviceMetrics": {"width": width, "height": height,
                                                                          "pixelRatio": 1}})
    try:
        driver = webdriver.Chrome(service=Service(executable_path=shutil.which("chromedriver")), options=options)
    except Exception as exc:  # noqa: BLE001 - any failure to start is the reason to skip (or fail under CI)
        need(False, f"chromium would not start: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
    try:
        yield driver
    finally:
        driver.quit()
