# Recording fakes of the machine module's parts, for driver tests (CPython and
# MicroPython) and for a fake board without hardware. Each records what the
# driver did; tests script what the hardware answers.


class Pin:
    OUT = 1
    IN = 0
    PULL_UP = 1
    PULL_DOWN = 2

    def __init__(self, id, mode=-1, pull=-1, value=None, matrix=None):
        self.id = id
        self.mode = mode
        self.pull = pull
        self._value = 1 if pull == Pin.PULL_UP else 0
        if value is not None:
            self._value = value
        self.matrix = matrix
        self.writes = []

    def value(self, v=None):
        if v is None:
            if self.matrix is not None:
                return self.matrix.read(self)
            return self._value
        self._value = 1 if v else 0
        self.writes.append(self._value)


class KeyMatrix:
    # Wires row pins to column pins through the keys held down: a column reads
    # 0 when a held key sits on a row that is driven low.
    def __init__(self, nrows, ncols, bounce=None):
        self.rows = [Pin(100 + i, Pin.OUT, value=1) for i in range(nrows)]
        self.cols = [Pin(200 + j, Pin.IN, Pin.PULL_UP, matrix=self) for j in range(ncols)]
        self.down = []  # (row, col) pairs held
        self.bounce = bounce  # list of 0/1 readings to return first (contact bounce)

    def read(self, col_pin):
        j = self.cols.index(col_pin)
        for i, r in enumerate(self.rows):
            if r._value == 0 and (i, j) in self.down:
                if self.bounce:
                    return self.bounce.pop(0)
                return 0
        return 1


class I2C:
    def __init__(self, id=0, devices=(0x3C,), **kw):
        self.id = id
        self.devices = devices
        self.writes = []  # (addr, bytes)

    def writeto(self, addr, data):
        if addr not in self.devices:
            raise OSError(19, "ENODEV")  # no ACK from the address
        self.writes.append((addr, bytes(data)))
        return 1

    def scan(self):
        return list(self.devices)


class SPI:
    def __init__(self, id=0, **kw):
        self.id = id
        self.writes = []

    def write(self, data):
        self.writes.append(bytes(data))


class UART:
    # rx: bytes the "other end" sends to the board (tests push them); tx: what the
    # driver wrote. `answer(data) -> bytes` may reply to every write (a printer).
    def __init__(self, id=0, baudrate=9600, answer=None, **kw):
        self.id = id
        self.baudrate = baudrate
        self.rx = bytearray()
        self.tx = bytearray()
        self.writes = []
        self.answer = answer

    def push(self, data):
        self.rx.extend(data)

    def any(self):
        return len(self.rx)

    def read(self, n=None):
        if not self.rx:
            return None
        if n is None or n >= len(self.rx):
            n = len(self.rx)
        out = bytes(self.rx[:n])
        self.rx[:] = self.rx[n:]
        return out

    def write(self, data):
        data = bytes(data)
        self.tx.extend(data)
        self.writes.append(data)
        if self.answer is not None:
            reply = self.answer(data)
            if reply:
                self.rx.extend(reply)
        return len(data)


class RTC:
    def __init__(self, dt=(2021, 1, 1, 4, 0, 0, 0, 0)):
        self.dt = tuple(dt)

    def datetime(self, dt=None):
        if dt is None:
            return self.dt
        self.dt = tuple(dt)


class PWM:
    def __init__(self, pin, **kw):
        self.pin = pin
        self.log = []

    def freq(self, f=None):
        if f is not None:
            self.log.append(("freq", f))

    def duty_u16(self, d=None):
        if d is not None:
            self.log.append(("duty", d))


class Machine:
    # A stand-in for the machine module: boot.build(Machine(), ...) on a bench
    # without parts. Every part made is kept in `made` for the test to reach.
    Pin = Pin
    SPI = SPI
    RTC_START = (2021, 1, 1, 4, 0, 0, 0, 0)

    def __init__(self, i2c_devices=(0x3C,), printer_answer=None, uarts=None):
        # uarts: {id: a UART-like object} to use instead of a recording fake (the fake
        # board's link UART, wired to `posterm bridge`)
        self.made = {}
        self.i2c_devices = i2c_devices
        self.printer_answer = printer_answer
        self.uarts = uarts or {}
        self.rtc = RTC(self.RTC_START)

    def I2C(self, id, **kw):
        d = I2C(id, self.i2c_devices)
        self.made["i2c"] = d
        return d

    def UART(self, id, baudrate=9600, **kw):
        u = self.uarts.get(id)
        if u is None:
            u = UART(id, baudrate, self.printer_answer if baudrate == 9600 else None)
        self.made["uart%d" % id] = u
        return u

    def RTC(self):
        return self.rtc

    def PWM(self, pin, **kw):
        p = PWM(pin)
        self.made["pwm"] = p
        return p


def printer_ok(data):
    # a printer that answers DLE EOT 4 with "paper present"
    return b"\x12" if data == b"\x10\x04\x04" else b""


def printer_paper_out(data):
    return b"\x72" if data == b"\x10\x04\x04" else b""
