"""The catalog of transaction types (firmware/pos/catalog.py) is the one place a type is
described; forgetting any of the places a type needs fails here: its strings (zh and en), its
menu item (or a documented reason for having none), its center entry (the host's derived
catalog and a handler in the processor), a settlement side, and well-formed codes. The flows
name types the catalog has."""

import ast
import json
import pathlib
import re

import pytest

from pos import actions, catalog
from posterm.host import catalog as host_catalog
from posterm.host import qr as host_qr
from posterm.host.processor import Processor

ROOT = pathlib.Path(__file__).resolve().parents[1]
NAMES = catalog.names()
COL = {c: i for i, c in enumerate(catalog.COLUMNS.split())}


def _strings(lang):
    return json.loads((ROOT / "menus" / f"strings_{lang}.json").read_text())


def _menu_actions():
    found = set()

    def walk(node):
        if isinstance(node, dict):
            if "action" in node:
                found.add(node["action"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(json.loads((ROOT / "menus" / "menu.json").read_text()))
    return found


def test_the_catalog_has_the_transaction_types_of_the_reference():
    for name in ("balance", "purchase", "void", "refund", "preauth", "preauth_void",
                 "completion", "completion_void"):  # fmt: skip
        assert name in NAMES
    assert len(NAMES) == len(set(NAMES)), "a type twice"


@pytest.mark.parametrize("name", NAMES)
def test_every_row_is_well_formed(name):
    r = {c: v for c, v in zip(catalog.COLUMNS.split(), catalog.row(name), strict=False)}
    assert len(catalog.row(name)) == len(COL), f"{name}: {len(catalog.row(name))} columns"
    assert re.fullmatch(r"0[1-9][0-9]0", r["mti"]), r
    assert re.fullmatch(r"[0-9]{6}", r["proc"]), r
    assert re.fullmatch(r"[0-9]{2}", r["cond"]), r
    assert re.fullmatch(r"[0-9]{2}", r["f601"]), r
    assert r["side"] in ("D", "C", "-"), f"{name}: a settlement side D, C or -"
    assert r["rev"] in ("0", "1") and r["jrnl"] in ("0", "1")
    assert r["sup"] in ("0", "1") and r["sign"] in ("+", "-")
    assert r["orig"] in ("-", "trace", "rrn", "auth")
    if r["orig"] == "-":
        assert r["of"] == "-"
    else:
        for of in r["of"].split(","):
            assert of in NAMES, f"{name}: original type {of!r} is not in the catalog"
            assert catalog.journalled(of) or r["orig"] != "trace"
    assert r["entry"] and set(r["entry"]) <= set("skctq"), r
    if catalog.side(name) is not None:
        assert catalog.journalled(name), f"{name}: settled but not journalled"
    # money going back to the card prints negative
    if catalog.side(name) == "credit":
        assert catalog.negative(name)


@pytest.mark.parametrize("name", NAMES)
def test_every_type_has_its_name_in_both_languages(name):
    for lang in ("zh", "en"):
        text = _strings(lang).get(catalog.title_key(name))
        assert text, f"{catalog.title_key(name)} missing in strings_{lang}.json"


@pytest.mark.parametrize("name", NAMES)
def test_every_type_has_a_menu_item_or_a_documented_reason(name):
    action = catalog.row(name)[COL["action"]]
    if action == "-":
        assert f"\n# {name}: " in catalog._TABLE.decode(), (
            f"{name} has no menu item: say why in a '# {name}: ...' line of the table"
        )
        return
    assert actions.entry(action) is not None, f"{name}: action {action!r} not in pos.actions"
    assert action in _menu_actions(), f"{name}: no menu item runs {action!r} (menus/menu.json)"


@pytest.mark.parametrize("name", NAMES)
def test_every_type_has_a_center_entry(name):
    mti, proc, _cond, f601 = catalog.request_codes(name)
    modes = catalog.row(name)[COL["entry"]]
    f22 = {"s": "021", "k": "012", "c": "051", "t": "071", "q": "031"}[modes[0]]
    assert host_catalog.classify(mti, proc, f601, f22) == name
    assert name in host_catalog.KINDS
    assert callable(getattr(Processor, "_tx_" + name, None)) or host_qr.serves(name), (
        f"the processor has no _tx_{name} (nor host/qr.py): the center cannot serve it"
    )
    side, reversible = host_catalog.KINDS[name]
    assert side == catalog.side(name) and reversible == catalog.reversible(name)
    if side == "debit":
        assert name in host_catalog.DEBIT_TYPES
    elif side == "credit":
        assert name in host_catalog.CREDIT_TYPES


def test_no_two_types_share_their_codes_and_an_entry_mode():
    seen = {}
    for name in NAMES:
        mti, proc, _cond, f601 = catalog.request_codes(name)
        for mode in catalog.row(name)[COL["entry"]]:
            key = (mti, proc, f601, mode)
            assert key not in seen, f"{name} and {seen.get(key)} share {key}"
            seen[key] = name


def test_the_center_catalog_is_derived_not_written_again():
    src = (ROOT / "tools/posterm/host/catalog.py").read_text()
    assert "from pos import catalog" in src
    for code in ("310000", "030000", '"22"', '"25"'):
        assert code not in src, f"the host catalog spells {code} itself"
    assert host_catalog.TX_TYPES == tuple(sorted(NAMES))


def test_the_center_classifies_a_request_by_its_codes_and_entry_mode():
    c = host_catalog.classify
    assert c("0200", "000000", "22", "021") == "purchase"
    assert c("0200", "200000", "23", "051") == "void"
    assert c("0220", "200000", "25") == "refund"
    assert c("0200", "999999", "22", "021") is None
    assert host_catalog.entry_mode("071") == "t" and host_catalog.entry_mode("") == ""


def _kind_arguments():
    # every string constant the firmware passes as a transaction type
    calls = {"financial": 1, "begin": 2, "run_online": 2, "send": 2, "approve": 2,
             "void_of": 1, "record_approval": 1, "journal": 2}  # fmt: skip
    out = []
    for path in sorted((ROOT / "firmware" / "pos").rglob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            f = node.func
            fname = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", None)
            i = calls.get(fname)
            if i is None or len(node.args) <= i:
                continue
            a = node.args[i]
            if isinstance(a, ast.Constant) and isinstance(a.value, str):
                out.append((f"{path.relative_to(ROOT)}:{node.lineno}", a.value))
    return out


def test_the_flows_name_only_types_the_catalog_has():
    found = _kind_arguments()
    assert len(found) >= 10
    for where, kind in found:
        assert kind in NAMES, f"{where}: {kind!r} is not a type of pos.catalog"


def test_no_flow_spells_request_codes_of_its_own():
    # the MTI / processing code / 60.1 literals of the financial requests live in the catalog
    for path in sorted((ROOT / "firmware" / "pos" / "flows").glob("*.py")):
        text = path.read_text()
        for code in ('"310000"', '"030000"', '"200000"', '"000000", "00", "22"'):
            assert code not in text, f"{path.name} spells {code}: read pos.catalog"
