"""`posterm bridge`: the desktop end of a board's serial host link."""
