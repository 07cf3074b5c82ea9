# Board ports of the posterm core: profiles (pins as data), drivers for the
# keypad, display, printer, host link, clock, and the loop that runs the
# core's Terminal on a MicroPython board (boot.py, runner.py).
