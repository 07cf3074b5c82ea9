# DES/3DES, MAC, PIN block, key loading and CRC vectors (reference cup8583.md 4.6 B, C, F);
# plain functions so they also run on MicroPython.
from mptest import eq, raises, true
from pos import crc, des, iso8583, keyload, mac, pinblock

H = bytes.fromhex
import refframes as R  # noqa: E402 - the reference's vectors, one copy

TMK = H(R.TMK_F)
PIK = H(R.PIK_F)
MAK = H(R.MAK_F)
F62 = H(R.F62_F)
F_0200_BODY = H(R.F_0200_BODY)
TAK_B = H(R.TAK_B)


def test_des_known_answer_and_kcvs():
    eq(des.encrypt(H("0123456789ABCDEF"), bytes(8)), H("D5D44FF720683D0D"))
    eq(des.kcv(H("0123456789ABCDEF")), H("D5D44FF7"))
    eq(des.kcv(PIK), H("08D7B4FB"))


def test_des_fips_81_ecb_example():
    # FIPS 81 appendix B: "Now is the time for all " under 0123456789ABCDEF
    plain = b"Now is the time for all "
    cipher = H("3FA40E8A984D48156A271787AB8883F9893D51EC4B563B53")
    eq(des.encrypt(H("0123456789ABCDEF"), plain), cipher)
    eq(des.decrypt(H("0123456789ABCDEF"), cipher), plain)


def test_3des_with_k1_k2_k1_equals_two_key_form():
    data = bytes(range(32))
    k16 = H("0123456789ABCDEFFEDCBA9876543210")
    eq(des.encrypt(k16, data), des.encrypt(k16 + k16[:8], data))
    eq(des.decrypt(k16, des.encrypt(k16, data)), data)


def test_3des_with_equal_halves_is_single_des():
    k = H("133457799BBCDFF1")
    data = H("0123456789ABCDEF")
    eq(des.encrypt(k + k, data), des.encrypt(k, data))
    eq(des.encrypt(k, data), H("85E813540F0AB405"))


def test_des_key_object_matches_module_functions():
    key = des.DesKey(PIK)
    block = H("0011223344556677")
    eq(key.encrypt_block(block), des.encrypt(PIK, block))
    eq(key.decrypt_block(key.encrypt_block(block)), block)


def test_des_rejects_bad_key_and_data_lengths():
    with raises(des.CryptoError):
        des.encrypt(bytes(7), bytes(8))
    with raises(des.CryptoError):
        des.encrypt(bytes(8), bytes(9))
    with raises(des.CryptoError):
        des.DesKey(bytes(32))


def test_vector_b_tak_decrypts_under_the_tmk_and_ecb_mac_is_8a9e91b8():
    tak = des.decrypt(H(R.TMK_B), H(R.TAK_B_CIPHER))
    eq(tak, TAK_B)
    eq(des.kcv(tak), H("0547DB3E"))
    # the ECB MAC depends on the MAB only through the XOR of its blocks (4D08F434464FE7BF)
    eq(mac.ecb_mac(tak, H(R.XOR_B)), R.MAC_B)
    eq(mac.ecb_mac(tak, H("0200302004C020C0") + H("4D08F434464FE7BF") + H("0200302004C020C0")),
       b"8A9E91B8")  # fmt: skip


def test_vector_f_0200_ecb_mac_is_a76b5594():
    msg = iso8583.decode(F_0200_BODY)
    mab = iso8583.mab(msg)
    eq(mac.compute("ecb", MAK, mab), R.MAC_F_0200)
    true(mac.verify("ecb", MAK, mab, msg[64]))
    true(not mac.verify("ecb", MAK, mab, b"A76B5595"))
    true(not mac.verify("ecb", MAK, mab, b"A76B"))


def test_x99_and_x919_agree_for_a_repeated_key():
    mab = bytes(range(37))
    eq(mac.compute("x9.19", MAK, mab), mac.x99_mac(MAK, mab))
    eq(mac.x919_mac(MAK + MAK, mab), mac.compute("x9.9", MAK, mab))
    true(mac.x919_mac(PIK, mab) != mac.x99_mac(PIK, mab))


def test_unknown_mac_algorithm_is_an_error():
    with raises(des.CryptoError):
        mac.compute("cbc", MAK, b"1234")


