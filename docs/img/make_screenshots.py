"""Makes the web view's screenshots in docs/img/ (docs/web.md) from the demo ledgers, with Debian's Chromium.

Run from the repository: ``.venv/bin/python docs/img/make_screenshots.py``. It records the demos in a
temporary folder, adds one trajectory whose care need changes (so that the chart has steps to show),
serves each ledger with ``ggzledger serve`` on a free port, logs in through the form and saves
web-*.png beside this file.
"""

from __future__ import annotations

import json
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

HERE = Path(__file__).parent
HONOS = {str(item): 1 for item in range(1, 13)}
# A trajectory after the demo's closed months: assessed, clustered, reviewed twice, referred back.
STEPS = [
    {"type": "trajectory_opened", "trajectory": "T-STAP", "patient": "P-STAP", "provider": "12345678",
     "insurer": "8401", "date": "2017-03-01"},
    {"type": "assessed", "trajectory": "T-STAP", "date": "2017-03-01", "honos": {**HONOS, "7": 3, "8": 3}},
    {"type": "clustered", "trajectory": "T-STAP", "date": "2017-03-01", "cluster": 3},
    {"type": "reviewed", "trajectory": "T-STAP", "date": "2017-05-15", "cluster": 4,
     "honos": {**HONOS, "7": 4, "8": 4, "9": 3}},
    {"type": "reviewed", "trajectory": "T-STAP", "date": "2017-08-01", "cluster": 2,
     "honos": {**HONOS, "7": 1, "8": 1}},
    {"type": "assessed", "trajectory": "T-STAP", "date": "2017-09-20", "honos": {**HONOS, "7": 0, "8": 0}},
    {"type": "referred_back", "trajectory": "T-STAP", "date": "2017-09-29", "to": "huisarts"},
]  # fmt: skip


def cli(db: str, *args: str, given: str | None = None) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "ggzledger", "--db", db, *args], input=given, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"ggzledger {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def serve(db: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "ggzledger", "--db", db, "serve", "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    for _ in range(300):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return server, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.1)
    raise SystemExit("the server did not come up")


def log_in(page: Page, url: str, token: str) -> None:
    page.goto(f"{url}/ui/login")
    page.get_by_label("Token").fill(token)
    with page.expect_navigation():
        page.get_by_role("button", name="Aanmelden").click()


def shoot(page: Page, url: str, name: str, full: bool = True) -> None:
    page.goto(url)
    page.screenshot(path=str(HERE / f"web-{name}.png"), full_page=full)
    print(f"docs/img/web-{name}.png")


def main() -> None:
    chromium = shutil.which("chromium")
    if chromium is None:
        raise SystemExit("needs Debian's chromium (apt-get install chromium)")
    folder = Path(tempfile.mkdtemp(prefix="ggzledger-screenshots-"))
    henk, zpm = str(folder / "henk.db"), str(folder / "zpm.db")
    cli(henk, "demo")
    cli(henk, "ingest", "-", given="\n".join(json.dumps(record) for record in STEPS))
    cli(zpm, "demo", "zpm")
    servers = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
            for db, pages in (
                (henk, [("/ui/", "index", False), ("/ui/trajectories/T-HENK/nota/2017-02", "nota", True),
                        ("/ui/months/2017-02", "month", True),
                        ("/ui/trajectories/T-STAP/timeline", "timeline", True)]),
                (zpm, [("/ui/trajectories/T-ZPM1/nota/2024-11", "nota-zpm", True),
                       ("/ui/reviews?as_of=2025-05-01", "reviews", True)]),
            ):  # fmt: skip
                token = cli(db, "token", "add", "screenshots", "--role", "auditor").strip()
                server, url = serve(db)
                servers.append(server)
                context = browser.new_context(viewport={"width": 1000, "height": 700})
                page = context.new_page()
                if db == henk:
                    shoot(page, f"{url}/ui/months/2017-02", "login-needed", full=False)
                log_in(page, url, token)
                for path, name, full in pages:
                    shoot(page, url + path, name, full)
                context.close()
            browser.close()
    finally:
        for server in servers:
            server.send_signal(signal.SIGINT)
            server.wait(timeout=30)
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
