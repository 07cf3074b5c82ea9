# The chip lines of a slip, as CUP chip slips print them (pos.receipt calls this for a
# record read from a chip or a tap): 卡类型 (IC卡 / 非接), the application's label and AID,
# the cryptogram (TC; ARQC for a contactless online approval), ATC, TVR and TSI; a tap
# under the 双免 limit says 免密免签 instead of asking for a signature.


def lines(t, rec, add):
    s = t.s
    kind = "slip_card_ic" if rec.get("ic") == "chip" else "slip_card_qps"
    add("", s("slip_card_kind") + s(kind))
    if rec.get("app_label"):
        add("", s("slip_app_label") + rec["app_label"])
    add("", "AID:" + rec.get("aid", ""))
    add("", rec.get("ac_type", "TC") + ":" + rec.get("ac", ""))
    add("", "ATC:" + rec.get("atc", "") + " TVR:" + rec.get("tvr", ""))
    add("", "TSI:" + rec.get("tsi", ""))


def no_signature(rec):
    return bool(rec.get("no_cvm"))
