"""The desktop emulator: the terminal in a Textual app (screen, keypad, printer, card reader,
status line and host log), running the same core through the desktop driver."""
