# The chip's end of a purchase (pos.flows.chip), an overlay of its own: the center's answer
# given to the card (issuer authentication with 91, scripts 71 / 72, the second GENERATE AC)
# and the kernel's data put where the journal, the reversal and the advice need it. Plain
# function: no screen, no wait.
from pos import card as cardmod
from pos.emv import finish as emvend


def finish(t, ev, ctx, reply, rec, rev=True):
    # -> "TC" (the card accepts the approval), "AAC" (it refuses it), or None (declined or no
    # answer: the card was closed with an AAC). reply: the center's approval, or None. rev:
    # the type is reversible (an inquiry arms no reversal: none is updated)
    contactless = ev[0] == "tap"
    result = None
    ctx = emvend.unpack(ctx)  # (pos.emv.kernel.trim packed it for the exchange)
    if not contactless:
        # pulled out before the second GENERATE AC: no TC (an approval is then reversed)
        icc = cardmod.icc_of(ev) if t.card_in else None
        try:
            if icc is None:
                raise emvend.ChipError("the card is gone")
            declined = getattr(t, "declined", None)
            t.declined = None
            if reply is None and declined:
                # the issuer declined: its ARC (and 91, so the card authenticates it)
                emvend.complete(icc, ctx, declined[1], declined[0].encode(), False)
            elif reply is None:
                # no answer (Z3: unable to go online): the card ends with an AAC
                emvend.complete(icc, ctx, b"", b"Z3", False)
            else:
                code = reply.get(39, "00")
                result = emvend.complete(icc, ctx, reply.get(55) or b"", code.encode(), True)
        except emvend.ChipError as e:
            t.emit(("log", "warn", "chip failed after the answer: %s" % e))
            result = "AAC" if reply is not None else None
        icc = None
    elif reply is not None:
        result = "TC"  # qUICS: the card has left the field; the ARQC stands for it
    emvend.record_fields(ctx, rec, contactless, rec.get("no_cvm", False))
    # the armed reversal carries the reversal tag set as the card ends (TVR, DF31 ...)
    # (its PAN stays sealed: no 3DES while the card's code is loaded)
    if rev:
        t.state.update_reversal("55", emvend.reversal55(ctx).hex())
    return result
