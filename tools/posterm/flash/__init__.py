"""`posterm flash`: deploy the firmware, menus and font to a MicroPython board over its
USB serial REPL (mpremote's transport), sending only what changed, crash-safe."""
