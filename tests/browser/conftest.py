"""A real headless Chromium against a live test server on PostgreSQL.

Debian's chromium and chromium-driver are used as installed (CI's .ci/run
installs them); Selenium is told exactly where they are, so it never tries
to download a browser or a driver. Without them the tests are skipped on a
developer's machine, and fail on CI (CI=true), where a skip would hide a gap.
Screenshots go to artifacts/ (or $TEST_ARTIFACTS_DIR), kept by the CI run.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission, User

CHROMIUM = os.environ.get("CHROMIUM_BINARY", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
ARTIFACTS = Path(os.environ.get("TEST_ARTIFACTS_DIR", Path(__file__).resolve().parents[2] / "artifacts"))
WAIT_SECONDS = 20


def _browser_missing() -> str | None:
    for path in (CHROMIUM, CHROMEDRIVER):
        if not (Path(path).exists() or shutil.which(path)):
            return f"{path} is not installed (apt-get install chromium chromium-driver)"
    return None


@pytest.fixture(scope="session")
def browser():
    missing = _browser_missing()
    if missing and os.environ.get("CI"):
        pytest.fail(f"browser tests cannot run on CI: {missing}")
    if missing:
        pytest.skip(missing)
    os.environ.setdefault("SE_OFFLINE", "true")  # Selenium Manager must not reach the network
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--window-size=1400,1800", "--disable-extensions", "--no-first-run"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.implicitly_wait(0)
    yield driver
    driver.quit()


@pytest.fixture
def page(browser, live_server):
    """The browser, cleared of the previous test's session, with helpers bound to the live server."""
    browser.delete_all_cookies()
    return AdminPage(browser, live_server.url)


def staff_user(username: str, *, superuser: bool = False, permissions: tuple[str, ...] = ()) -> User:
    user = User.objects.create_user(username, password=f"{username}-password-1", is_staff=True,
                                    is_superuser=superuser)
    for codename in permissions:
        app_label, name = codename.split(".")
        user.user_permissions.add(Permission.objects.get(content_type__app_label=app_label, codename=name))
    return user


class AdminPage:
    """Thin helpers over Selenium for the admin: go, log in, fill, click, wait, read."""

    def __init__(self, driver, base_url: str):
        self.driver, self.base_url = driver, base_url

    def go(self, path: str) -> None:
        self.driver.get(self.base_url + path)

    def log_in(self, username: str) -> None:
        self.driver.delete_all_cookies()
        self.go("/admin/login/")
        self.fill("#id_username", username)
        self.fill("#id_password", f"{username}-password-1")
        self.click("input[type=submit]")
        self.wait_for("#user-tools")

    def find(self, selector: str):
        from selenium.webdriver.common.by import By

        return self.driver.find_element(By.CSS_SELECTOR, selector)

    def find_all(self, selector: str):
        from selenium.webdriver.common.by import By

        return self.driver.find_elements(By.CSS_SELECTOR, selector)

    def fill(self, selector: str, text: str) -> None:
        field = self.find(selector)
        field.clear()
        field.send_keys(text)

    def upload(self, selector: str, path: Path) -> None:
        self.find(selector).send_keys(str(path))

    def click(self, selector: str) -> None:
        self.find(selector).click()

    def wait_for(self, selector: str, timeout: float = WAIT_SECONDS):
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support import expected_conditions
        from selenium.webdriver.support.ui import WebDriverWait

        return WebDriverWait(self.driver, timeout).until(
            expected_conditions.presence_of_element_located((By.CSS_SELECTOR, selector)))

    def text(self, selector: str = "body") -> str:
        return self.find(selector).text

    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / name
        self.driver.save_screenshot(str(path))
        return path
