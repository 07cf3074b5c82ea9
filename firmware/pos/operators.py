# The operator store (柜员), reference §6.5:
#   99  system manager 系统管理员   8-digit password, factory 12345678 (5.设置)
#   00  supervisor 主管操作员       6-digit password, factory 123456 (manages operators,
#                                   authorises voids/refunds, never transacts)
#   01-98 operators 操作员          4-digit password, 01-05 shipped with 0000
# All inside state.extra (one atomic state file), with a random per-terminal salt.
# The store never saves by itself: callers change it, then call state.save() once.
#
# A password is kept as a slow salted hash, tagged with its scheme and work factor so
# that either interpreter can check what the other wrote:
#   "p1$N$hex"  PBKDF2-HMAC-SHA256, N iterations (CPython: hashlib.pbkdf2_hmac)
#   "s1$N$hex"  N rounds of SHA-256 over (previous digest + salt) after one over
#               (salt + code + ":" + password) (a board: MicroPython has no pbkdf2)
#   "f"         the factory password, not changed yet (the factory passwords are
#               printed in the manual: hashing them hides nothing)
#   64 hex      one round of SHA-256, as older versions stored it: it still checks,
#               and is replaced by the slow hash at the next successful login.
# A short password is never safe against someone who can read the file: a 4-digit
# cashier code falls to any hash; the slow hash buys time for the 6- and 8-digit ones
# and the data dir is its owner's only (0700/0600).
#
# Wrong passwords: three in a row lock checks of that password for LOCK_SECONDS of the
# terminal's own running time: the lock counts down by the clock seen between checks
# and ticks, each step at most _MAX_STEP seconds (a restart with another --date, or a
# clock set forward, counts as one step; a clock set back counts nothing), and it is
# kept in state, so neither a restart nor a changed date ends it.
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

_OPS = "ops"  # extra key: {code: stored hash (see above)}
_SALT = "op_salt"
_FAILS = "pw_fail"  # extra key: {code: [failures, lock_seconds_left, clock_seen_seconds]}
_MAX_STEP = const(5)  # seconds one observation of the clock may count (ticks are ~1 s)
_SAVE_EVERY = const(30)  # tick(): persist the count-down this often

# work factors (stored with each hash, so they can change without a migration):
PBKDF2_ROUNDS = const(100000)  # CPython: ~50 ms on this project's 2-vCPU EPYC VM
SHA_ROUNDS = const(1000)  # a board: ~0.1 s estimated on a Pico (README: how it was sized)


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
    # (from pos import vault: __import__ looks each level of a dotted name up among the
    # interned names twice, ~7,500 instructions each: "pos.vault" was four)
    from pos import vault

    return binascii.hexlify(vault.random_bytes(16)).decode()


def _hex(b):
    return binascii.hexlify(b).decode()


def _sha_rounds(salt, code, password, n):
    s = salt.encode()
    h = hashlib.sha256((salt + code + ":" + password).encode()).digest()
    for _ in range(n):
        h = hashlib.sha256(h + s).digest()
    return _hex(h)


def _pbkdf2(salt, code, password, n):
    pw = (code + ":" + password).encode()
    s = salt.encode()
    f = getattr(hashlib, "pbkdf2_hmac", None)
    if f is not None:
        return _hex(f("sha256", pw, s, n))
    # a board checking a hash a desktop made (slow, but it never locks anyone out)
    key = pw if len(pw) <= 64 else hashlib.sha256(pw).digest()
    key = key + bytes(64 - len(key))
    ipad = bytes([b ^ 0x36 for b in key])
    opad = bytes([b ^ 0x5C for b in key])

    def hmac(m):
        return hashlib.sha256(opad + hashlib.sha256(ipad + m).digest()).digest()

    u = hmac(s + bytes((0, 0, 0, 1)))
    acc = bytearray(u)
    for _ in range(n - 1):
        u = hmac(u)
        for i in range(32):
            acc[i] ^= u[i]
    return _hex(bytes(acc))


