"""The host's SQLite store on its own: schema, provisioning, menus, faults, counters."""

import sqlite3
import zlib
from datetime import datetime

import pytest
from posterm.host.errors import NotFoundError, ValidationError
from posterm.host.store import DECK, SCHEMA_VERSION, Store, next_batch


@pytest.fixture
def store(tmp_path):
    s = Store(str(tmp_path / "host.db"))
    yield s
    s.close()


def test_a_new_database_is_fresh_and_versioned(tmp_path):
    path = str(tmp_path / "sub" / "host.db")
    s = Store(path)
    assert s.fresh
    s.close()
    s = Store(path)
    assert not s.fresh
    assert s.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    s.close()


def test_an_unknown_schema_version_is_refused(tmp_path):
    path = str(tmp_path / "host.db")
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version=99")
    db.close()
    with pytest.raises(ValidationError, match="schema version 99"):
        Store(path)


def test_provision_defaults_is_idempotent_and_seeds_the_menu(store, tmp_path):
    menu = tmp_path / "menu.json"
    menu.write_bytes('{"root": {"label": "菜单"}}'.encode())
    store.provision_defaults(str(menu))
    store.adjust_balance("6212142000000000012", -100)
    store.provision_defaults(str(menu))
    assert [t["tid"] for t in store.list_terminals()] == ["12345678", "87654321"]
    assert len(store.list_cards()) == len(DECK)
    assert store.get_card("6212142000000000012")["balance_fen"] == 1000000 - 100
    version, data, crc = store.current_menu()
    assert (version, data) == (1, menu.read_bytes())
    assert crc == f"{zlib.crc32(data):08X}"
    assert len(store.list_menus()) == 1


def test_default_terminal_and_deck(store):
    store.provision_defaults()
    t = store.get_terminal("12345678")
    assert (t["mid"], t["tmk"], t["host_batch"], t["allowed"]) == (
        "898310048990001",
        "11111111111111112222222222222222",
        "000001",
        None,
    )
    cards = {c["pan"]: c for c in store.list_cards()}
    assert cards["6212142000000000020"]["balance_fen"] == 500
    assert cards["6212142000000000038"]["expiry"] == "2001"
    assert cards["6212142000000000046"]["status"] == "lost"
    assert cards["6212142000000000053"]["status"] == "stolen"
    assert store.current_menu() is None


def test_publish_menu_validates_and_numbers_versions(store):
    with pytest.raises(ValidationError):
        store.publish_menu(b"[1, 2]")
    with pytest.raises(ValidationError):
        store.publish_menu(b"\xff\xfe")
    assert store.publish_menu('{"root": 1}') == 1
    assert store.publish_menu(b'{"root": 2}') == 2
    assert store.current_menu()[1] == b'{"root": 2}'


def test_counted_faults_run_out_and_persistent_ones_stay(store):
    store.set_fault("12345678", "respond", "05", remaining=2)
    store.use_fault("12345678")
    assert store.get_fault("12345678")["remaining"] == 1
    store.use_fault("12345678")
    assert store.get_fault("12345678") is None
    store.set_fault("12345678", "drop")
    store.use_fault("12345678")
    store.use_fault("12345678")
    assert store.get_fault("12345678")["kind"] == "drop"


def test_unknown_terminal_errors_name_it(store):
    with pytest.raises(NotFoundError, match="unknown terminal 99999999"):
        store.freeze_terminal("99999999")


def test_rrn_is_twelve_digits_with_a_sequence(store):
    now = datetime(2026, 11, 24, 10, 15, 30)
    a, b = store.new_rrn(now), store.new_rrn(now)
    assert (a, b) == ("112410000001", "112410000002")
    assert len(store.new_auth_code()) == 6


def test_batch_numbers_wrap_after_999999():
    assert next_batch("000001") == "000002"
    assert next_batch("999999") == "000001"


def test_embedded_host_publishes_a_changed_shipped_menu(tmp_path):
    import json

    from posterm.host.server import start_in_thread

    menu = tmp_path / "menu.json"
    tree = {
        "version": 1,
        "root": {
            "label": {"zh": "菜单"},
            "items": [{"label": {"zh": "签到"}, "action": "sign_in_auto"}],
        },
    }
    menu.write_text(json.dumps(tree, ensure_ascii=False), "utf-8")
    db = tmp_path / "host.db"
    start_in_thread(str(db), str(menu)).stop()
    start_in_thread(str(db), str(menu)).stop()
    s = Store(str(db))
    assert s.current_menu()[0] == 1, "unchanged file: no new version"
    tree["root"]["items"].append({"label": {"zh": "消费"}, "action": "purchase"})
    menu.write_text(json.dumps(tree, ensure_ascii=False), "utf-8")
    s.close()
    start_in_thread(str(db), str(menu)).stop()
    s = Store(str(db))
    assert s.current_menu()[0] == 2
    assert s.current_menu()[1] == menu.read_bytes()
    s.close()


