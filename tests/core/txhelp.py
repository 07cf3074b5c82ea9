# Helpers shared by the transaction tests (test_tx_*.py): key paths of the
# merchant's day on a Rig. Not a test module.
from rig import Rig
import fakecenter

PAN = "6212142000000000012"
PAN2 = "6212142000000000020"
SUPERVISOR = "123456"


def rig(center=None, storage=None):
    return Rig(center=center or fakecenter.Center(), storage=storage).sign_in()


def buy(r, amount="10000", pan=PAN):
    # 消费 with PIN; ENTER prints the cardholder copy; CANCEL back to idle
    r.press("MENU", "1", "2", amount, "ENTER", "CARD=" + pan, "123456", "ENTER", "ENTER")
    r.press("CANCEL")
    return r


def void(r, trace, pan=PAN, pin=""):
    r.press("MENU", "1", "3", SUPERVISOR, "ENTER", trace, "ENTER", "ENTER", "CARD=" + pan)
    r.press(pin, "ENTER") if pin else r.press("ENTER")
    return r


def settle(r):
    r.press("MENU", "1", "7", "ENTER")
    return r


def last_of(r, kind):
    for e in reversed(r.t.journal.entries()):
        if e.get("type") == kind:
            return e
    return None