def test_pin_block_format_0_by_hand():
    # PIN field 06123456FFFFFFFF; PAN field 0000 + 200000000001 (12 rightmost digits
    # before the check digit 2); XOR -> 06121456FFFFFFFE
    eq(pinblock.clear_block("123456", "6212142000000000012"), H("06121456FFFFFFFE"))
    eq(pinblock.encrypt(PIK, "123456", "6212142000000000012"), H("42171B9345064D93"))
    eq(pinblock.decrypt_pin(PIK, H("42171B9345064D93"), "6212142000000000012"), "123456")


def test_pin_block_rejects_bad_pins_and_blocks():
    for pin in ("123", "1234567890123", "12a4", 1234):
        with raises(pinblock.PinBlockError):
            pinblock.clear_block(pin, "6212142000000000012")
    with raises(pinblock.PinBlockError):
        pinblock.decrypt_pin(PIK, H("42171B9345064D93"), "6212142000000000029")
    with raises(pinblock.PinBlockError):
        pinblock.decrypt_pin(PIK, bytes(7), "6212142000000000012")


def test_vector_f_field_62_round_trips():
    eq(keyload.pack_signin_keys(TMK, PIK, MAK), F62)
    eq(keyload.unpack_signin_keys(F62, TMK), (PIK, MAK))


def test_single_length_and_tdk_layouts_unpack():
    t = des.DesKey(TMK)
    f001 = t.encrypt(PIK[:8]) + des.kcv(PIK[:8]) + t.encrypt(MAK) + des.kcv(MAK)
    eq(keyload.unpack_signin_keys(f001, TMK), (PIK[:8], MAK))
    tdk = H("00112233445566778899AABBCCDDEEFF")
    f004 = F62 + t.encrypt(tdk) + des.kcv(tdk)
    eq(keyload.unpack_signin_keys(f004, TMK), (PIK, MAK))
    eq(keyload.unpack_signin_keys_all(f004, TMK), (PIK, MAK, tdk))


def test_key_check_mismatch_names_the_key():
    bad = bytearray(F62)
    bad[39] ^= 1
    with raises(keyload.KeyCheckError) as caught:
        keyload.unpack_signin_keys(bytes(bad), TMK)
    eq(caught.value.key, "MAK")
    bad = bytearray(F62)
    bad[0] ^= 1
    with raises(keyload.KeyCheckError) as caught:
        keyload.unpack_signin_keys(bytes(bad), TMK)
    eq(caught.value.key, "PIK")
    with raises(keyload.KeyCheckError) as caught:
        keyload.unpack_signin_keys(F62[:39], TMK)
    eq(caught.value.key, None)
    with raises(keyload.KeyCheckError):
        keyload.unpack_signin_keys(F62, bytes(15))


def test_crc_check_values():
    eq(crc.crc16_ccitt(b"123456789"), 0x29B1)
    eq(crc.crc32(b"123456789"), 0xCBF43926)
    eq(crc.crc32(b"56789", crc.crc32(b"1234")), 0xCBF43926)
    eq(crc.crc16_ccitt(b"56789", crc.crc16_ccitt(b"1234")), 0x29B1)
    eq(crc.crc32(b""), 0)


def test_precomputed_sp_tables_are_the_ones_built_from_the_sboxes():
    # pos.des_mp carries the SP tables as bytes (a board loads DES afresh for every
    # transaction); they must be exactly what pos.des_cp.sp_tables() builds from FIPS 46-3.
    import struct
    from pos import des_cp, des_mp, des_sp

    hi, lo = des_cp.sp_tables()
    eq(len(des_sp.SP), 2048)
    eq(list(struct.unpack("<512H", des_sp.SP[:1024])), hi)
    eq(list(struct.unpack("<512H", des_sp.SP[1024:])), lo)
    true(des_mp.load())
    eq(list(des_mp.SPHA) + list(des_mp.SPHB), hi)
    eq(list(des_mp.SPLA) + list(des_mp.SPLB), lo)


def test_pc2_nibble_tables_are_pc2():
    # pos.des keeps PC2 as two precomputed nibble tables; rebuild them from FIPS 46-3 PC2.
    from pos import des_cp

    tc = [0] * 112
    td = [0] * 112
    for out in range(48):
        p = des_cp._PC2[out]
        if p <= 28:
            tab, b, o = tc, p - 1, out
        else:
            tab, b, o = td, p - 29, out - 24
        for v in range(16):
            if (v >> (3 - (b & 3))) & 1:
                tab[(b >> 2) * 16 + v] |= 1 << (23 - o)
    # as three bytes constants per half: the high, middle and low byte of each entry
    for tab, name in ((tc, "C"), (td, "D")):
        for k in (2, 1, 0):
            eq(list(getattr(des, "_PC2" + name + str(k))), [(x >> (8 * k)) & 255 for x in tab])


