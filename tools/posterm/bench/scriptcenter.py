# The one scripted center: it answers the terminal's frames with the core's own codec and
# crypto, for the core tests (tests/core/fakecenter.py re-exports it) and for the bench's
# cashier's day (walk.py: DayCenter). The real host (tools/posterm/host) is tested separately,
# and end to end over TCP in tests/test_cli_keys.py.
# Runs unchanged on CPython and MicroPython: tests/mp (worker.mjs, unixside.py) puts this
# file on the core tests' path, the bench (mp.mjs, keylatency.py) copies it next to walk.py.
# So it follows the firmware's rules (no typing, no f-strings) and imports pos.* only when
# it answers: the bench takes its heap baseline before any firmware module is loaded.

TMK_HEX = "11111111111111112222222222222222"
PIK_HEX = "0123456789ABCDEFFEDCBA9876543210"
MAK_HEX = "89ABCDEF01234567"
TMK = bytes.fromhex(TMK_HEX)
PIK = bytes.fromhex(PIK_HEX)
MAK = bytes.fromhex(MAK_HEX)
TDK = bytes.fromhex("FEDCBA98765432100123456789ABCDEF")
# triple-length (3-key) keys of the 56 / 84 layouts (layout:56x3, layout:84; mak24: the MAK too)
PIK3 = bytes.fromhex(PIK_HEX + "1032547698BADCFE")
TDK3 = bytes.fromhex("FEDCBA98765432100123456789ABCDEF" + "0246813579ACE0BD")
MAK3 = bytes.fromhex(MAK_HEX + "FEDCBA9876543210" + "0F1E2D3C4B5A6978")
ICBC_GBK = bytes.fromhex("d6d0b9fab9a4c9ccd2f8d0d0")  # 中国工商银行 in GBK


