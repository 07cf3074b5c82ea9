"""The classroom end to end in a real browser (issue 15 item 12): `posterm classroom` serves
the lessons (textual-serve); headless Chromium driven by Selenium (Debian's chromium and
chromium-driver) joins two trainees with the class code, each gets a terminal of its own and
takes lesson 01 in assessment, one with a mistake; the trainer's page shows each trainee's
lesson, step and mistakes as they go and the class's results; a wrong class code gets no
terminal; the server listens on loopback only.

POSTERM_SHOTS=DIR keeps the trainer's page screenshot there (docs/ for the README)."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

import chromium_pages
from posterm.classroom import roster
from posterm.lessons import results

CODE = "424242"
KEY = "trainer-key-1"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url, proc, wait=30.0):
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"posterm classroom exited: {proc.stdout.read()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                return r.read().decode()
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"{url} did not answer")


def until(cond, seconds=30.0, what=""):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        got = cond()
        if got:
            return got
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def classroom(tmp_path):
    chromium_pages.binary()
    chromium_pages.driver_binary()
    data = tmp_path / "class"
    r = roster.load(str(data))
    r.set_cohort("一班", "2026-12-01", "王老师")
    r.add("张三", cohort="一班")
    r.add("李四", cohort="一班")
    r.save()
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "posterm.cli",
            "classroom",
            "--data",
            str(data),
            "--port",
            str(port),
            "--code",
            CODE,
            "--trainer-key",
            KEY,
            "--lessons",
            "01,04",
            "--assess",
            "--cohort",
            "一班",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_http(base + "/join", proc)
        yield base, data, port, proc
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()


def shrink(path):
    # 16 colours: the screenshot stays readable and small enough to commit
    from PIL import Image

    with Image.open(path) as im:
        small = im.convert("RGB").quantize(colors=16)
    small.save(path, optimize=True)


def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium_pages.binary()
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1100,760",
        "--hide-scrollbars",
    ):
        opts.add_argument(arg)
    return webdriver.Chrome(service=Service(chromium_pages.driver_binary()), options=opts)


def _gone(element):
    # True once the page holding element has been replaced. Chromium reports an element of
    # a page being replaced either as stale or, mid-navigation, as "Node with given id does
    # not belong to the document" (a plain WebDriverException): both mean it is gone.
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException

    try:
        element.is_enabled()
    except StaleElementReferenceException:
        return True
    except WebDriverException as e:
        if "does not belong to the document" in str(e):
            return True
        raise
    return False


def join(driver, base, code, name, lesson="01_daily_signin"):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    driver.get(base + "/join")
    driver.find_element(By.ID, "code").send_keys(code)
    driver.find_element(By.ID, "name").send_keys(name)
    Select(driver.find_element(By.ID, "lesson")).select_by_value(lesson)
    form = driver.find_element(By.ID, "join")
    driver.find_element(By.ID, "go").click()
    # the answer is a new page: the join page again (with the error) or the terminal's
    WebDriverWait(driver, 30).until(lambda d: _gone(form))
    WebDriverWait(driver, 30).until(
        lambda d: d.execute_script("return document.readyState") == "complete"
    )


def live(base):
    url = base + "/trainer/state?key=" + urllib.parse.quote(KEY)
    with urllib.request.urlopen(url, timeout=5) as r:
        state = json.loads(r.read().decode())
    return {t["trainee"]: t for t in state["live"]}, state


def press(driver, *keys):
    from selenium.webdriver.common.action_chains import ActionChains

    for k in keys:
        ActionChains(driver).send_keys(k).perform()
        time.sleep(0.25)


def test_two_trainees_take_a_lesson_in_their_browsers_and_the_trainer_sees_it(classroom, tmp_path):
    from selenium.common.exceptions import (
        NoSuchElementException,
        StaleElementReferenceException,
    )
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    base, data, _port, _proc = classroom
    a, b, trainer = browser(), browser(), browser()
    try:
        # a wrong class code gets no terminal
        join(a, base, "000000", "张三")
        assert "班级代码不对" in a.find_element(By.ID, "error").text
        assert "/t/" not in a.current_url
        # the right code and a name in any spelling: a terminal of one's own
        join(a, base, CODE, "zhang san")
        join(b, base, CODE, "李 四")
        for d in (a, b):
            assert "/t/" in d.current_url
            until(
                lambda d=d: (
                    "-first-byte" in d.find_element(By.TAG_NAME, "body").get_attribute("class")
                ),
                60,
                "the terminal in the browser",
            )
        until(lambda: {"张三", "李四"} <= set(live(base)[0]), 60, "both trainees live")
        trainer.get(base + "/trainer?key=" + KEY)
        until(
            lambda: len(trainer.find_elements(By.CSS_SELECTOR, "#live-table tr")) == 3,
            20,
            "the trainer's live table",
        )

        for d in (a, b):
            d.find_element(By.ID, "terminal").click()
            time.sleep(1.0)
        # 张三 makes a mistake on step 1, then goes on; 李四 goes straight through
        press(a, "5")
        until(lambda: live(base)[0]["张三"]["mistakes"] == 1, 20, "张三's mistake")
        press(a, "m", "1")
        press(b, "m", "1", "1")
        until(lambda: live(base)[0]["张三"]["step"] == 3, 20, "张三 on step 3")
        until(lambda: live(base)[0]["李四"]["step"] == 4, 20, "李四 on step 4")

        def text_of(selector):
            # the page redraws its tables every second: a row read mid-redraw is read again
            try:
                return trainer.find_element(By.CSS_SELECTOR, selector).text
            except (StaleElementReferenceException, NoSuchElementException):
                return ""

        def row(name):
            return until(lambda: text_of(f"#live-table tr[data-trainee='{name}']"), 10, name)

        until(lambda: "3/5" in row("张三") and "4/5" in row("李四"), 10, "the live page")
        assert " 1 " in f" {row('张三')} " and "每日签到" in row("张三")
        press(a, "1", Keys.ENTER)
        press(b, Keys.ENTER)
        until(lambda: live(base)[0]["李四"]["step"] == 5, 30, "李四 signed in")
        until(lambda: live(base)[0]["张三"]["step"] == 5, 30, "张三 signed in")
        press(a, Keys.ENTER)
        press(b, Keys.ENTER)
        until(
            lambda: all(t["state"] == "completed" for t in live(base)[0].values()), 30, "both done"
        )

        def result(name):
            return text_of(f"#results-table tr[data-trainee='{name}']")

        # lesson 01 passes at 90 % right first time: 李四 passed, 张三 (4 of 5) did not
        until(
            lambda: (
                "未通过 80%" in result("张三")
                and "通过 100%" in result("李四")
                and "未通过" not in result("李四")
            ),
            15,
            "the class's results",
        )
        until(
            lambda: "完成" in row("李四") and "完成 (未通过)" in row("张三"),
            10,
            "the live rows done",
        )
        shots = os.environ.get("POSTERM_SHOTS") or str(tmp_path)
        shot = os.path.join(shots, "classroom-trainer.png")
        trainer.save_screenshot(shot)
        a.save_screenshot(str(tmp_path / "trainee.png"))
        a.save_screenshot(os.path.join(shots, "classroom-trainee.png"))
        shrink(shot)
    finally:
        for d in (a, b, trainer):
            d.quit()
    # what happened is on file, under the roster names
    z = results.load(str(data), "张三")["attempts"]
    li = results.load(str(data), "李四")["attempts"]
    assert [(x["status"], x["mistakes"], x["first_time"]) for x in z] == [("completed", 1, 4)]
    assert [(x["status"], x["mistakes"], x["first_time"]) for x in li] == [("completed", 0, 5)]
    assert z[0]["front"] == "emulator"
    # each trainee had a terminal store and center of their own
    own = data / "classroom" / "trainees"
    assert sorted(os.listdir(own)) == ["张三", "李四"]
    assert chromium_pages.count_color(str(tmp_path / "trainee.png"), (0, 0, 0), 60) > 0


def test_a_trainee_who_closes_the_tab_is_recorded_as_abandoned(classroom):
    from selenium.webdriver.common.by import By

    base, data, _port, _proc = classroom
    d = browser()
    try:
        join(d, base, CODE, "张三", "04_purchase")
        until(
            lambda: "-first-byte" in d.find_element(By.TAG_NAME, "body").get_attribute("class"),
            60,
            "the terminal",
        )
        until(lambda: "张三" in live(base)[0], 30, "张三 live")
        # on file as started before the trainee's first key
        until(lambda: results.load(str(data), "张三")["attempts"], 30, "the attempt on file")
        assert results.load(str(data), "张三")["attempts"][-1]["status"] == "started"
    finally:
        d.quit()
    until(
        lambda: results.load(str(data), "张三")["attempts"][-1]["status"] == "abandoned",
        30,
        "the attempt filed as abandoned",
    )
    assert results.load(str(data), "张三")["attempts"][-1]["reason"] == "window closed"
    assert live(base)[0]["张三"]["state"] == "abandoned"


def test_the_classroom_listens_on_loopback_only_and_the_trainer_page_needs_its_key(classroom):
    base, _data, port, _proc = classroom
    addresses = [
        a
        for a in {i[4][0] for i in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)}
        if not a.startswith("127.")
    ]
    for addr in addresses:
        with socket.socket() as s:
            s.settimeout(2)
            assert s.connect_ex((addr, port)) != 0, f"reachable on {addr}"
    # what the kernel says is listening on the port: 127.0.0.1 only
    listening = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if os.path.exists(table):
            with open(table) as f:
                for line in f.readlines()[1:]:
                    local, state = line.split()[1], line.split()[3]
                    addr, hexport = local.rsplit(":", 1)
                    if state == "0A" and int(hexport, 16) == port:
                        listening.append(addr)
    if os.path.exists("/proc/net/tcp"):
        assert listening == ["0100007F"], listening
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(base + "/trainer?key=wrong", timeout=5)
    assert e.value.code == 403
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(base + "/trainer/state", timeout=5)
    assert e.value.code == 403
    # no terminal without joining: a made-up token is sent back to the join page
    with urllib.request.urlopen(base + "/t/made-up", timeout=5) as r:
        assert r.url.endswith("/join")
