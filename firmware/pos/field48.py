# Field 48 of settlement and batch upload (reference §3.4, §3.5, §11), built and parsed here
# for both sides: the terminal (pos.settlement, pos.flows.closebatch) and the center
# (tools/posterm/host/processor.py). Plain strings of digits; a malformed field raises
# Field48Error (a ValueError) naming the offset and what was expected.
#
# 0500 / 0510, 62 digits: the domestic (内卡) half, then the foreign (外卡) half, each
#   debit amount n12, debit count n3, credit amount n12, credit count n3, flag n1
#   (request: 0; answer: 1 balanced 对账平, 2 not 对账不平, 3 error 对账错误).
# 0320 / 60.3 = 201 (magnetic stripe records): NN (n2, at most 8), then NN records of 40:
#   00 domestic / 01 foreign (n2), trace n6, PAN right-aligned in n20, amount n12.
# 0320 / 202 or 207 (end of the upload): the number of records uploaded, n4.
# IC records (60.3 = 203 / 205 TCs, 204 / 206) travel one per 0320 with their own fields
# (2, 4, 11, 22, 23, 55, 62: pos.flows.tcupload), no 48: the kind of each upload message is
# upload_kind(60.3), so that a center reads a 0320 by what it carries.
from pos.request import z as _z

TOTALS_LEN = 62
HALF_LEN = 31
RECORD_LEN = 40
RECORDS_PER_MESSAGE = 8
BALANCED = "1"
UNBALANCED = "2"
ERROR = "3"
DOMESTIC = "00"
FOREIGN = "01"

# 0320 60.3 -> what the message carries (reference §2.1, §3.5)
_UPLOADS = {"201": "stripe", "202": "end", "207": "end", "203": "ic_tc", "205": "ic_tc",
            "204": "ic", "206": "ic"}  # fmt: skip


class Field48Error(ValueError):
    def __init__(self, what, offset, expected, got):
        super().__init__("field 48 (%s) at offset %d: expected %s, got %r"
                         % (what, offset, expected, got))  # fmt: skip
        self.offset = offset


def _digits(text, offset, n, what):
    # n ASCII digits at offset (str.isdigit would take "¹" and other Unicode digits)
    part = text[offset : offset + n]
    ok = len(part) == n
    for ch in part:
        if ch < "0" or ch > "9":
            ok = False
    if not ok:
        raise Field48Error(what, offset, "%d digits" % n, part)
    return part


# -- settlement totals (0500 / 0510) ------------------------------------------------------
def half(debit_count, debit_fen, credit_count, credit_fen, flag="0"):
    # one 31-digit half: amounts n12, counts n3 (modulo 1000, as terminals send them)
    return (_z(debit_fen, 12) + _z(debit_count % 1000, 3) + _z(credit_fen, 12)
            + _z(credit_count % 1000, 3) + flag)  # fmt: skip


def totals(domestic, foreign, flags="00"):
    # domestic, foreign: (debit count, debit fen, credit count, credit fen) -> 62 digits
    return half(domestic[0], domestic[1], domestic[2], domestic[3], flags[0]) + half(
        foreign[0], foreign[1], foreign[2], foreign[3], flags[1]
    )


def parse_totals(f48):
    # -> (domestic, foreign, flags): the halves as (debit count, debit fen, credit count,
    # credit fen) and the two flags ("00" in a request). A longer field keeps its tail to
    # itself (answer() gives it back).
    if len(f48) < TOTALS_LEN:
        raise Field48Error("totals", len(f48), "%d digits" % TOTALS_LEN, f48)
    out = []
    flags = ""
    for h in (0, HALF_LEN):
        debit_fen = int(_digits(f48, h, 12, "debit amount"))
        debit_count = int(_digits(f48, h + 12, 3, "debit count"))
        credit_fen = int(_digits(f48, h + 15, 12, "credit amount"))
        credit_count = int(_digits(f48, h + 27, 3, "credit count"))
        flags += _digits(f48, h + 30, 1, "settle flag")
        out.append((debit_count, debit_fen, credit_count, credit_fen))
    return out[0], out[1], flags


def same_half(f48, h, totals_half):
    # the totals of half h (0 domestic, 1 foreign) of a request equal these (the flag aside)
    start = h * HALF_LEN
    return f48[start : start + 30] == half(*totals_half)[:30]


def answer(f48, domestic_ok, foreign_ok):
    # the 0510's 48: the request's totals with each half's flag set (1 balanced, 2 not)
    d = BALANCED if domestic_ok else UNBALANCED
    f = BALANCED if foreign_ok else UNBALANCED
    return f48[0:30] + d + f48[31:61] + f + f48[62:]


def flags(f48):
    # 0510 field 48 -> (domestic flag, foreign flag); ("3", "3") (error) when unreadable
    if len(f48) < TOTALS_LEN:
        return (ERROR, ERROR)
    return (f48[30], f48[61])


# -- batch upload (0320) ------------------------------------------------------------------
def record(foreign, trace, pan, fen):
    # one stripe record: 00 domestic / 01 foreign, trace n6, PAN in n20, amount n12
    return (FOREIGN if foreign else DOMESTIC) + _z(trace, 6) + _z(pan, 20) + _z(fen, 12)


def records(recs):
    # a 0320/201's 48 from at most 8 records (record() strings)
    if not 0 < len(recs) <= RECORDS_PER_MESSAGE:
        raise Field48Error("upload", 0, "1 to %d records" % RECORDS_PER_MESSAGE, len(recs))
    return _z(len(recs), 2) + "".join(recs)


def parse_records(f48):
    # -> [(foreign, trace, pan, fen)] of a 0320/201's 48
    n = int(_digits(f48, 0, 2, "record count"))
    if not 0 < n <= RECORDS_PER_MESSAGE:
        raise Field48Error("upload", 0, "1 to %d records" % RECORDS_PER_MESSAGE, f48[0:2])
    if len(f48) != 2 + RECORD_LEN * n:
        raise Field48Error("upload", len(f48), "%d digits" % (2 + RECORD_LEN * n), f48)
    out = []
    for i in range(n):
        at = 2 + RECORD_LEN * i
        flag = _digits(f48, at, 2, "domestic/foreign")
        if flag not in (DOMESTIC, FOREIGN):
            raise Field48Error("upload", at, "00 or 01", flag)
        trace = _digits(f48, at + 2, 6, "trace")
        pan = _digits(f48, at + 8, 20, "PAN").lstrip("0")
        fen = int(_digits(f48, at + 28, 12, "amount"))
        out.append((flag == FOREIGN, trace, pan, fen))
    return out


def end(count):
    # the end of the upload (0320 / 202 or 207): the number of records uploaded, n4
    return _z(count % 10000, 4)


def parse_end(f48):
    return int(_digits(f48, 0, 4, "records uploaded"))


def upload_kind(f603):
    # -> "stripe" | "end" | "ic_tc" | "ic", or None for a 60.3 that is no batch upload
    return _UPLOADS.get(f603)