def test_a_key_schedule_is_one_string_of_128_round_key_bytes():
    # 16 rounds of 8 S-box inputs, each with its S-box's offset in its half's SP table (64 *
    # (s % 4)); decryption's is encryption's, round by round, in reverse order
    key = bytes.fromhex("133457799BBCDFF1")  # FIPS 46-3's worked example
    enc = des._stages(key, False)
    eq(len(enc), 128)
    dec = des._stages(key, True)
    for r in range(16):
        eq(bytes(dec[8 * r : 8 * r + 8]), bytes(enc[8 * (15 - r) : 8 * (16 - r)]))
        for s in range(8):
            eq(enc[8 * r + s] >> 6, s % 4)
    # K1 of the worked example: 000110 110000 001011 101111 111111 000111 000001 110010
    k1 = [0b000110, 0b110000, 0b001011, 0b101111, 0b111111, 0b000111, 0b000001, 0b110010]
    eq([enc[s] & 63 for s in range(8)], k1)
    eq(des.DesKey(key).encrypt_block(bytes.fromhex("0123456789ABCDEF")).hex(), "85e813540f0ab405")


def test_pc1_and_rotations_are_fips_46_3():
    pc1 = [57, 49, 41, 33, 25, 17, 9, 1, 58, 50, 42, 34, 26, 18, 10, 2, 59, 51, 43, 35, 27]
    pc1 += [19, 11, 3, 60, 52, 44, 36, 63, 55, 47, 39, 31, 23, 15, 7, 62, 54, 46, 38, 30, 22]
    pc1 += [14, 6, 61, 53, 45, 37, 29, 21, 13, 5, 28, 20, 12, 4]
    # _halves reads PC1's bit columns: C and D as PC1 makes them, bit by bit
    for key in (bytes.fromhex("133457799BBCDFF1"), bytes(range(1, 16, 2)), b"\xff" * 8,
                bytes([1 << (i % 8) for i in range(8)]), bytes([0x80 >> i for i in range(8)])):
        bits = [(key[(p - 1) >> 3] >> (7 - ((p - 1) & 7))) & 1 for p in pc1]
        c = d = 0
        for i in range(28):
            c = (c << 1) | bits[i]
            d = (d << 1) | bits[28 + i]
        eq(des._halves(key), (c, d))
    shifts = [1, 1, 2, 2, 2, 2, 2, 2, 1, 2, 2, 2, 2, 2, 2, 1]
    eq(list(des._ROT), [sum(shifts[: r + 1]) for r in range(16)])


def test_every_real_layout_of_field_62_is_parsed_by_length_and_checked():
    from pos import keyload
    from pos.des import DesKey

    tmk = DesKey(TMK)
    pik16 = bytes.fromhex("0123456789ABCDEFFEDCBA9876543210")
    pik8 = bytes.fromhex("0123456789ABCDEF")
    mak = bytes.fromhex("89ABCDEF01234567")
    tdk = bytes.fromhex("FEDCBA98765432100123456789ABCDEF")

    def kcv(k):
        return DesKey(k).encrypt_block(bytes(8))[:4]

    base = tmk.encrypt(pik16) + kcv(pik16) + tmk.encrypt(mak) + bytes(8) + kcv(mak)
    layouts = {
        24: tmk.encrypt(pik8) + kcv(pik8) + tmk.encrypt(mak) + kcv(mak),
        40: base,
        44: base + b"\x00\x00\x00\x00",
        56: base + tmk.encrypt(tdk),
        60: base + tmk.encrypt(tdk) + kcv(tdk),
    }
    for n in (24, 40, 44, 56, 60):
        f62 = layouts[n]
        eq(len(f62), n)
        got = keyload.unpack_signin_keys_all(f62, TMK)
        eq(got[0], pik8 if n == 24 else pik16, "PIK of %d" % n)
        eq(got[1], mak, "MAK of %d" % n)
        eq(got[2], tdk if n in (56, 60) else None, "TDK of %d" % n)
        bad = bytearray(f62)
        bad[8 if n == 24 else 16] ^= 1  # the PIK's check value
        with raises(keyload.KeyCheckError, match="PIK"):
            keyload.unpack_signin_keys_all(bytes(bad), TMK)
    with raises(keyload.KeyCheckError, match="PIK: check value"):  # read as triple length
        keyload.unpack_signin_keys_all(bytes(84), TMK)
    with raises(keyload.KeyCheckError, match="expected 24"):
        keyload.unpack_signin_keys_all(bytes(50), TMK)


