"""The display_bytes_per_key_ratio figure, measured with the board's own display driver:
firmware/boards/display.py CellDisplay over the SSD1306 driver (firmware/boards/ssd1306.py)
on a recording I2C bus, with the board's font (firmware/boards/data/font16.bin).

A 128x64 SSD1306 holds 8 pages of 128 column bytes, so a full frame is 1024 bytes of pixel
data; on the wire it costs those bytes plus the I2C control byte and the column/page window
command (SSD1306.refresh(): 1032 bytes). Both the per-key figure and the full frame are
counted as the bytes the driver writes to the bus (window commands included), so the ratio
compares like with like."""

import os
import sys

_FIRMWARE = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..", "..", "firmware"))
FULL_FRAME_BYTES = 128 * 64 // 8


def _boards():
    if _FIRMWARE not in sys.path:
        sys.path.append(_FIRMWARE)
    from boards import fakes
    from boards.display import CellDisplay
    from boards.font import Font
    from boards.ssd1306 import SSD1306

    return fakes, CellDisplay, Font, SSD1306


class RecordingBus:
    # An I2C bus that only counts: bytes written, and the pixel data among them.
    def __init__(self):
        self.bytes = 0
        self.data = 0

    def writeto(self, addr, data):
        self.bytes += len(data)
        if data[0] == 0x40:
            self.data += len(data) - 1
        return 1


class BoardDisplay:
    # CellDisplay on an SSD1306 over a RecordingBus; show(frame) draws like the board loop.
    def __init__(self, rows=4, cols=16):
        _fakes, cell_display, font_cls, ssd1306 = _boards()
        path = os.path.join(_FIRMWARE, "boards", "data", "font16.bin")
        self.font = font_cls.open(path) if os.path.exists(path) else None
        self.bus = RecordingBus()
        self.panel = ssd1306(self.bus)
        self.display = cell_display(self.panel, self.font, rows, cols)
        self.frames = 0

    def show(self, frame):
        self.frames += 1
        self.display.draw(frame)

    def full_frame_wire_bytes(self):
        # the bus bytes of sending the whole picture once (window command + 1024 bytes)
        b0 = self.bus.bytes
        self.panel.refresh()
        return self.bus.bytes - b0

    def close(self):
        if self.font is not None:
            self.font.close()
