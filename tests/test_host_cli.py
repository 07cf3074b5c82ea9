"""`posterm host ...` management commands: run() with parsed arguments, bad input, and the
real command line in a subprocess."""

import argparse
import io
import json
import os
import signal
import socket
import subprocess
import sys

import pytest
from posterm.host import cli
from posterm.host.store import Store
from test_host_support import Terminal


def run(*argv):
    parser = argparse.ArgumentParser(prog="posterm host")
    cli.configure(parser)
    args = parser.parse_args(list(argv))
    out, err = io.StringIO(), io.StringIO()
    code = cli.run(args, out, err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def db(tmp_path):
    return str(tmp_path / "host.db")


def open_store(db):
    return Store(db)


def test_terminals_list_shows_the_provisioned_defaults(db):
    code, out, err = run("terminals", "list", "--db", db)
    assert code == 0 and err == ""
    assert "12345678" in out and "898310048990001" in out
    assert "87654321" in out and "balance,purchase" in out


def test_data_dir_holds_host_db(tmp_path):
    code, _, _ = run("cards", "--data", str(tmp_path / "d"))
    assert code == 0
    assert os.path.exists(tmp_path / "d" / "host.db")


def test_terminal_add_freeze_allow_unfreeze_remove(db):
    assert run("terminals", "add", "11112222", "898310048990009", "AB" * 16, "--db", db)[0] == 0
    assert run("terminals", "freeze", "11112222", "--code", "05", "--db", db)[0] == 0
    s = open_store(db)
    row = s.get_terminal("11112222")
    assert (row["status"], row["freeze_code"], row["tmk"]) == ("frozen", "05", "AB" * 16)
    s.close()
    assert run("terminals", "allow", "11112222", "purchase,void", "--db", db)[0] == 0
    assert run("terminals", "unfreeze", "11112222", "--db", db)[0] == 0
    s = open_store(db)
    row = s.get_terminal("11112222")
    assert (row["status"], row["allowed"]) == ("registered", "purchase,void")
    s.close()
    assert run("terminals", "remove", "11112222", "--db", db)[0] == 0
    listed = run("terminals", "list", "--db", db)[1].splitlines()
    assert not [line for line in listed if line.startswith("11112222")]


@pytest.mark.parametrize(
    "argv, words",
    [
        (["terminals", "add", "1234", "898310048990009", "AB" * 16], "TID"),
        (["terminals", "add", "11112222", "8983", "AB" * 16], "MID"),
        (["terminals", "add", "11112222", "898310048990009", "XY" * 16], "TMK"),
        (["terminals", "add", "11112222", "898310048990009", "AB" * 15], "TMK"),
        (["terminals", "freeze", "12345678", "--code", "123"], "code"),
        (["terminals", "allow", "12345678", "purchase,teleport"], "teleport"),
        (["cards", "add", "6212142000000000013", "123456", "100"], "Luhn"),
        (["cards", "add", "6212142000000000061", "12", "100"], "PIN"),
        (["cards", "add", "6212142000000000061", "123456", "lots"], "BALANCE"),
        (["cards", "add", "6212142000000000061", "123456", "1", "--expiry", "3013"], "month"),
        (["cards", "add", "6212142000000000061", "123456", "1", "--status", "gone"], "status"),
        (["faults", "set", "12345678", "explode"], "KIND"),
        (["faults", "set", "12345678", "respond"], "response code"),
        (["faults", "set", "12345678", "delay", "soon"], "seconds"),
        (["faults", "set", "12345678", "drop", "--count", "0"], "at least 1"),
        (["faults", "set", "12345678", "need", "7"], "processing requirement 1..6"),
        (["transactions", "--tid", "12"], "TID"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(db, argv, words):
    code, out, err = run(*argv, "--db", db)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and words in err and "Traceback" not in err
    assert not os.path.exists(db)


@pytest.mark.parametrize(
    "argv",
    [
        ["terminals", "freeze", "99999999"],
        ["terminals", "remove", "99999999"],
        ["terminals", "allow", "99999999", "all"],
        ["faults", "set", "99999999", "drop"],
    ],
)
def test_unknown_terminal_is_reported(db, argv):
    code, _, err = run(*argv, "--db", db)
    assert code == 2 and "unknown terminal 99999999" in err


def test_adding_an_existing_terminal_is_refused(db):
    code, _, err = run("terminals", "add", "12345678", "898310048990001", "11" * 16, "--db", db)
    assert code == 2 and "already exists" in err


def test_cards_add_and_list(db):
    assert run("cards", "add", "6212142000000000061", "888888", "12.5", "--db", db)[0] == 0
    out = run("cards", "list", "--db", db)[1]
    assert "6212142000000000061" in out and "12.50" in out
    s = open_store(db)
    assert s.get_card("6212142000000000061")["balance_fen"] == 1250
    s.close()


def test_menus_publish_and_list(db, tmp_path):
    good = tmp_path / "m.json"
    good.write_text(json.dumps({"root": {"items": []}}), encoding="utf-8")
    code, out, _ = run("--menu", "/nonexistent", "menus", "publish", str(good), "--db", db)
    assert code == 0 and "0001" in out
    assert run("menus", "publish", str(good), "--db", db)[1].startswith("menu version 0002")
    assert "0002" in run("menus", "list", "--db", db)[1]


@pytest.mark.parametrize(
    "content, words",
    [("{not json", "not valid JSON"), ('{"menu": 1}', '"root"'), (None, "cannot read")],
)
def test_menus_publish_rejects_bad_files(db, tmp_path, content, words):
    path = tmp_path / "bad.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    code, _, err = run("menus", "publish", str(path), "--db", db)
    assert code == 2 and words in err
    assert not os.path.exists(db)


def test_faults_set_list_clear(db):
    assert run("faults", "set", "12345678", "respond", "96", "--once", "--db", db)[0] == 0
    out = run("faults", "list", "--db", db)[1]
    assert "respond" in out and "96" in out and " 1" in out
    assert run("faults", "set", "12345678", "need", "4", "--once", "--db", db)[0] == 0
    assert "need" in run("faults", "list", "--db", db)[1]
    assert run("faults", "set", "12345678", "timeout", "--db", db)[0] == 0
    assert "persistent" in run("faults", "--db", db)[1]
    assert run("faults", "clear", "12345678", "--db", db)[0] == 0
    assert "12345678" not in run("faults", "list", "--db", db)[1]


def test_transactions_lists_masked_pans(db, tmp_path):
    from posterm.host.server import start_in_thread

    h = start_in_thread(db)
    try:
        t = Terminal(h.address)
        t.sign_in()
        t.purchase(amount=4321)
    finally:
        h.stop()
    out = run("transactions", "--tid", "12345678", "--db", db)[1]
    assert "621214*********0012" in out and "43.21" in out and "purchase" in out
    assert "6212142000000000012" not in out


def test_bad_listen_address(db):
    code, _, err = run("--listen", "nowhere", "--db", db)
    assert code == 2 and "HOST:PORT" in err


# -- the real command line --------------------------------------------------------------------
def test_posterm_host_terminals_list_in_a_subprocess(db):
    for argv in (["posterm", "host"], [sys.executable, "-m", "posterm.host"]):
        r = subprocess.run(
            argv + ["terminals", "list", "--db", db],
            check=False,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert r.returncode == 0, r.stderr
        assert "12345678" in r.stdout


def test_posterm_host_bad_tid_in_a_subprocess(db):
    r = subprocess.run(
        ["posterm", "host", "terminals", "freeze", "x", "--db", db],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0 and "TID" in r.stderr


def _sigint_default():
    # a child inherits an ignored SIGINT (pytest started in the background by a shell without
    # job control, `cmd &`), and Python then never turns Ctrl-C into KeyboardInterrupt: the
    # interrupt this test sends would be lost. A terminal's Ctrl-C reaches the host as default.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_posterm_host_serves_until_interrupted(db):
    proc = subprocess.Popen(
        ["posterm", "host", "--listen", "127.0.0.1:0", "--db", db],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_sigint_default,
    )
    try:
        line = proc.stdout.readline()
        assert line.startswith("posterm host listening on 127.0.0.1:")
        port = int(line.split("127.0.0.1:")[1].split(",")[0])
        assert db in line
        assert Terminal(("127.0.0.1", port)).sign_in()[39] == "00"
        proc.send_signal(signal.SIGINT)
        assert proc.wait(10) == 0
        assert "0800" in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()


def test_terminals_add_without_a_tmk_draws_one_and_list_shows_it(db):
    code, out, _ = run("terminals", "add", "11112222", "898310048990009", "--db", db)
    assert code == 0
    tmk = out.split("TMK ")[1].split()[0]
    assert len(tmk) == 32 and tmk != "11111111111111112222222222222222"
    listed = run("terminals", "list", "--db", db)[1]
    line = next(x for x in listed.splitlines() if x.startswith("11112222"))
    assert tmk in line and "ecb" in line
    second = next(x for x in listed.splitlines() if x.startswith("87654321"))
    assert "11111111111111112222222222222222" not in second  # its own TMK too


def test_terminals_set_changes_the_mac_algorithm(db):
    assert run("terminals", "set", "12345678", "--mac", "x919", "--db", db)[0] == 0
    assert " x9.19 " in run("terminals", "list", "--db", db)[1]
    code, _, err = run("terminals", "set", "12345678", "--mac", "md5", "--db", db)
    assert code == 2 and "--mac" in err
    code, _, err = run("terminals", "set", "12345678", "--db", db)
    assert code == 2 and "at least one" in err
