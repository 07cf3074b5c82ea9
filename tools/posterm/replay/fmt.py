"""Reading a recording's header and putting a difference into words (FORMAT.md)."""

import json

from posterm.replay import player


class RecordingError(Exception):
    """The file is not a recording this posterm can use; the message says why and where."""


def read_header(path):
    try:
        with open(path, encoding="utf-8") as f:
            first = f.readline()
    except UnicodeDecodeError:
        raise RecordingError(f"{path}: not a posterm recording (not UTF-8 text)") from None
    except OSError as e:
        raise RecordingError(f"{path}: {e.strerror or e}") from None
    if not first.strip():
        raise RecordingError(f"{path}: empty, not a posterm recording")
    try:
        h = json.loads(first)
    except ValueError:
        raise RecordingError(
            f"{path}: line 1 is not JSON: not a posterm recording (FORMAT.md)"
        ) from None
    why = player.check_header(h)
    if why is not None:
        raise RecordingError(f"{path}: {why}")
    return h


def check_lines(path):
    """Every line of the file is one JSON object (FORMAT.md): else RecordingError, one line
    that names the line, the column and what is wrong (a line cut off mid-JSON, the file's
    last, is a recording cut short)."""
    lines = []
    try:
        with open(path, encoding="utf-8") as f:
            for n, text in enumerate(f, 1):
                if text.strip():
                    lines.append((n, text))
    except UnicodeDecodeError:
        raise RecordingError(
            f"{path}: line {len(lines) + 1} is not UTF-8 text: not a posterm recording"
        ) from None
    except OSError as e:
        raise RecordingError(f"{path}: {e.strerror or e}") from None
    for i, (n, text) in enumerate(lines):
        try:
            rec = json.loads(text)
        except ValueError as e:
            msg = str(getattr(e, "msg", e))
            msg = msg[:-3] if msg.endswith(" at") else msg  # "Unterminated string starting at"
            why = f"{msg} at column {getattr(e, 'colno', '?')}"
            if i == len(lines) - 1:
                raise RecordingError(
                    f"{path}: line {n} is cut off mid-JSON ({why}): the file was cut short "
                    "there (a recording ends with its end line); record the session again"
                ) from None
            raise RecordingError(
                f"{path}: line {n} is not JSON ({why}): a recording is one JSON object a line "
                "(FORMAT.md)"
            ) from None
        if not isinstance(rec, dict):
            raise RecordingError(
                f"{path}: line {n} is JSON but not an object ({type(rec).__name__}): a "
                "recording is one JSON object a line (FORMAT.md)"
            )


def _event_words(v):
    if v is None:
        return "before the first input"
    if v == "start":
        return "at power-on (the first screen)"
    kind = v[0]
    if kind == "key":
        return f"after the key {v[1]}"
    if kind == "card":
        return f"after the card {v[1]}"
    if kind == "reply":
        return "after the center's answer"
    if kind == "timeout":
        return "after the center's answer timed out"
    if kind == "link_error":
        return f"after a link error ({v[1]})"
    if kind == "tick":
        return "after the clock tick %04d-%02d-%02d %02d:%02d:%02d" % tuple(v[1])
    return f"after {v}"


def _screen(rec):
    if not rec:
        return ["(nothing)"]
    if "show" in rec:
        rows = rec["show"]
        inv = rec.get("inv", 0)
        return [("▌" if inv & (1 << i) else "|") + r for i, r in enumerate(rows)]
    if "send" in rec:
        return [_frame_words(rec["send"])]
    if "print" in rec:
        return ["slip: " + " / ".join(t for _s, t in rec["print"] if t.strip())[:200]]
    return [json.dumps(rec, ensure_ascii=False)[:200]]


def _kind(rec):
    if not rec:
        return "nothing"
    for k, w in (("show", "a screen"), ("send", "a frame to the center"), ("print", "a slip")):
        if k in rec:
            return w
    return "something else"


def _frame_words(hexstr):
    text = f"{len(hexstr) // 2} bytes"
    try:
        from pos import iso8583

        _tpdu, _hdr, body = iso8583.unpack_frame(bytes.fromhex(hexstr))
        msg = iso8583.decode(body)
        text = f"MTI {msg['mti']}, " + text
    except Exception:  # noqa: BLE001 - words for a developer: the bytes are shown anyway
        pass
    return text


