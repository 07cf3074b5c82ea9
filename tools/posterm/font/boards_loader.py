"""Load a module of firmware/boards (not an installed package) on the desktop."""

import importlib.util
import os

from posterm import paths


def load(name):
    path = os.path.join(paths.FIRMWARE_DIR, "boards", name + ".py")
    spec = importlib.util.spec_from_file_location("posterm_boards_" + name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod
