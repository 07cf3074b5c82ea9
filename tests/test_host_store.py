"""The host's SQLite store on its own: schema, provisioning, menus, faults, counters."""

import sqlite3
import zlib
from datetime import datetime

import pytest
from posterm.host.errors import NotFoundError, ValidationError
from posterm.host.store import SCHEMA_VERSION, Store, next_batch


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
    assert len(store.list_cards()) == 10
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