def _field_words(e, g):
    # the first ISO 8583 field that differs, in words ("field 11: expected '000002', got
    # '000003'"), or "" when the frames do not decode
    try:
        from pos import iso8583

        me = iso8583.decode(iso8583.unpack_frame(bytes.fromhex(e))[2])
        mg = iso8583.decode(iso8583.unpack_frame(bytes.fromhex(g))[2])
    except Exception:  # noqa: BLE001 - the bytes are shown anyway
        return ""
    keys = ["mti"] + sorted(k for k in set(me) | set(mg) if isinstance(k, int))
    for k in keys:
        a, b = me.get(k), mg.get(k)
        if a != b:
            name = "the MTI" if k == "mti" else f"field {k}"
            if a is None:
                return f"; {name} is new: {_short(b)}"
            if b is None:
                return f"; {name} is missing (expected {_short(a)})"
            return f"; {name}: expected {_short(a)}, got {_short(b)}"
    return ""


def _short(v):
    if isinstance(v, (bytes, bytearray)):
        v = bytes(v).hex().upper()
    text = repr(v) if not isinstance(v, str) else f"'{v}'"
    return text if len(text) <= 60 else text[:57] + "...'"


def _first_byte_diff(a, b):
    for i in range(min(len(a), len(b)) // 2):
        if a[2 * i : 2 * i + 2] != b[2 * i : 2 * i + 2]:
            return i
    return min(len(a), len(b)) // 2


def describe(d, path=None):
    """The first difference (player.py's dict) in words a developer reads."""
    what = d["what"]
    where = f"step {d['step']} (line {d['line']}), {_event_words(d.get('input'))}"
    exp, got = d.get("expected"), d.get("got")
    hint = ("\n  " + RERECORD.format(path=path)) if path else ""
    if what == "format":
        return f"bad recording at line {d['line']}: " + (
            f"expected {exp}, found {got}" if exp else str(got)
        )
    if what == "error":
        return f"{where}: the firmware failed: {got}"
    if what == "missing":
        return (
            f"{where}: the recording has {_kind(exp)} next, the firmware gave nothing more "
            "(it waits for input):\n  expected:\n    " + "\n    ".join(_screen(exp)) + hint
        )
    if what == "extra":
        return (
            f"{where}: the firmware gave {_kind(got)} the recording does not have:\n"
            "  got:\n    " + "\n    ".join(_screen(got)) + hint
        )
    if what in ("show", "print") or (what in ("send",) and "send" not in (got or {})):
        if what != "show" and got is not None and "show" in got:
            head = f"{where}: expected {_kind(exp)}, the firmware showed a screen"
        elif what == "show":
            head = f"{where}: the screen differs"
        else:
            head = f"{where}: the slip differs" if what == "print" else f"{where}: differs"
        return (
            head
            + "\n  expected:\n    "
            + "\n    ".join(_screen(exp))
            + "\n  got:\n    "
            + "\n    ".join(_screen(got))
            + hint
        )
    if what == "send":
        e, g = exp["send"], got["send"]
        i = _first_byte_diff(e, g)
        return (
            f"{where}: the frame sent to the center differs from byte {i} "
            f"(expected {_frame_words(e)}, got {_frame_words(g)}{_field_words(e, g)})\n"
            f"  expected: ...{e[max(0, 2 * i - 16) : 2 * i + 32]}\n"
            f"  got:      ...{g[max(0, 2 * i - 16) : 2 * i + 32]}" + hint
        )
    if what == "escpos":
        e, g = exp["escpos"], got["escpos"]
        i = _first_byte_diff(e, g)
        return (
            f"{where}: the slip's ESC/POS bytes differ from byte {i} (the lines match)\n"
            f"  expected: ...{e[max(0, 2 * i - 16) : 2 * i + 32]}\n"
            f"  got:      ...{g[max(0, 2 * i - 16) : 2 * i + 32]}" + hint
        )
    if what == "start":
        return f"{where}: {got}"
    return f"{where}: {what}: expected {exp}, got {got}"


RERECORD = "if the firmware changed on purpose, " + "re-record it: posterm record --update {path}"
