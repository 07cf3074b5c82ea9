"""pos.emv against code nobody here wrote: pyemv (key derivation, ARQC/TC/AAC, ARPC, its
TLV decoder) and `cryptography` (3DES, the retail MAC built from single DES), plus fuzzing
of the TLV decoder and the virtual card with hypothesis."""

import sys

import pytest
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, modes
from hypothesis import given, settings
from hypothesis import strategies as st
from pos.emv import card as emvcard
from pos.emv import crypto, tlv
from pyemv import ac, kd
from pyemv import tlv as pyemv_tlv

sys.path.insert(0, __file__.rsplit("/", 1)[0] + "/core")
from emvwalk import TERMINAL, cmd, send, walk_to_arqc  # noqa: E402

# pyemv calls cryptography's TripleDES by its old name, and with 16-byte keys
pytestmark = pytest.mark.filterwarnings(
    "ignore::cryptography.utils.CryptographyDeprecationWarning"
)

H = bytes.fromhex
IMK = H("0123456789ABCDEFFEDCBA9876543210")
keys16 = st.binary(min_size=16, max_size=16)
pans = st.text("0123456789", min_size=12, max_size=19)
psns = st.text("0123456789", min_size=2, max_size=2)


def _ecb(key, data):
    full = key + key[:8] if len(key) == 16 else key * 3
    ctx = Cipher(TripleDES(full), modes.ECB()).encryptor()
    return ctx.update(data) + ctx.finalize()


def _retail_mac(key, data):
    # ISO 9797-1 algorithm 3, padding method 2: CBC under K1 (single DES) up to the last
    # block, which gets E(K1) D(K2) E(K1), i.e. 3DES with K1 K2 K1
    data = data + b"\x80" + bytes(-(len(data) + 1) % 8)
    c = bytes(8)
    for i in range(0, len(data), 8):
        block = bytes(a ^ b for a, b in zip(c, data[i : i + 8], strict=True))
        c = _ecb(key[:8] if i + 8 < len(data) else key, block)
    return c


def _parity(key):
    return bytes((b & 0xFE) | (1 - bin(b & 0xFE).count("1") % 2) for b in key)


@settings(max_examples=300, deadline=None)
@given(keys16, pans, psns)
def test_icc_master_key_matches_pyemv_and_cryptography(imk, pan, psn):
    got = crypto.icc_master_key(imk, pan, psn)
    assert got == kd.derive_icc_mk_a(imk, pan, psn)
    y = H((pan + psn)[-16:].rjust(16, "0"))
    assert got == _parity(_ecb(imk, y + bytes(b ^ 0xFF for b in y)))


@settings(max_examples=300, deadline=None)
@given(keys16, st.binary(min_size=2, max_size=2))
def test_session_key_matches_pyemv_common_session_key(mk, atc):
    assert crypto.session_key(mk, atc) == kd.derive_common_sk(mk, atc + bytes(6))


@settings(max_examples=300, deadline=None)
@given(keys16, st.binary(max_size=80))
def test_cryptogram_matches_pyemv_and_a_retail_mac_from_cryptography(sk, data):
    got = crypto.cryptogram(sk, data)
    assert got == ac.generate_ac(sk, data, ac.PaddingType.EMV)
    assert got == _retail_mac(sk, data)


@settings(max_examples=300, deadline=None)
@given(keys16, st.binary(min_size=8, max_size=8), st.binary(min_size=2, max_size=2))
def test_arpc_method_1_matches_pyemv(sk, arqc, arc):
    assert crypto.arpc1(sk, arqc, arc) == ac.generate_arpc_1(sk, arqc, arc)
    block = bytes(a ^ b for a, b in zip(arqc, arc + bytes(6), strict=True))
    assert crypto.arpc1(sk, arqc, arc) == _ecb(sk, block)


# --- TLV ------------------------------------------------------------------------------

def _tags():
    one = st.integers(1, 0xFF).filter(lambda b: b & 0x1F != 0x1F)
    two = st.tuples(st.integers(0, 7).map(lambda c: (c << 5) | 0x1F), st.integers(1, 0x7F))
    three = st.tuples(st.integers(0, 7).map(lambda c: (c << 5) | 0x1F),
                      st.integers(0x81, 0xFF), st.integers(0, 0x7F))
    return st.one_of(one, two.map(lambda t: (t[0] << 8) | t[1]),
                     three.map(lambda t: (t[0] << 16) | (t[1] << 8) | t[2]))


def _tree(depth=2):
    prim = st.tuples(_tags().filter(lambda t: not tlv.constructed(t)), st.binary(max_size=300))
    if depth == 0:
        return prim
    cons = st.tuples(_tags().filter(tlv.constructed),
                     st.lists(_tree(depth - 1), max_size=4, unique_by=lambda i: i[0]))
    return st.one_of(prim, cons)