class Center:
    # The tests' center: it keeps every request and reply (requests, replies, last()).
    KEEP = True
    # The request fields every reply echoes.
    ECHO = (2, 3, 4, 11, 25, 41, 42, 49, 60)
    # A parameter download (0800, 60.3 = 360) answered as a sign-in (keys in 62) instead of
    # "12" / params_f62.
    KEYS_FOR_PARAMS = False
    # The center is another machine: the modules it loads to answer are dropped again
    # (pos.overlay, on MicroPython), so that they never count in the terminal's heap.
    APART = False
    # What a test may set (class defaults, so that DayCenter's instance holds only its
    # counters and keys):
    menu_json = None
    menu_version = 1
    balance = 123456  # fen, field 54 of a balance inquiry
    available = None  # fen: 54 carries two entries, ledger (01) then available (02)
    params_f62 = None  # field 62 of a parameter download (360); None: answered 12
    no_menu = None  # "12" / "30" / "40": the answer to a menu download (930)
    issuer_gbk = ICBC_GBK  # 63.2 of a "gbk63" reply (the issuer's name, GBK bytes)
    mode = ()
    requests = ()
    replies = ()

    def __init__(self, menu_json=None, menu_version=1):
        self.rrn = 0
        self.count = 0  # requests answered
        self.tmk = bytes.fromhex(TMK_HEX)
        self.pik = bytes.fromhex(PIK_HEX)
        self.mak = bytes.fromhex(MAK_HEX)
        if self.KEEP:
            # a queue of one-shot behaviours: "timeout", "link", "badmac", "code:NN",
            # "badkcv", "drop:F" (the reply lacks field F), "need:N" (processing requirement
            # N in the reply header), "unbalanced" (settlement), "layout:N" (sign-in keys),
            # "org:XXX", "gbk63", "fpad"; several joined by "+", e.g. "code:51+badmac"
            self.mode = []
            self.replies = []
            self.requests = []
            self.menu_json = menu_json
            self.menu_version = menu_version

    def then(self, *modes):
        for m in modes:
            self.mode.append(m)
        return self

    def answer(self, frame, timeout=None):
        if not self.APART:
            return self._answer(frame)
        from pos import overlay

        before = overlay.loaded() if overlay.ENABLED else None
        try:
            return self._answer(frame)
        finally:
            if before is not None:
                overlay.unload(before)

    def _answer(self, frame):
        from pos import iso8583, mac, keyload

        tpdu, header, body = iso8583.unpack_frame(frame)
        req = iso8583.decode(body)
        self.count += 1
        if self.KEEP:
            self.requests.append(req)
        modes = (self.mode.pop(0) if self.mode else "ok").split("+")
        mode = modes[0]
        if mode == "timeout":
            return ("timeout",)
        if mode == "link":
            return ("link_error", "connection refused", False)
        mti = req["mti"]
        rep = {"mti": "0" + str(int(mti) + 10)}
        for f in self.ECHO:
            if f in req:
                rep[f] = req[f]
        code = mode[5:] if mode.startswith("code:") else "00"
        net = req.get(60, "")[8:11]
        params = mti == "0800" and net == "360" and not self.KEYS_FOR_PARAMS
        if params and self.params_f62 is None:
            code = "12"  # no parameter download here (as most centers of these tests)
        if mti == "0800" and net == "930" and self.no_menu is not None:
            code = self.no_menu  # a real host has no menu download of ours
        rep[39] = code
        if code != "00":
            pass
        elif params:
            rep[62] = self.params_f62
        elif mti == "0800" and net == "930":
            rep[62] = self._menu_chunk(req.get(62, b""))
        elif mti == "0800":
            f62 = self._keys(keyload, net, modes)
            if mode == "badkcv":  # the MAK's check value zeroed
                at = {24: 20, 84: 52}.get(len(f62), 36)
                if "layout:56x3" in modes:
                    at = 52
                f62 = f62[:at] + b"\x00\x00\x00\x00" + f62[at + 4 :]
            rep[62] = f62
            rep[12] = "093000"
            rep[13] = "1123"
        elif mti in ("0200", "0100", "0220"):
            self.rrn += 1
            rep[37] = "1123" + "0" * 4 + ("0000" + str(self.rrn))[-4:]
            rep[38] = "654321"
            rep[15] = "1123"
            if req.get(3) == "310000":
                rep[54] = "1001156C" + ("000000000000" + str(self.balance))[-12:]
                if self.available is not None:
                    rep[54] += "1002156C" + ("000000000000" + str(self.available))[-12:]
        elif mti == "0500":
            # mode "unbalanced": the center's totals differ (flag 2), else balanced (1)
            f48 = req.get(48, "0" * 62)
            flag = "2" if mode == "unbalanced" else "1"
            rep[48] = f48[0:30] + flag + f48[31:61] + "1"
            rep[15] = "1123"
        if mti in ("0500", "0320", "0820"):
            pass  # no MAC on settlement, upload and sign-out (reference §3.2)
        elif mti != "0800" and code != "A0":
            rep[64] = b"\x00" * 8
            rep[64] = mac.compute("ecb", self.mak, iso8583.mab(rep))
            if "badmac" in modes:
                rep[64] = b"00000000"
        for m in modes:
            if m.startswith("drop:"):
                rep.pop(int(m[5:]), None)
            if m.startswith("need:"):
                header = header[:2] + bytes((int(m[5:]),)) + header[3:]
        if self.KEEP:
            self.replies.append(rep)
        for m in modes:
            if m.startswith("org:") and 64 in rep:
                rep[63] = m[4:7]  # 63.1 only: a foreign card organisation
                rep[64] = mac.compute("ecb", self.mak, iso8583.mab(rep))
        if "gbk63" in modes and 64 in rep:
            # a marker as long as the name: its GBK bytes replace it in the body below
            rep[63] = "CUP" + "X" * len(self.issuer_gbk)
        if 64 not in rep or ("fpad" not in modes and "gbk63" not in modes):
            body = iso8583.encode(rep)
        else:
            # what a real host sends, which our encoder never makes: F as the pad nibble of
            # the odd-length PAN (field 2 comes first), GBK text in 63; MAC'd over the bytes
            # as sent
            body = bytearray(iso8583.encode(rep))
            if "fpad" in modes and 2 in rep and len(rep[2]) % 2:
                end = 11 + (len(rep[2]) + 1) // 2 - 1
                body[end] |= 0x0F
            if "gbk63" in modes:
                name = self.issuer_gbk
                at = bytes(body).find(b"CUP" + b"X" * len(name)) + 3
                body[at : at + len(name)] = name
            if "badmac" not in modes:
                body[-8:] = mac.compute("ecb", self.mak, bytes(body[:-8]))
            body = bytes(body)
        return ("reply", iso8583.pack_frame(iso8583.swap_tpdu(tpdu), header, body))

    def _keys(self, keyload, net, modes):
        # field 62 in the layout asked for (001 single, 003 double, 004 + TDK), or the one a
        # "layout:N" mode names (24, 40, 44, 56, 60; 56x3 and 84 triple length, with "mak24"
        # a 24-byte MAK in them, else an 8-byte one zero-filled to its 24-byte slot)
        n = {"001": 24, "004": 60}.get(net, 40)
        triple = False
        for m in modes:
            if m.startswith("layout:"):
                triple = m in ("layout:56x3", "layout:84")
                n = int(m[7:9])
        if len(self.mak) != 8:
            self.mak = MAK  # after a sign-in with a 24-byte MAK
        if n == 40:
            if self.pik != PIK:  # after a single-length sign-in
                self.pik = PIK
            return keyload.pack_signin_keys(self.tmk, self.pik, self.mak)
        from pos import des

        t = des.DesKey(self.tmk)

        def kcv(k):
            return des.DesKey(k).encrypt_block(bytes(8))[:4]

        if n == 24:
            self.pik = PIK[:8]
            return t.encrypt(self.pik) + kcv(self.pik) + t.encrypt(self.mak) + kcv(self.mak)
        if triple:
            self.pik = PIK3
            if "mak24" in modes:
                self.mak = MAK3
            mak = t.encrypt(self.mak) + bytes(24 - len(self.mak))
            f62 = t.encrypt(PIK3) + kcv(PIK3) + mak + kcv(self.mak)
            if n == 84:
                f62 += t.encrypt(TDK3) + kcv(TDK3)
            return f62
        self.pik = PIK
        f62 = keyload.pack_signin_keys(self.tmk, self.pik, self.mak)
        if n == 44:
            f62 += b"\x00" * 4
        elif n == 56:
            f62 += t.encrypt(TDK)
        elif n == 60:
            f62 += t.encrypt(TDK) + kcv(TDK)
        elif n > 40:
            f62 += bytes(n - 40)  # a length no layout has: the 40 one zero-filled to it
        return f62

    def _menu_chunk(self, f62):
        have = int(f62[:4].decode())
        offset = int(f62[4:10].decode())
        if self.menu_json is None or have == self.menu_version:
            return ("%04d%08X%06d%06d" % (self.menu_version, 0, 0, 0)).encode()
        from pos import crc

        data = self.menu_json
        chunk = data[offset : offset + 400]
        c = crc.crc32(data)
        head = "%04d%08X%06d%06d" % (self.menu_version, c, len(data), offset)
        return head.encode() + chunk

    def last(self, mti=None):
        for r in reversed(self.requests):
            if mti is None or r["mti"] == mti:
                return r
        return None


class DayCenter(Center):
    # The bench's center for the cashier's day (walk.py): it keeps nothing but its counters
    # and keys (its own objects must not inflate the heap figure), drops the modules it loads
    # (APART), and answers as the day's figures were measured: 48 and 63 echoed, the
    # parameter download of the sign-in answered with keys.
    KEEP = False
    APART = True
    ECHO = (2, 3, 4, 11, 25, 41, 42, 48, 49, 60, 63)
    KEYS_FOR_PARAMS = True
