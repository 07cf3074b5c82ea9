# posterm on a MicroPython board: boot the shared core with this board's drivers.
# Everything lives in boards/ (boot.py builds the drivers from /board.json and the
# board profile); Ctrl-C in the REPL stops the loop.
from boards import boot

boot.main()