def test_track_encryption_under_the_tdk_round_trips_and_keeps_the_length():
    from pos import keyload

    tdk = bytes.fromhex("FEDCBA98765432100123456789ABCDEF")
    for track in (
        "6212142000000000012=30121200000000",
        "6212142000000000012=3012120000000",
        "62121420000=30",
    ):
        enc = keyload.encrypt_track(tdk, track)
        eq(len(enc), len(track))
        if len(track) >= 18:
            true(enc != track.replace("=", "D"), "encrypted")
            clear = 2 - len(track) % 2  # the last byte: two nibbles, or one and the pad
            eq(enc[-clear:], track.replace("=", "D")[-clear:], "the last byte stays clear")
        eq(keyload.decrypt_track(tdk, enc), track)


# -- SM4 and the SM (国密) key set ------------------------------------------------------------
SM_TMK = H("1234567890ABCDEFABCDEF0987654321")


def test_sm4_gb_t_32907_example_encrypts_and_decrypts():
    from pos import sm4

    # GB/T 32907-2016 appendix A, example 1: key = plaintext = 0123456789ABCDEFFEDCBA9876543210
    k = H("0123456789ABCDEFFEDCBA9876543210")
    eq(sm4.encrypt(k, k), H("681EDF34D206965E86B3E94F536E4246"))
    eq(sm4.decrypt(k, H("681EDF34D206965E86B3E94F536E4246")), k)
    key = sm4.Sm4Key(k)
    data = bytes(range(48))
    eq(key.decrypt(key.encrypt(data)), data)
    out = bytearray(16)
    key.encrypt_into(k, 0, out, 0)
    eq(bytes(out), H("681EDF34D206965E86B3E94F536E4246"), "encrypt_into")


def test_sm4_refuses_bad_keys_and_lengths():
    from pos import sm4

    for bad in (bytes(8), bytes(24), "0" * 16):
        with raises(des.CryptoError):
            sm4.Sm4Key(bad)
    with raises(des.CryptoError, match="multiple of 16"):
        sm4.encrypt(bytes(16), bytes(8))
    with raises(des.CryptoError):
        sm4.Sm4Key(bytes(16)).encrypt_block(bytes(32))


def test_sm_working_key_of_a_published_example_decrypts_and_checks():
    # https://blog.csdn.net/M_Kerry/article/details/104625499: TMK 1234..4321, a sign-in's
    # key 3D66..6A76 with check value 861E83E31FAEBF10 (SM4 of 16 zero bytes)
    from pos import sm4

    clear = sm4.decrypt(SM_TMK, H("3D66234C49E4296FF9C78D8BACBD6A76"))
    eq(sm4.Sm4Key(clear).encrypt_block(bytes(16))[:8], H("861E83E31FAEBF10"))
    eq(sm4.kcv(clear), H("861E83E3"))


def test_sm_key_layouts_40_and_60_are_parsed_and_checked():
    from pos import keyload, sm4

    pik = H("00112233445566778899AABBCCDDEEFF")
    mak = H("0F1E2D3C4B5A69788796A5B4C3D2E1F0")
    tdk = H("FEDCBA98765432100123456789ABCDEF")
    f62 = keyload.pack_signin_keys_sm(SM_TMK, pik, mak, tdk)
    eq(len(f62), 60)
    eq(f62[0:16], sm4.encrypt(SM_TMK, pik))
    eq(f62[16:20], sm4.kcv(pik))
    eq(f62[36:40], sm4.kcv(mak))
    eq(keyload.unpack_signin_keys_all(f62, SM_TMK, True), (pik, mak, tdk))
    eq(keyload.unpack_signin_keys_all(f62[:40], SM_TMK, True), (pik, mak, None))
    for at, name in ((16, "PIK"), (36, "MAK"), (56, "TDK")):
        bad = bytearray(f62)
        bad[at] ^= 1
        with raises(keyload.KeyCheckError, match=name):
            keyload.unpack_signin_keys_all(bytes(bad), SM_TMK, True)
    # the SM layouts are not the DES ones: 44 / 56 / 24 are refused when SM keys were asked
    for n in (24, 44, 56):
        with raises(keyload.KeyCheckError, match="40 or 60"):
            keyload.unpack_signin_keys_all(bytes(n), SM_TMK, True)
    with raises(keyload.KeyCheckError, match="84 bytes"):
        keyload.unpack_signin_keys_all(f62 + bytes(24), SM_TMK, True)
    with raises(keyload.KeyCheckError, match="SM4 TMK"):
        keyload.unpack_signin_keys_all(f62, SM_TMK[:8], True)


