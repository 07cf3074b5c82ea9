# The operator store (柜员), reference §6.5:
#   99  system manager 系统管理员   8-digit password, factory 12345678 (5.设置)
#   00  supervisor 主管操作员       6-digit password, factory 123456 (manages operators,
#                                   authorises voids/refunds, never transacts)
#   01-98 operators 操作员          4-digit password, 01-05 shipped with 0000
# Passwords are kept as sha256(salt + code + ":" + password), with a random
# per-terminal salt, all inside state.extra (one atomic state file). The store
# never saves by itself: callers change it, then call state.save() once.
#
# Wrong passwords: three in a row lock checks of that password for LOCK_SECONDS
# (the count and the deadline are in state too, so a restart does not clear them).
import hashlib
import binascii
from pos.compat import const

ADMIN = "99"
SUPERVISOR = "00"
FACTORY = (
    ("99", "12345678"),
    ("00", "123456"),
    ("01", "0000"),
    ("02", "0000"),
    ("03", "0000"),
    ("04", "0000"),
    ("05", "0000"),
)
MAX_OPERATORS = const(40)  # cashiers (01-98) a terminal holds; the spec asks for >= 20
MAX_TRIES = const(3)
LOCK_SECONDS = const(300)

_OPS = "ops"  # extra key: {code: hash hex}
_SALT = "op_salt"
_FAILS = "pw_fail"  # extra key: {code: [failures, locked_until_seconds]}


class OperatorError(ValueError):
    # reason: "bad_number" | "reserved" | "exists" | "not_found" | "full" | "bad_password"
    #         | "current"
    def __init__(self, reason, code=""):
        super().__init__("operator %s: %s" % (code, reason))
        self.reason = reason
        self.code = code


def role(code):
    if code == ADMIN:
        return "admin"
    if code == SUPERVISOR:
        return "supervisor"
    return "operator"


def password_length(code):
    if code == ADMIN:
        return 8
    if code == SUPERVISOR:
        return 6
    return 4


def can_transact(code):
    return code not in (ADMIN, SUPERVISOR)


def _digits(s):
    if not s:
        return False
    for ch in s:
        if ch < "0" or ch > "9":
            return False
    return True


def valid_operator_number(code):
    # a cashier's number: two digits, not 00 (supervisor) nor 99 (system manager)
    return len(code) == 2 and _digits(code) and code not in (ADMIN, SUPERVISOR)


def _random_salt():
    try:
        import os

        return binascii.hexlify(os.urandom(16)).decode()
    except (ImportError, AttributeError, OSError, NotImplementedError):
        import random

        out = ""
        for _ in range(4):
            out += "%08x" % random.getrandbits(32)
        return out


def _hash(salt, code, password):
    h = hashlib.sha256((salt + code + ":" + password).encode())
    return binascii.hexlify(h.digest()).decode()


def ensure(state):
    # The table, created with the factory passwords on first use. -> True if it was
    # created now (the caller saves state when convenient; nothing is lost if it
    # does not: the factory table is made again the same way).
    ex = state.extra
    if _OPS in ex and _SALT in ex:
        return False
    salt = _random_salt()
    table = {}
    for code, pw in FACTORY:
        table[code] = _hash(salt, code, pw)
    ex[_SALT] = salt
    ex[_OPS] = table
    return True


def _table(state):
    ensure(state)
    return state.extra[_OPS]


def exists(state, code):
    return code in _table(state)


def cashiers(state):
    # operator numbers that can transact, sorted
    out = [c for c in _table(state) if can_transact(c)]
    out.sort()
    return out


def check(state, code, password):
    # -> True if password is this operator's. Does not count failures (see attempt).
    table = _table(state)
    h = table.get(code)
    if h is None or len(password) != password_length(code):
        return False
    return h == _hash(state.extra[_SALT], code, password)


def _check_password_shape(code, password):
    if len(password) != password_length(code) or not _digits(password):
        raise OperatorError("bad_password", code)


def set_password(state, code, password):
    table = _table(state)
    if code not in table:
        raise OperatorError("not_found", code)
    _check_password_shape(code, password)
    table[code] = _hash(state.extra[_SALT], code, password)


def add(state, code, password):
    table = _table(state)
    if code in (ADMIN, SUPERVISOR):
        raise OperatorError("reserved", code)
    if not valid_operator_number(code):
        raise OperatorError("bad_number", code)
    if code in table:
        raise OperatorError("exists", code)
    if len(cashiers(state)) >= MAX_OPERATORS:
        raise OperatorError("full", code)
    _check_password_shape(code, password)
    table[code] = _hash(state.extra[_SALT], code, password)


def remove(state, code):
    table = _table(state)
    if code in (ADMIN, SUPERVISOR):
        raise OperatorError("reserved", code)
    if code not in table:
        raise OperatorError("not_found", code)
    if code == state.operator:
        raise OperatorError("current", code)
    del table[code]
    f = state.extra.get(_FAILS)
    if f and code in f:
        del f[code]


# -- wrong-password lockout ---------------------------------------------------
def locked_for(state, code, now_s):
    # -> seconds left of this password's lockout (0: not locked)
    f = state.extra.get(_FAILS) or {}
    rec = f.get(code)
    if not rec or rec[0] < MAX_TRIES:
        return 0
    left = rec[1] - now_s
    if left <= 0:
        return 0
    if left > LOCK_SECONDS:  # the clock went back: never lock longer than LOCK_SECONDS
        rec[1] = now_s + LOCK_SECONDS
        left = LOCK_SECONDS
    return left


def attempt(state, code, password, now_s):
    # One password try, with the lockout rule. -> (ok, tries_left, locked_seconds)
    #   ok: the password matched (the failure count is cleared);
    #   tries_left: wrong tries left before the lock (when not ok);
    #   locked_seconds: > 0 when the password is locked (now or still).
    # Changes state.extra; the caller saves state.
    left = locked_for(state, code, now_s)
    if left > 0:
        return (False, 0, left)
    fails = state.extra.get(_FAILS)
    if fails is None:
        fails = {}
        state.extra[_FAILS] = fails
    rec = fails.get(code)
    if rec is not None and rec[0] >= MAX_TRIES:  # an expired lock: start again
        rec = None
    if check(state, code, password):
        if code in fails:
            del fails[code]
        return (True, MAX_TRIES, 0)
    n = (rec[0] if rec else 0) + 1
    if n >= MAX_TRIES:
        fails[code] = [n, now_s + LOCK_SECONDS]
        return (False, 0, LOCK_SECONDS)
    fails[code] = [n, 0]
    return (False, MAX_TRIES - n, 0)
