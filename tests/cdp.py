"""A headless Chromium driven over the DevTools protocol (no PyPI browser driver): open a
page, type, press keys, take a PNG screenshot.  Used by the back-office browser test."""

import asyncio
import base64
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request

import aiohttp

KEYS = {
    "tab": ("Tab", "Tab", 9, "\t"),
    "enter": ("Enter", "Enter", 13, "\r"),
    "escape": ("Escape", "Escape", 27, ""),
    "down": ("ArrowDown", "ArrowDown", 40, ""),
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def chromium_path():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


class Browser:
    def __init__(self, width=1400, height=900):
        self.port = free_port()
        self.profile = tempfile.mkdtemp(prefix="posterm-chromium-")
        self.proc = subprocess.Popen(
            [chromium_path(), "--headless", "--no-sandbox", "--disable-gpu",
             "--hide-scrollbars", f"--window-size={width},{height}",
             f"--remote-debugging-port={self.port}", "--remote-debugging-address=127.0.0.1",
             f"--user-data-dir={self.profile}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        self.ws_url = self._page_ws()
        self.session = None
        self.ws = None
        self.seq = 0

    def _page_ws(self, wait=20.0):
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/json") as r:
                    pages = [p for p in json.load(r) if p.get("type") == "page"]
                if pages:
                    return pages[0]["webSocketDebuggerUrl"]
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError("chromium's DevTools endpoint did not come up")

    async def __aenter__(self):
        self.session = aiohttp.ClientSession()
        self.ws = await self.session.ws_connect(self.ws_url, max_msg_size=0)
        return self

    async def __aexit__(self, *exc):
        await self.ws.close()
        await self.session.close()
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self.profile, ignore_errors=True)

    async def call(self, method, **params):
        self.seq += 1
        me = self.seq
        await self.ws.send_str(json.dumps({"id": me, "method": method, "params": params}))
        while True:
            msg = json.loads((await self.ws.receive()).data)
            if msg.get("id") == me:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})

    async def goto(self, url):
        await self.call("Page.enable")
        await self.call("Page.navigate", url=url)

    async def eval(self, expr):
        r = await self.call("Runtime.evaluate", expression=expr, returnByValue=True)
        return r.get("result", {}).get("value")

    async def type(self, text):
        await self.call("Input.insertText", text=text)
        await asyncio.sleep(0.05)

    async def key(self, name):
        key, code, vk, text = KEYS[name]
        down = {"type": "keyDown", "key": key, "code": code, "windowsVirtualKeyCode": vk}
        if text:
            down["text"] = text
        await self.call("Input.dispatchKeyEvent", **down)
        await self.call("Input.dispatchKeyEvent", type="keyUp", key=key, code=code,
                        windowsVirtualKeyCode=vk)
        await asyncio.sleep(0.05)

    async def click(self, x, y):
        for kind in ("mousePressed", "mouseReleased"):
            await self.call("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left",
                            clickCount=1)
        await asyncio.sleep(0.05)

    async def ctrl(self, letter):
        code = "Key" + letter.upper()
        vk = ord(letter.upper())
        for kind in ("keyDown", "keyUp"):
            await self.call("Input.dispatchKeyEvent", type=kind, key=letter, code=code,
                            windowsVirtualKeyCode=vk, modifiers=2)
        await asyncio.sleep(0.05)

    async def shot(self):
        r = await self.call("Page.captureScreenshot", format="png")
        return base64.b64decode(r["data"])

    async def settle(self, before=None, timeout=30.0, every=0.25, window=4):
        """Wait until the page has drawn something other than `before` (a shot taken before
        the action) and then holds still: the last `window` shots show at most two distinct
        pictures (a blinking cursor alternates two). For pages that draw to a canvas, where
        there is no DOM text to wait for. Returns the last shot; on timeout, returns it too
        (the test's own assertions then say what is wrong)."""
        deadline = time.monotonic() + timeout
        recent = []
        data = None
        while time.monotonic() < deadline:
            try:
                data = await self.shot()
            except RuntimeError:  # the page is not attached yet (just navigated)
                await asyncio.sleep(every)
                continue
            if before is not None and data == before:
                recent = []
            else:
                recent.append(data)
                recent = recent[-window:]
                if len(recent) == window and len(set(recent)) <= 2:
                    if os.environ.get("CDP_DEBUG"):
                        print("settled", round(timeout - (deadline - time.monotonic()), 2))
                    return data
            await asyncio.sleep(every)
        return data

    async def screenshot(self, path):
        r = await self.call("Page.captureScreenshot", format="png")
        data = base64.b64decode(r["data"])
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        return data
