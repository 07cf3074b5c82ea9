"""The center's crypto (posterm.host.hostcrypto, on OpenSSL through `cryptography`) gives the
core's results (pos.des / pos.mac / pos.pinblock / pos.keyload, themselves checked against
independent code in test_crypto_interop) and the reference's vectors, and stays right when
two threads use it at once (the center verifies on its database thread while the event loop
MACs replies: the core's one-entry key cache mixed two terminals' keys up there, the one
unexplained A0 of a 3,000-purchase storm)."""

import threading

import refframes as R
from hypothesis import given, settings
from hypothesis import strategies as st
from pos import des, iso8583, keyload, mac, pinblock
from posterm.host import hostcrypto  # noqa
from posterm.host.processor import Decline, Processor, Reply, encode

H = bytes.fromhex
keys8 = st.binary(min_size=8, max_size=8)
keys16 = st.binary(min_size=16, max_size=16)


def test_the_reference_vectors():
    assert hostcrypto.encrypt(H(R.DES_C), bytes(8)) == H(R.DES_C_ZERO)
    assert hostcrypto.kcv(H(R.PIK_F)) == H(R.KCV_C_3DES)
    tak = hostcrypto.decrypt(H(R.TMK_B), H(R.TAK_B_CIPHER))
    assert tak == H(R.TAK_B)
    assert hostcrypto.ecb_mac(tak, H(R.XOR_B)) == R.MAC_B
    msg = iso8583.decode(H(R.F_0200_BODY))
    assert hostcrypto.compute("ecb", H(R.MAK_F), iso8583.mab(msg)) == R.MAC_F_0200
    assert hostcrypto.signin_keys(H(R.TMK_F), H(R.PIK_F), H(R.MAK_F)) == H(R.F62_F)


@settings(max_examples=200, deadline=None)
@given(key=st.one_of(keys8, keys16), mab=st.binary(max_size=300),
       algo=st.sampled_from(["ecb", "x9.9", "x9.19"]))
def test_macs_equal_the_cores(key, mab, algo):
    assert hostcrypto.compute(algo, key, mab) == mac.compute(algo, key, mab)
    assert hostcrypto.verify(algo, key, mab, mac.compute(algo, key, mab))


@settings(max_examples=100, deadline=None)
@given(key=st.one_of(keys8, keys16, st.binary(min_size=24, max_size=24)),
       data=st.binary(min_size=8, max_size=64).filter(lambda b: len(b) % 8 == 0))
def test_des_and_3des_equal_the_cores(key, data):
    assert hostcrypto.encrypt(key, data) == des.encrypt(key, data)
    assert hostcrypto.decrypt(key, data) == des.decrypt(key, data)
    assert hostcrypto.kcv(key) == des.kcv(key) == hostcrypto.kcv_once(key)
    # the contexts made by cryptography's own constructors, and by its public API
    full = hostcrypto._full(key)
    assert (hostcrypto._new_enc(full).update(data) == hostcrypto._public_enc(full).update(data)
            == des.encrypt(key, data))
    assert hostcrypto._new_dec(full).update(data) == hostcrypto._public_dec(full).update(data)


@settings(max_examples=100, deadline=None)
@given(pik=keys16, pin=st.text("0123456789", min_size=4, max_size=12),
       pan=st.text("0123456789", min_size=13, max_size=19), tmk=keys16, mak=keys8)
def test_pin_blocks_and_sign_in_keys_equal_the_cores(pik, pin, pan, tmk, mak):
    block = pinblock.encrypt(pik, pin, pan)
    assert hostcrypto.decrypt_pin(pik, block, pan) == pin == pinblock.decrypt_pin(pik, block, pan)
    assert hostcrypto.signin_keys(tmk, pik, mak) == keyload.pack_signin_keys(tmk, pik, mak)


def test_bad_pin_blocks_are_refused_as_the_core_refuses_them():
    pik = H(R.PIK_F)
    for block in (bytes(7), hostcrypto.encrypt(pik, H("1234567890ABCDEF"))):
        try:
            hostcrypto.decrypt_pin(pik, block, "6212142000000000012")
        except pinblock.PinBlockError:
            continue
        raise AssertionError("accepted a bad PIN block")


def test_the_centers_macs_stay_right_with_two_threads_at_once():
    # the loop thread MACs replies (processor.encode) while the database thread checks
    # requests (Processor._check_mac), each for terminals with keys of their own
    import sys

    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    keys = [bytes([i + 1]) * 8 for i in range(4)]
    mab = iso8583.mab(iso8583.decode(H(R.F_0200_BODY)))
    good = {k: mac.compute("ecb", k, mab) for k in keys}
    wrong, done = [], []

    def replies():
        for i in range(6000):
            k = keys[i % 2]
            rep = Reply({"mti": "0210", 11: "000001", 39: "00", 41: "12345678"})
            rep.mac_key, rep[64] = k, bytes(8)
            body = encode(rep)
            if not mac.verify("ecb", k, body[:-8], body[-8:]):
                wrong.append("reply")

    def requests():
        for i in range(6000):
            k = keys[2 + i % 2]
            term = {"mak": k.hex().upper(), "mac_algo": "ecb", "key_layout": "003"}
            try:
                Processor._check_mac({64: good[k]}, term, mab + good[k])
            except Decline:
                wrong.append("A0")
            done.append(i)

    try:
        threads = [threading.Thread(target=replies), threading.Thread(target=requests)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(old)
    assert wrong == [] and len(done) == 6000


def test_the_sm_mac_the_center_leaves_to_the_core_stays_right_with_two_threads():
    import sys

    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    keys = [bytes([i + 7]) * 16 for i in range(4)]
    mab = bytes(range(40))
    good = {k: mac.compute("sm4", k, mab) for k in keys}
    wrong = []

    def run(mine):
        for i in range(1500):
            k = mine[i % 2]
            if hostcrypto.compute("sm4", k, mab) != good[k]:
                wrong.append(k)

    try:
        threads = [threading.Thread(target=run, args=(keys[2 * j : 2 * j + 2],))
                   for j in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(old)
    assert wrong == []
