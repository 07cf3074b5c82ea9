"""The console served to a real browser (`posterm center serve`, textual-serve) and driven in
headless Chromium over the DevTools protocol: log in as a field agent, suspend a terminal
with a reason and a comment; the database says it happened, and the screenshots are kept
(POSTERM_SHOTS=DIR keeps them there, e.g. docs/ for the README)."""

import asyncio
import os
import subprocess
import sys
import time
import urllib.request


import chromium_pages
from cdp import Browser, free_port
from posterm.center import db as cdb
from posterm.center import traffic


def _wait_http(url, proc, wait=30.0):
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"posterm center serve exited: {proc.stdout.read()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                return r.read()
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"{url} did not answer")


def _audit(db):
    c = cdb.Center(db)
    try:
        return c.audit()
    finally:
        c.close()


def _shrink(path):
    # 16 colours: a terminal screenshot stays readable and small
    from PIL import Image

    with Image.open(path) as im:
        small = im.convert("RGB").quantize(colors=16)
    small.save(path, optimize=True)


def test_the_console_in_a_browser_logs_in_and_suspends_a_terminal(tmp_path):
    chromium_pages.binary()
    db = tmp_path / "host.db"
    c = cdb.Center(db)
    traffic.generate(c, 64, "2026-11", seed=7)
    c.close()
    shots = os.environ.get("POSTERM_SHOTS") or str(tmp_path)
    port = free_port()
    srv = subprocess.Popen(
        [sys.executable, "-m", "posterm.cli", "center", "--db", str(db), "serve", "--port",
         str(port), "--today", "2026-11-29"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        page = _wait_http(f"http://127.0.0.1:{port}/", srv)
        assert b"textual-terminal" in page

        async def drive():
            # each step waits as long as the console takes on a quiet machine, then until
            # it has drawn its answer and holds still (the page is a canvas: screenshots are
            # compared): on a loaded machine keys typed before a screen is up went to the
            # screen before it
            async with Browser(1200, 640) as b:
                await b.goto(f"http://127.0.0.1:{port}/")
                await asyncio.sleep(5)
                await b.settle(timeout=60)
                await b.click(10, 300)
                for who, name in (("manager1", "manager"), ("risk1", "risk"),
                                  ("agent1", "agent")):
                    await b.type(who)
                    await b.key("tab")
                    await b.type(traffic.PASSWORD)
                    before = await b.shot()
                    await b.key("enter")
                    await asyncio.sleep(4)
                    await b.settle(before)
                    await b.screenshot(os.path.join(shots, f"center-{name}.png"))
                    if name != "agent":
                        before = await b.shot()
                        await b.ctrl("l")
                        await asyncio.sleep(2)
                        await b.settle(before)
                before = await b.shot()
                await b.key("down")  # the agent's second terminal
                await b.settle(before)
                before = await b.shot()
                await b.type("s")
                await asyncio.sleep(1.5)
                await b.settle(before)
                await b.type("browser test")
                before = await b.shot()
                await b.key("enter")
                await b.settle(before)
                deadline = time.monotonic() + 20
                while time.monotonic() < deadline and not _audit(db):
                    await asyncio.sleep(0.3)
                await b.screenshot(os.path.join(tmp_path, "after.png"))

        asyncio.run(drive())
    finally:
        srv.terminate()
        srv.wait(10)
    c = cdb.Center(db)
    try:
        log = c.audit()
        assert [(r["user"], r["action"], r["reason"], r["comment"]) for r in log] == [
            ("agent1", "suspend", "S01", "browser test")]
        tid = log[0]["tid"]
        assert tid == c.terminals(c.user_mids("agent1"))[1]["tid"]
        assert c.state_of(c.terminal(tid)) == "suspended"
    finally:
        c.close()
    for name in ("manager", "risk", "agent"):
        path = os.path.join(shots, f"center-{name}.png")
        _shrink(path)
        from PIL import Image

        with Image.open(path) as im:
            colours = im.convert("RGB").getcolors(256) or []
        assert len(colours) > 4, f"{path} looks blank"
