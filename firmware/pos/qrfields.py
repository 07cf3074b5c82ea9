# The fields of a QR payment's requests (reference §12): the customer's payment code as a
# card tuple of pos.card (entry "03"), and 22 / 59 as the public CUP-dialect QR code sends
# them. The terminal (pos.request, pos.flows.qrpay) and the center (tools/posterm/host/qr.py)
# read 59 with code_of. Loaded for QR payments only.
from pos.request import z


def card(code):
    # a scanned payment code (付款码) as the card tuple of pos.card: entry "03"
    return (code, "", "03", "", "")


def fields(msg, code):
    # The payment code's fields (reference §12, the public CUP-dialect QR code): 22 = 032
    # (a scanned code, no PIN), 59 = tag A3, its length (n3) and the code; no 2, 14 or 35.
    msg[22] = "032"
    msg[59] = "A3" + z(len(code), 3) + code
    return msg


def code_of(f59):
    # the payment code in a 59 (tag A3 among tag + n3 length + value entries), or ""
    i = 0
    while i + 5 <= len(f59):
        tag, n = f59[i : i + 2], f59[i + 2 : i + 5]
        if not n.isdigit():
            return ""
        value = f59[i + 5 : i + 5 + int(n)]
        if tag == "A3":
            return value
        i += 5 + int(n)
    return ""
