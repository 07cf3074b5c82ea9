# The customer's payment code (付款码), as the cashier's scanner reads it from the phone:
# which scheme it belongs to, by its length and first two digits (reference §12).
#   UnionPay QR   19 digits from 62
#   WeChat Pay    18 digits from 10 to 15
#   Alipay        16 to 24 digits from 25 to 30
UNIONPAY = "unionpay"
WECHAT = "wechat"
ALIPAY = "alipay"
SCHEMES = (UNIONPAY, WECHAT, ALIPAY)

# what a script's SCAN= token or the emulator's scanner says when a code is none of these
RULE = (
    "a payment code is 19 digits from 62 (UnionPay QR), 18 digits from 10-15 (WeChat Pay) "
    "or 16-24 digits from 25-30 (Alipay)"
)


def scheme(code):
    # -> UNIONPAY, WECHAT or ALIPAY; None for anything else (a product barcode, a typo)
    if not isinstance(code, str) or len(code) < 16 or len(code) > 24:
        return None
    for ch in code:
        if ch < "0" or ch > "9":
            return None
    head = int(code[0:2])
    if len(code) == 19 and head == 62:
        return UNIONPAY
    if len(code) == 18 and 10 <= head <= 15:
        return WECHAT
    if 25 <= head <= 30:
        return ALIPAY
    return None