def _hash(salt, code, password):
    # the stored form of a new password, in this interpreter's scheme
    if getattr(hashlib, "pbkdf2_hmac", None) is not None:
        return "p1$%d$%s" % (PBKDF2_ROUNDS, _pbkdf2(salt, code, password, PBKDF2_ROUNDS))
    return "s1$%d$%s" % (SHA_ROUNDS, _sha_rounds(salt, code, password, SHA_ROUNDS))


def _legacy(salt, code, password):
    h = hashlib.sha256((salt + code + ":" + password).encode())
    return _hex(h.digest())


def _factory(code):
    for c, pw in FACTORY:
        if c == code:
            return pw
    return None


def _matches(stored, salt, code, password):
    # -> True if password is the one stored (any scheme)
    if stored == "f":
        return password == _factory(code)
    parts = stored.split("$")
    if len(parts) == 3 and parts[0] in ("p1", "s1"):
        try:
            n = int(parts[1])
        except ValueError:
            return False
        if parts[0] == "p1":
            return _pbkdf2(salt, code, password, n) == parts[2]
        return _sha_rounds(salt, code, password, n) == parts[2]
    return stored == _legacy(salt, code, password)


def ensure(state):
    # The table, created with the factory passwords on first use. -> True if it was
    # created now (the caller saves state when convenient; nothing is lost if it
    # does not: the factory table is made again the same way).
    ex = state.extra
    if _OPS in ex and _SALT in ex:
        return False
    # (a comprehension, not a loop here: a for's iterator took this frame over the 11 words
    # MicroPython keeps on the C stack, and a bigger one is taken from the heap at every call:
    # each password prompt)
    ex[_SALT] = _random_salt()
    ex[_OPS] = {code: "f" for code, _pw in FACTORY}
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
    return _matches(h, state.extra[_SALT], code, password)


def _upgrade(state, code, password):
    # after a successful login: an old single-round hash becomes the slow one
    table = _table(state)
    h = table.get(code, "")
    if h != "f" and "$" not in h:
        table[code] = _hash(state.extra[_SALT], code, password)


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
def _count_down(rec, now_s):
    # advance one lock's count-down to now_s -> seconds left
    if len(rec) < 3:  # [n, locked_until] of an older version
        left = rec[1] - now_s
        rec[:] = [rec[0], left if left < LOCK_SECONDS else LOCK_SECONDS, now_s]
    step = now_s - rec[2]
    if step < 0:
        step = 0  # the clock went back: that ends nothing
    elif step > _MAX_STEP:
        step = _MAX_STEP  # a restart, a new --date, a clock set forward: one step
    rec[1] = rec[1] - step if rec[1] > step else 0
    rec[2] = now_s
    return rec[1]


def locked_for(state, code, now_s):
    # -> seconds left of this password's lockout (0: not locked). Counts the lock
    # down to now_s (state.extra changes: the caller saves when convenient).
    f = state.extra.get(_FAILS) or {}
    rec = f.get(code)
    if not rec or rec[0] < MAX_TRIES:
        return 0
    return _count_down(rec, now_s)


def tick(state, now_s):
    # The clock, about once a second: counts every lock down. -> True when state
    # should be saved (a lock ended, or the count-down is worth keeping).
    f = state.extra.get(_FAILS)
    if not f:
        return False
    save = False
    for code in f:
        rec = f[code]
        if rec[0] < MAX_TRIES or rec[1] <= 0:
            continue
        before = rec[1]
        left = _count_down(rec, now_s)
        if left == 0 or before // _SAVE_EVERY != left // _SAVE_EVERY:
            save = True
    return save


def attempt(state, code, password, now_s):
    # One password try, with the lockout rule. -> (ok, tries_left, locked_seconds)
    #   ok: the password matched (the failure count is cleared; an old hash upgraded);
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
        _upgrade(state, code, password)
        return (True, MAX_TRIES, 0)
    n = (rec[0] if rec else 0) + 1
    if n >= MAX_TRIES:
        fails[code] = [n, LOCK_SECONDS, now_s]
        return (False, 0, LOCK_SECONDS)
    fails[code] = [n, 0, now_s]
    return (False, MAX_TRIES - n, 0)
