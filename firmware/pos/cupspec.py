# CUP (UnionPay) POS dialect of ISO 8583: one spec per field, as data.
#
# Each entry is (name, kind, lentype, maxlen, align):
#   kind    'n'   packed BCD digits (value str)
#           'z'   track data, packed BCD with '=' as nibble D (value str)
#           'an'  ASCII letters, digits and space (value str)
#           'ans' printable ASCII (value str)
#           'b'   binary (value bytes)
#   lentype 0 fixed, 2 LLVAR (1 byte BCD length), 3 LLLVAR (2 bytes BCD length)
#   maxlen  digits for n/z, characters for an/ans, bytes for b
#   align   'r' or 'l': where the pad nibble of an odd-length fixed n field goes
#           ('r' = right-aligned, leading 0; 'l' = left-aligned, trailing 0).
#           Variable n/z data is always left-aligned (trailing 0 nibble).
# Reference: /work/shared/reference/cup8583.md section 2.

FIELDS = (
    None,  # 0: MTI, handled by the codec
    None,  # 1: secondary bitmap, not used in this dialect
    ("PAN", "n", 2, 19, "l"),
    ("Processing code", "n", 0, 6, "r"),
    ("Amount", "n", 0, 12, "r"),
    ("Settlement amount", "n", 0, 12, "r"),
    ("Billing amount", "n", 0, 12, "r"),
    ("Transmission time", "n", 0, 10, "r"),
    ("Billing fee", "n", 0, 8, "r"),
    ("Settlement rate", "n", 0, 8, "r"),
    ("Billing rate", "n", 0, 8, "r"),
    ("Trace", "n", 0, 6, "r"),
    ("Local time", "n", 0, 6, "r"),
    ("Local date", "n", 0, 4, "r"),
    ("Expiry", "n", 0, 4, "r"),
    ("Settlement date", "n", 0, 4, "r"),
    ("Conversion date", "n", 0, 4, "r"),
    ("Capture date", "n", 0, 4, "r"),
    ("Merchant type", "n", 0, 4, "r"),
    ("Acq country", "n", 0, 3, "r"),
    ("PAN country", "n", 0, 3, "r"),
    ("Fwd country", "n", 0, 3, "r"),
    ("Entry mode", "n", 0, 3, "l"),
    ("Card seq no", "n", 0, 3, "r"),
    ("Network id", "n", 0, 3, "r"),
    ("Condition code", "n", 0, 2, "r"),
    ("PIN capture", "n", 0, 2, "r"),
    ("Auth id length", "n", 0, 1, "r"),
    ("Txn fee", "an", 0, 9, "r"),
    ("Settlement fee", "an", 0, 9, "r"),
    ("Txn proc fee", "an", 0, 9, "r"),
    ("Settl proc fee", "an", 0, 9, "r"),
    ("Acquirer id", "n", 2, 11, "l"),
    ("Forwarder id", "n", 2, 11, "l"),
    ("Extended PAN", "ans", 2, 28, "l"),
    ("Track 2", "z", 2, 37, "l"),
    ("Track 3", "z", 3, 104, "l"),
    ("RRN", "an", 0, 12, "r"),
    ("Auth code", "an", 0, 6, "r"),
    ("Response code", "an", 0, 2, "r"),
    ("Service restriction", "an", 0, 3, "r"),
    ("Terminal id", "ans", 0, 8, "r"),
    ("Merchant id", "ans", 0, 15, "r"),
    ("Merchant name/loc", "ans", 0, 40, "r"),
    ("Add. response data", "ans", 2, 25, "l"),
    ("Track 1", "ans", 2, 76, "l"),
    ("Add. data ISO", "ans", 3, 999, "l"),
    ("Add. data national", "ans", 3, 999, "l"),
    ("Add. data private", "n", 3, 322, "l"),
    ("Currency", "an", 0, 3, "r"),
    ("Settl. currency", "an", 0, 3, "r"),
    ("Billing currency", "an", 0, 3, "r"),
    ("PIN block", "b", 0, 8, "r"),
    ("Security control", "n", 0, 16, "r"),
    ("Balance", "an", 3, 40, "l"),  # one entry of 20, or two (ledger, available)
    ("IC data", "b", 3, 255, "l"),
    ("Reserved ISO 56", "ans", 3, 999, "l"),
    ("Reserved 57", "ans", 3, 999, "l"),
    ("Reserved 58", "ans", 3, 999, "l"),
    ("Reserved 59", "ans", 3, 999, "l"),
    ("Reserved private 60", "n", 3, 17, "l"),
    ("Original txn", "n", 3, 29, "l"),
    ("Reserved private 62", "b", 3, 512, "l"),
    ("Reserved private 63", "ans", 3, 163, "l"),
    ("MAC", "b", 0, 8, "r"),
)


def field_spec(number):
    # The spec tuple of a field, or None when the dialect has no such field.
    if 2 <= number <= 64:
        return FIELDS[number]
    return None
