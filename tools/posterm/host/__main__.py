"""`python -m posterm.host ...`: the same as `posterm host ...`."""

import sys

from posterm.host.cli import main

sys.exit(main())
