# A terminal's side of a chip transaction at the APDU level, for the card tests (not a
# kernel: the few steps a test needs, each checking its status word).
from pos.emv import tlv

H = bytes.fromhex


def cmd(cla, ins, p1, p2, data=None, le=True):
    out = bytearray((cla, ins, p1, p2))
    if data is not None:
        out.append(len(data))
        out.extend(data)
    if le:
        out.append(0)
    return bytes(out)


def send(card, apdu, want=b"\x90\x00"):
    r = card.apdu(apdu)
    if r[-2:] != want:
        raise AssertionError(
            "APDU %s -> SW %s, expected %s" % (apdu.hex(), r[-2:].hex(), want.hex())
        )
    return r[:-2]


def select(card, name, p2=0):
    return send(card, cmd(0x00, 0xA4, 0x04, p2, name))


def read_record(card, sfi, rec, want=b"\x90\x00"):
    return card.apdu(cmd(0x00, 0xB2, rec, (sfi << 3) | 4))


# what the terminal knows: amount 123.45, no other amount, China, TVR, yuan, date, sale, UN
TERMINAL = {
    0x9F02: H("000000012345"), 0x9F03: bytes(6), 0x9F1A: H("0156"), 0x95: H("8000000000"),
    0x5F2A: H("0156"), 0x9A: H("261201"), 0x9C: H("00"), 0x9F37: H("A1B2C3D4"),
    0x9F7A: H("00"),
}


def walk_to_arqc(card, pin, terminal=TERMINAL):
    # PSE -> the first application -> GPO -> the AFL's records -> VERIFY -> GENERATE AC
    # ARQC. Returns a dict of what the terminal learned (tags) and the CDOL1 data sent.
    fci = select(card, b"1PAY.SYS.DDF01")
    sfi = tlv.find(fci, 0x88)[0]
    directory = read_record(card, sfi, 1)[:-2]
    entries = [v for t, v, _ in tlv.walk(directory) if t == 0x4F]
    seen = {}
    fci = select(card, entries[0])
    seen.update(tlv.flatten(fci))
    pdol = tlv.find(fci, 0x9F38) or b""
    gpo = send(card, cmd(0x80, 0xA8, 0, 0, tlv.encode(0x83, tlv.build_dol_data(pdol, terminal))))
    seen.update(tlv.flatten(gpo))
    afl = seen[0x94]
    for i in range(0, len(afl), 4):
        for rec in range(afl[i + 1], afl[i + 2] + 1):
            r = read_record(card, afl[i] >> 3, rec)
            if r[-2:] != b"\x90\x00":
                raise AssertionError("record %d of SFI %d: %s" % (rec, afl[i] >> 3, r[-2:].hex()))
            seen.update(tlv.flatten(r[:-2]))
    if pin is not None:
        block = H(("2%X" % len(pin)) + pin + "F" * (14 - len(pin)))
        send(card, cmd(0x00, 0x20, 0x00, 0x80, block, le=False))
    cdol1_data = tlv.build_dol_data(seen[0x8C], terminal)
    gac = send(card, cmd(0x80, 0xAE, 0x80, 0x00, cdol1_data))
    seen.update(tlv.flatten(gac))
    seen["cdol1_data"] = cdol1_data
    return seen
