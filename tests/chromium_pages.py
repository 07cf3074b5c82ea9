"""Headless Chromium from Debian (`apt-get install chromium chromium-driver`, done by .ci/run)
for the tests that look at the printable pages: screenshots and print-to-PDF.

Missing Chromium fails the test in CI (CI=true) with the install line; elsewhere it skips."""

import os
import shutil
import subprocess

import pytest

INSTALL = "apt-get install -y chromium chromium-driver (as root; .ci/run does it in CI)"


def binary():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    message = f"headless Chromium is needed for this test and is not installed: {INSTALL}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


def driver_binary():
    path = shutil.which("chromedriver")
    if path:
        return path
    message = f"chromedriver is needed for this test and is not installed: {INSTALL}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


def _run(args, out, timeout=120):
    cmd = [
        binary(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        "--no-first-run",
        "--disable-dev-shm-usage",
        *args,
    ]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    assert os.path.exists(out) and os.path.getsize(out) > 0, (
        f"chromium wrote nothing to {out}: {r.returncode} {r.stderr[-2000:]}"
    )
    return out


def screenshot(html_path, png_path, size=(1000, 1400)):
    return _run(
        [
            f"--window-size={size[0]},{size[1]}",
            f"--screenshot={png_path}",
            "file://" + os.path.abspath(html_path),
        ],
        png_path,
    )


def print_pdf(html_path, pdf_path):
    return _run(
        [
            "--no-pdf-header-footer",
            f"--print-to-pdf={pdf_path}",
            "file://" + os.path.abspath(html_path),
        ],
        pdf_path,
    )


def pdf_pages(pdf_path):
    from pypdf import PdfReader

    return len(PdfReader(pdf_path).pages)


def count_color(png_path, rgb, tolerance=40):
    """How many pixels are near the colour `rgb` (the chart's line, a pass / fail dot)."""
    from PIL import Image

    img = Image.open(png_path).convert("RGB")
    r0, g0, b0 = rgb
    n = 0
    for r, g, b in img.get_flattened_data():
        if abs(r - r0) + abs(g - g0) + abs(b - b0) <= tolerance:
            n += 1
    return n


def print_pdfs(pairs):
    """[(html_path, pdf_path)] printed by ONE headless Chromium over the DevTools protocol
    (Page.printToPDF, the page's own @page size and margins as --print-to-pdf uses them, no
    header or footer): one browser start instead of one a page. -> the pdf paths."""
    import asyncio
    import base64

    from cdp import Browser

    binary()

    async def run():
        async with Browser() as b:
            await b.call("Page.enable")
            for html_path, pdf_path in pairs:
                await b.call("Page.navigate", url="file://" + os.path.abspath(html_path))
                for _ in range(200):  # up to 20 s for the page and its fonts
                    ready = await b.eval(
                        "document.readyState === 'complete' && document.fonts.status === 'loaded'"
                    )
                    if ready:
                        break
                    await asyncio.sleep(0.1)
                r = await b.call(
                    "Page.printToPDF", displayHeaderFooter=False, preferCSSPageSize=True,
                    printBackground=False,
                )
                with open(pdf_path, "wb") as f:
                    f.write(base64.b64decode(r["data"]))

    asyncio.run(run())
    return [p for _h, p in pairs]
