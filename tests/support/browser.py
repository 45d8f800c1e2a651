"""A real browser for the dashboard's tests: Debian's Chromium (`make browser` installs it),
headless, driven by Playwright; no browser is downloaded."""
from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from playwright.sync_api import Browser, Page, sync_playwright

# As the machine's notes give them: no sandbox as root, and none of Chromium's own traffic.
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]


def chromium_path() -> str:
    path = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        raise RuntimeError("no chromium on PATH: `make browser` installs Debian's")
    return path


@contextmanager
def chromium() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=FLAGS)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Watched:
    """A page and what went wrong on it: console errors, uncaught exceptions, failed calls."""

    page: Page
    errors: list[str] = field(default_factory=list)
    failed_calls: list[str] = field(default_factory=list)

    @classmethod
    def open(cls, browser: Browser, width: int = 1280, height: int = 800) -> Watched:
        page = browser.new_page(viewport={"width": width, "height": height})
        watched = cls(page)
        page.on("console", lambda m: watched.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: watched.errors.append(f"uncaught: {e}"))
        page.on("requestfailed", lambda r: watched.failed_calls.append(f"{r.method} {r.url}: {r.failure}"))
        page.on("response", lambda r: watched.failed_calls.append(f"{r.request.method} {r.url}: {r.status}")
                if r.status >= 400 else None)
        return watched

    def sideways_overflow(self) -> int:
        """How many pixels the page is wider than the window (0: no sideways scrolling)."""
        return self.page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
