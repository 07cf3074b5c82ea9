# The wall clock from machine.RTC. RTC.datetime() is
# (year, month, day, weekday, hours, minutes, seconds, subseconds) on rp2 and esp32.
# A board without a battery starts at the firmware's epoch; the terminal's
# sign-in reply (the "clock" effect, fields 12/13) sets it.
from pos import clock


class RtcClock:
    def __init__(self, rtc):
        self.rtc = rtc

    def now(self):
        d = self.rtc.datetime()
        return (d[0], d[1], d[2], d[4], d[5], d[6])

    def set(self, now):
        y, mo, d, h, mi, s = now
        # weekday 0 = Monday, from days since 1970-01-01 (a Thursday)
        wd = (clock.days_from_civil(y, mo, d) + 3) % 7
        self.rtc.datetime((y, mo, d, wd, h, mi, s, 0))

    def is_set(self):
        # a board that lost power restarts in its epoch year (2000 or 2021 or 1970)
        return self.now()[0] >= 2024