# -- issue 11: an existing (version 1) database is upgraded in place --------------------------
V1_SCHEMA = """
CREATE TABLE terminals (
    tid TEXT PRIMARY KEY,
    mid TEXT NOT NULL,
    tmk TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'registered',
    freeze_code TEXT NOT NULL DEFAULT '97',
    pik TEXT,
    mak TEXT,
    host_batch TEXT NOT NULL DEFAULT '000001',
    allowed TEXT,
    signed_in TEXT,
    created TEXT NOT NULL
);
CREATE TABLE cards (
    pan TEXT PRIMARY KEY,
    pin TEXT NOT NULL,
    balance_fen INTEGER NOT NULL,
    status TEXT NOT NULL DEFAULT 'ok',
    expiry TEXT NOT NULL,
    holder TEXT NOT NULL DEFAULT '',
    limit_fen INTEGER,
    pin_tries INTEGER NOT NULL DEFAULT 0,
    pin_tries_day TEXT
);
CREATE TABLE transactions (
    id INTEGER PRIMARY KEY,
    tid TEXT NOT NULL,
    batch TEXT NOT NULL,
    trace TEXT NOT NULL,
    mti TEXT NOT NULL,
    type TEXT NOT NULL,
    pan TEXT,
    amount_fen INTEGER NOT NULL DEFAULT 0,
    rrn TEXT,
    auth TEXT,
    date TEXT NOT NULL,
    time TEXT NOT NULL,
    result TEXT NOT NULL,
    status TEXT NOT NULL,
    orig_id INTEGER,
    refunded_fen INTEGER NOT NULL DEFAULT 0,
    UNIQUE (tid, batch, trace)
);
CREATE INDEX transactions_rrn ON transactions (rrn);
CREATE INDEX transactions_auth ON transactions (auth, pan);
CREATE TABLE batch_uploads (
    id INTEGER PRIMARY KEY,
    tid TEXT NOT NULL,
    batch TEXT NOT NULL,
    code TEXT NOT NULL,
    foreign_card INTEGER NOT NULL DEFAULT 0,
    trace TEXT,
    pan TEXT,
    amount_fen INTEGER,
    received TEXT NOT NULL
);
CREATE TABLE settlements (
    id INTEGER PRIMARY KEY,
    tid TEXT NOT NULL,
    batch TEXT NOT NULL,
    terminal_totals TEXT NOT NULL,
    host_totals TEXT NOT NULL,
    balanced INTEGER NOT NULL,
    closed INTEGER NOT NULL DEFAULT 0,
    at TEXT NOT NULL
);
CREATE TABLE menus (
    version INTEGER PRIMARY KEY,
    json TEXT NOT NULL,
    crc TEXT NOT NULL,
    created TEXT NOT NULL
);
CREATE TABLE faults (
    tid TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    arg TEXT,
    remaining INTEGER
);
CREATE TABLE counters (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
"""


def test_a_version_1_database_is_upgraded_and_keeps_its_data(tmp_path):
    path = str(tmp_path / "host.db")
    db = sqlite3.connect(path)
    db.executescript(V1_SCHEMA)
    db.execute(
        "INSERT INTO terminals (tid, mid, tmk, created) VALUES ('12345678', '898310048990001',"
        " '11111111111111112222222222222222', 'x')"
    )
    db.execute("INSERT INTO menus VALUES (1, '{\"root\": {}}', 'ABCD0123', 'x')")
    db.execute("PRAGMA user_version=1")
    db.commit()
    db.close()
    s = Store(path)
    try:
        assert not s.fresh
        t = s.get_terminal("12345678")
        assert (t["mac_algo"], t["tmk"]) == ("ecb", "11111111111111112222222222222222")
        assert [m["source"] for m in s.list_menus()] == ["published"]  # never overridden
        s.add_card("6212142000000000012", "123456", 100)
        assert s.get_card("6212142000000000012")["track2"].startswith("6212142000000000012=")
    finally:
        s.close()
    assert Store(path).db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_a_unit_of_work_commits_everything_or_nothing(store):
    store.provision_defaults()
    pan = "6212142000000000012"
    with pytest.raises(RuntimeError):
        with store.unit():
            store.adjust_balance(pan, -500)
            store.set_pin_tries(pan, 2, "20261124")
            raise RuntimeError("the second step failed")
    card = store.get_card(pan)
    assert (card["balance_fen"], card["pin_tries"]) == (1000000, 0)
    with store.unit():
        store.adjust_balance(pan, -500)
        with store.unit():  # a nested unit joins the outer one
            store.set_pin_tries(pan, 2, "20261124")
    card = store.get_card(pan)
    assert (card["balance_fen"], card["pin_tries"]) == (1000000 - 500, 2)
