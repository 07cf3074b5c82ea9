"""Pretty-print ISO 8583 frames of the CUP dialect (used by the CLI and by the host's logs)."""

import json
import os

from pos import iso8583, mac
from pos.cupspec import FIELDS
from pos.gbk import raw as _raw_bytes
from pos.iso8583 import Iso8583Error

from posterm import paths

_DOTS = 26  # width of "F002 PAN ......" before the value


def _mask_pan(pan):
    if len(pan) <= 10:
        return pan
    return pan[:6] + "*" * (len(pan) - 10) + pan[-4:]


def _mask_track(track):
    # Keep the PAN's first 6 and last 4; hide the rest (expiry, service code, discretionary).
    pan, sep, _rest = track.partition("=")
    return _mask_pan(pan) + ("=" + "*" * len(_rest) if sep else "")


def _orgs():
    with open(os.path.join(paths.MENUS_DIR, "card_orgs.json"), encoding="utf-8") as f:
        return json.load(f)


def _text(value):
    # an ans field as the sender meant it: GBK (Chinese from real hosts) when not UTF-8
    if any(ord(c) > 0xFF for c in value) or all(ord(c) < 0x80 for c in value):
        return value
    data = _raw_bytes(value)
    try:
        return data.decode("gbk")
    except UnicodeDecodeError:
        return value.encode("unicode_escape").decode()


def _value_text(number, value):
    if number == 2:
        return _mask_pan(value)
    if number in (35, 36):
        return _mask_track(value)
    if number == 52:
        return f"({len(value)} bytes)" + (" SM4 PIN block" if len(value) == 16 else "")
    if number == 62 and isinstance(value, bytes):
        return f"({len(value)} bytes) {value.hex().upper()}"
    if isinstance(value, bytes):
        text = value.hex().upper()
        printable = all(0x20 <= c < 0x7F for c in value)
        return f"{text} ({value.decode()})" if printable and value else text
    return _text(value)


def _line(label, value):
    head = label + " "
    return head + "." * max(2, _DOTS - len(head)) + " " + value


def _is_frame(data):
    return len(data) >= 13 and ((data[0] << 8) | data[1]) == len(data) - 2 and data[2] == 0x60


def _keys_lines(msg, tmk):
    """The working keys of a sign-in reply's field 62 under the TMK, as the terminal reads
    them (pos.keyload: by the field's length, every check value verified; SM keys after a
    60.3 of 005 / 006): "KEYS: OK ..." and a line per key, or "KEYS: REFUSED (why)"."""
    from pos import keyload

    f62 = msg.get(62)
    if not isinstance(f62, (bytes, bytearray)):
        return ["KEYS: REFUSED (no field 62 of keys)"]
    sm = msg.get(60, "")[8:11] in keyload.SM_LAYOUTS
    try:
        keys = keyload.unpack_signin_keys_all(f62, tmk, sm)
    except keyload.KeyCheckError as e:
        return [f"KEYS: REFUSED ({e})"]
    if sm:
        from pos.sm4 import kcv
    else:
        from pos.des import kcv
    size = {8: "single", 16: "double", 24: "triple"}[len(keys[0])]
    what = "SM4" if sm else size + " length"
    lines = [f"KEYS: OK (field 62 of {len(f62)} bytes: {what}, check values verified)"]
    for name, key in zip(("PIK", "MAK", "TDK"), keys, strict=True):
        if key is None:
            continue
        check = kcv(key).hex().upper()
        if name == "TDK" and len(f62) == 56 and not sm and len(keys[0]) == 16:
            check += ", not in this layout"
        lines.append(_line(f"  {name}", f"{key.hex().upper()} (check value {check})"))
    return lines


def describe(frame, mak=None, algo="ecb", tmk=None):
    """Describe a full frame (with LEN) or a bare body (MTI onwards), one line per part;
    tmk: the working keys of field 62 (a sign-in reply) decrypted and checked under it."""
    if isinstance(frame, str):
        try:
            frame = bytes.fromhex("".join(frame.split()))
        except ValueError:
            raise Iso8583Error("len", None, "not hex text")
    if not isinstance(frame, (bytes, bytearray, memoryview)):
        raise Iso8583Error("len", None, "expected bytes or hex text")
    data = bytes(frame)
    lines = []
    if _is_frame(data):
        tpdu, header, body = iso8583.unpack_frame(data)
        lines.append(_line("LEN", f"{len(data) - 2} ({data[:2].hex().upper()})"))
        lines.append(
            _line(
                "TPDU",
                f"{tpdu.hex().upper()} (id 60, dest {tpdu[1:3].hex().upper()},"
                f" source {tpdu[3:5].hex().upper()})",
            )
        )
        lines.append(_line("HEADER", header.hex().upper()))
    else:
        body = data
    try:
        msg = iso8583.decode(body)
    except Iso8583Error:
        n = (data[0] << 8) | data[1] if len(data) >= 2 else -1
        if body is data and len(data) >= 13 and data[2] == 0x60 and 0 < n < 8192:
            # a frame (LEN, TPDU 60 ...) whose length prefix disagrees: a capture cut short
            # or with bytes after it, not a body (its "MTI" would be the length)
            raise Iso8583Error("len", 0, f"the length prefix says {n} bytes and "
                               f"{len(data) - 2} follow: " + (
                                   "the frame is cut short" if n > len(data) - 2
                                   else "bytes follow the frame (give only its "
                                   f"{n + 2} bytes)")) from None  # fmt: skip
        raise
    lines.append(_line("MTI", msg["mti"]))
    numbers = sorted(k for k in msg if k != "mti")
    lines.append(
        _line("BITMAP", body[2:10].hex().upper() + " [" + " ".join(str(n) for n in numbers) + "]")
    )
    for n in numbers:
        name = FIELDS[n][0]
        value = msg[n]
        lines.append(_line(f"F{n:03d} {name}", _value_text(n, value)))
        if n == 60:
            lines.append(_line("  60.1 txn type", value[0:2]))
            if len(value) > 2:
                lines.append(_line("  60.2 batch", value[2:8]))
            if len(value) > 8:
                lines.append(_line("  60.3 network code", value[8:11]))
            if len(value) > 11:
                lines.append(_line("  60.4 read capability", value[11:12]))
            if len(value) > 12:
                lines.append(_line("  60.5 IC condition", value[12:13]))
            if len(value) > 13:
                lines.append(_line("  60.6+ flags", value[13:]))
        if n == 63 and msg["mti"][1] in "12" and msg["mti"][2] in "13" and len(value) >= 3:
            org = _orgs().get(value[0:3])
            name = f"{org['en']} {org['zh']}" if org else "unknown"
            lines.append(_line("  63.1 card organisation", f"{value[0:3]} ({name})"))
            if len(value) > 3:
                lines.append(_line("  63.2 issuer/acquirer", _text(value[3:]).strip()))
    if tmk is not None:
        lines.extend(_keys_lines(msg, tmk))
    if mak is not None:
        got = msg.get(64)
        if got is None:
            lines.append("MAC: ABSENT (no field 64)")
        else:
            # over the bytes as received: MTI .. the byte before field 64 (the last field)
            mab = body[: len(body) - 8]
            want = mac.compute(algo, mak, mab)
            if mac.verify(algo, mak, mab, got):
                lines.append("MAC: OK")
            else:
                shown = want.decode() if algo in ("ecb", "sm4") else want.hex().upper()
                lines.append(f"MAC: MISMATCH (expected {shown})")
    return "\n".join(lines)