def _hx(tag):
    # a tag as pyemv names it: its bytes in upper-case hex
    return "%0*X" % (2 * ((tag.bit_length() + 7) // 8), tag)


def _expected(items):
    # the tree as pyemv's decoder returns it: {hex tag: bytes or dict}
    out = {}
    for tag, value in items:
        out[_hx(tag)] = _expected(value) if isinstance(value, list) else value
    return out


@settings(max_examples=500, deadline=None)
@given(st.lists(_tree(), max_size=5, unique_by=lambda i: i[0]))
def test_built_tlv_decodes_the_same_in_pyemv(items):
    data = tlv.build(items)
    assert pyemv_tlv.decode(data) == _expected(items)
    assert [t for t, _ in tlv.decode(data)] == [t for t, _ in items]
    # and pyemv's encoding of the same tree is ours byte for byte
    assert pyemv_tlv.encode(_expected(items)) == data
    tlv.walk(data)


@settings(max_examples=3000, deadline=None)
@given(st.binary(max_size=400))
def test_random_bytes_only_ever_raise_tlv_error(data):
    for fn in (tlv.decode, tlv.walk, tlv.flatten, tlv.parse_dol):
        try:
            fn(data)
        except tlv.TlvError as e:
            assert e.offset is None or 0 <= e.offset <= len(data)
    try:
        tlv.split_dol_data(data[:6], data[6:])
    except tlv.TlvError:
        pass


@settings(max_examples=1000, deadline=None)
@given(st.binary(max_size=300))
def test_where_both_parse_random_bytes_pyemv_agrees(data):
    # pyemv reads a 00 byte as a tag; ours skips it as padding (Book 3 B): compare without
    try:
        ours = tlv.decode(data)
    except tlv.TlvError:
        return
    if b"\x00" in data or len({t for t, _ in ours}) != len(ours):
        return
    try:
        theirs = pyemv_tlv.decode(data, flatten=False)
    except pyemv_tlv.DecodeError:
        return  # pyemv also parses inside templates; ours decode() does not
    assert sorted(theirs) == sorted(_hx(t) for t, _ in ours)
    for t, v in ours:
        if not tlv.constructed(t):
            assert theirs[_hx(t)] == v


# --- the card, checked by the issuer's side in pyemv ----------------------------------

def _spec(pan="6212142000000000012", seq="01"):
    return {"pan": pan, "seq": seq, "expiry": "3012", "aid": emvcard.DEBIT,
            "imk_ac": IMK.hex(), "pin": "123456", "label": "UnionPay Debit"}


@pytest.mark.parametrize("pan,seq", [("6212142000000000012", "01"), ("6225880000000000", "00"),
                                     ("62258800000000001", "02")])
def test_card_arqc_tc_and_arpc_verified_with_pyemv_from_the_issuer_master_key(pan, seq):
    card = emvcard.Card(_spec(pan, seq))
    seen = walk_to_arqc(card, "123456")
    assert seen[0x9F27] == b"\x80"
    icc_mk = kd.derive_icc_mk_a(IMK, pan, seq)
    sk = kd.derive_common_sk(icc_mk, seen[0x9F36] + bytes(6))
    cvr = seen[0x9F10][3:7]
    arqc = ac.generate_ac(sk, seen["cdol1_data"] + seen[0x82] + seen[0x9F36] + cvr)
    assert seen[0x9F26] == arqc
    arpc = ac.generate_arpc_1(sk, arqc, b"00")
    assert card.apdu(cmd(0x00, 0x82, 0, 0, arpc + b"00", le=False)) == b"\x90\x00"
    values = dict(TERMINAL)
    values[0x8A] = b"00"
    cdol2 = tlv.build_dol_data(seen[0x8D], values)
    tc = tlv.flatten(send(card, cmd(0x80, 0xAE, 0x40, 0, cdol2)))
    assert tc[0x9F27] == b"\x40"
    assert tc[0x9F26] == ac.generate_ac(sk, cdol2 + seen[0x82] + tc[0x9F36] + tc[0x9F10][3:7])
    # an ARPC under another key is refused
    card2 = emvcard.Card(_spec(pan, seq))
    seen2 = walk_to_arqc(card2, None)
    bad = ac.generate_arpc_1(icc_mk, seen2[0x9F26], b"00")
    assert card2.apdu(cmd(0x00, 0x82, 0, 0, bad + b"00", le=False)) == b"\x63\x00"


@settings(max_examples=2000, deadline=None)
@given(st.lists(st.binary(min_size=0, max_size=40), max_size=8), st.booleans())
def test_random_apdus_get_a_status_word_never_an_exception(apdus, select_first):
    spec = _spec()
    card = emvcard.Card(spec)
    if select_first:
        card.apdu(cmd(0x00, 0xA4, 0x04, 0, H(emvcard.DEBIT)))
        card.apdu(cmd(0x80, 0xA8, 0, 0, H("8309") + bytes(9)))
    for apdu in apdus:
        r = card.apdu(apdu)
        assert isinstance(r, bytes) and len(r) >= 2
        assert r[-2] in (0x90, 0x61, 0x62, 0x63, 0x67, 0x69, 0x6A, 0x6D, 0x6E, 0x6F)
    assert 0 <= spec.get("atc", 0) <= 0xFFFF
