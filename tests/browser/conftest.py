"""Browser tests: Playwright for Python driving Debian's Chromium against the app served on localhost.

The session serves a fresh copy of the demo: a new SQLite database in a temporary folder, migrated and
seeded with the real Shanghai network (`o2o seed-demo`), then `o2o runserver` on a free port with
DEBUG off. The test process opens the same database through Django (``-p no:django``: no test
database of pytest-django), so a test can check what the clicks did (stock moved, orders placed)
and add what the demo lacks (a clerk for the store a scenario needs).

Screenshots of the key screens go to ``test-artifacts/browser/<test>/`` (ignored by git); a failing
test also leaves ``FAILED.png`` and the server log's tail in its report.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "browser"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]
PHONE = {"width": 375, "height": 812}
TABLET = {"width": 1280, "height": 800}


@dataclass
class Site:
    url: str
    var: Path
    log: Path

    def log_tail(self, n: int = 60) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_until_up(url: str, proc: subprocess.Popen, site_log: Path, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited ({proc.returncode}):\n{site_log.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:  # noqa: S310 - our own localhost server
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"the server did not answer {url} in {timeout_s} s")


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    var = tmp_path_factory.mktemp("o2o-site")
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(O2O_VAR_DIR=str(var), O2O_DEBUG="0", PYTHONUNBUFFERED="1")
    o2o = str(Path(sys.executable).with_name("o2o"))
    for cmd in (["migrate", "--noinput"], ["seed-demo"]):
        done = subprocess.run([o2o, *cmd], env=env, capture_output=True, text=True, cwd=ROOT)
        if done.returncode:
            raise RuntimeError(f"o2o {' '.join(cmd)} failed:\n{done.stdout}\n{done.stderr}")
    port = _free_port()
    log = var / "server.log"
    with log.open("w") as out:
        proc = subprocess.Popen([o2o, "runserver", f"127.0.0.1:{port}", "--noreload"], env=env, cwd=ROOT,
                                stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url + "/", proc, log)
        # This process reads and writes the same database through Django.
        os.environ["O2O_VAR_DIR"] = str(var)
        os.environ.pop("DATABASE_URL", None)
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "o2o.config.settings")
        # Playwright's sync API runs an event loop in this thread; the ORM calls here are plain sync ones.
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
        import django

        django.setup()
        yield Site(url=url, var=var, log=log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="session")
def browser() -> Iterator:
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    if executable is None:
        raise pytest.UsageError("Chromium is not installed: run `make setup-browser` (apt: chromium fonts-noto-cjk)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


class Shots:
    """Numbered screenshots of one test under test-artifacts/browser/<test>/."""

    def __init__(self, name: str) -> None:
        self.dir = ARTIFACTS / name
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.n = 0

    def __call__(self, page, label: str) -> Path:  # noqa: ANN001 - playwright Page
        self.n += 1
        path = self.dir / f"{self.n:02d}-{label}.png"
        page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def shots(request: pytest.FixtureRequest) -> Shots:
    return Shots(request.node.name)


class Pages:
    """New browser contexts (each its own cookies: a customer, a clerk) that record where they load from."""

    def __init__(self, browser, site: Site) -> None:  # noqa: ANN001 - playwright Browser
        self.browser, self.site = browser, site
        self.contexts: list = []
        self.requests: list[str] = []
        self.errors: list[str] = []

    def new(self, *, viewport: dict | None = None, geolocation: dict | None = None, locale: str = "zh-CN"):
        options: dict = {"viewport": viewport or PHONE, "locale": locale, "base_url": self.site.url}
        if geolocation:
            options.update(geolocation=geolocation, permissions=["geolocation"])
        ctx = self.browser.new_context(**options)
        ctx.set_default_timeout(15_000)
        ctx.on("request", lambda r: self.requests.append(r.url))
        self.contexts.append(ctx)
        page = ctx.new_page()
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        return page

    def close(self) -> None:
        for ctx in self.contexts:
            ctx.close()


@pytest.fixture
def pages(browser, site: Site, request: pytest.FixtureRequest) -> Iterator[Pages]:  # noqa: ANN001
    made = Pages(browser, site)
    yield made
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        out = ARTIFACTS / request.node.name
        out.mkdir(parents=True, exist_ok=True)
        for i, ctx in enumerate(made.contexts):
            for j, page in enumerate(ctx.pages):
                try:
                    page.screenshot(path=str(out / f"FAILED-{i}-{j}.png"), full_page=True)
                except Exception:  # noqa: BLE001, S110 - best effort after a failure
                    pass
        print("server log (tail):\n" + site.log_tail())
    made.close()
    outside = [u for u in made.requests if not u.startswith((site.url, "data:", "blob:", "about:"))]
    assert not outside, f"pages loaded from outside the served site (no CDN allowed): {outside[:5]}"
    assert not made.errors, f"JavaScript errors on the pages: {made.errors[:5]}"


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):  # noqa: ANN201
    rep = yield
    setattr(item, f"rep_{rep.when}", rep)
    return rep