def test_sm_mac_xors_16_byte_blocks_then_sm4_twice_over_the_hex():
    from pos import sm4

    key = H("0123456789ABCDEFFEDCBA9876543210")
    mab = bytes(range(37))
    r = bytearray(16)
    for i in range(len(mab)):
        r[i % 16] ^= mab[i]
    hx = r.hex().upper().encode()
    e1 = sm4.encrypt(key, hx[:16])
    e2 = sm4.encrypt(key, bytes([e1[i] ^ hx[16 + i] for i in range(16)]))
    want = e2[:4].hex().upper().encode()
    eq(mac.compute("sm4", key, mab), want)
    true(mac.verify("sm4", key, mab, want))
    true(not mac.verify("sm4", key, mab + b"\x01", want))
    with raises(des.CryptoError, match="16 bytes"):
        mac.compute("sm4", key[:8], mab)


def test_sm4_pin_block_follows_the_published_example_and_round_trips():
    # CSDN M_Kerry: PIN 123654, PAN 6230606601007726888 -> 06123654FFFFFFFFFFFF99FEFF88D977
    from pos import sm4, smkeys

    pan = "6230606601007726888"
    eq(smkeys.clear_pin_block("123654", pan), H("06123654FFFFFFFFFFFF99FEFF88D977"))
    pik = H("F351D490994603795C6EBEE8FAEBB481")
    block = pinblock.encrypt_sm4(pik, "123654", pan)
    eq(block, sm4.encrypt(pik, H("06123654FFFFFFFFFFFF99FEFF88D977")))
    eq(pinblock.decrypt_pin(pik, block, pan), "123654")
    eq(len(pinblock.encrypt(PIK, "123654", pan)), 8, "the 3DES block stays 8 bytes")


def test_sm4_track_encryption_covers_16_bytes_and_short_tracks_are_filled():
    from pos import keyload

    tdk = H("FEDCBA98765432100123456789ABCDEF")
    for track in (
        "6212142000000000012=30121200000000",
        "6212142000000000012=3012120000000",
        "6212142000000000=30121200000000",
        "621214200000=3012120",
    ):
        enc = keyload.encrypt_track(tdk, track, True)
        true(enc != track.replace("=", "D"), "encrypted")
        nib = track.replace("=", "D")
        if len(nib) >= 34:
            eq(len(enc), len(nib), "a long track keeps its length")
            eq(enc[: len(nib) - 34 + (len(nib) & 1)], nib[: len(nib) - 34 + (len(nib) & 1)])
        else:
            eq(len(enc), 34 - (len(nib) & 1), "a short track: 16 bytes + its last byte")
        eq(keyload.decrypt_track(tdk, enc, True), track)
        true(keyload.encrypt_track(tdk, track) != enc, "not the 3DES result")


def test_field_52_of_16_bytes_is_encoded_and_decoded_beside_the_8_byte_one():
    msg = {"mti": "0200", 3: "000000", 11: "000001", 41: "12345678", 53: "2600000000000000"}
    for size in (8, 16):
        m = dict(msg)
        m[52] = bytes(range(size))
        eq(iso8583.decode(iso8583.encode(m)), m, "52 of %d" % size)
    m = dict(msg)
    m[52] = bytes(12)
    with raises(iso8583.Iso8583Error, match="field 52"):
        iso8583.encode(m)
    m[52] = bytes(16)
    body = iso8583.encode(m)
    with raises(iso8583.Iso8583Error, match="trailing bytes"):
        iso8583.decode(body[:-3])  # neither reading parses: the 8-byte one's error


def test_an_sm4_block_allocates_nothing_on_micropython():
    # the round function runs on 16-bit halves (small ints): encrypt_into allocates no heap
    import gc

    from pos import sm4

    if not hasattr(gc, "mem_alloc"):
        return  # CPython: no heap figures to read
    key = sm4.Sm4Key(bytes(range(16)))
    src = bytearray(16)
    dst = bytearray(16)
    key.encrypt_into(src, 0, dst, 0)
    gc.collect()
    gc.disable()
    try:
        before = gc.mem_alloc()
        for _ in range(50):
            key.encrypt_into(src, 0, dst, 0)
            key.decrypt_into(dst, 0, src, 0)
        used = gc.mem_alloc() - before
    finally:
        gc.enable()
    true(used < 64, "heap of 100 blocks: %d B" % used)
    eq(bytes(src), bytes(16))
