"""The training tools' texts (zh and en) from menus/training_strings.toml: one section per
tool (session hints, text front, lesson panel, handouts, results, poster, progress report,
certificate, classroom)."""

import os
import tomllib

from posterm import paths

_cache = {}


def path():
    return os.path.join(paths.MENUS_DIR, "training_strings.toml")


def section(name):
    """-> {"zh": {...}, "en": {...}} for one tool."""
    if not _cache:
        with open(path(), "rb") as f:
            _cache.update(tomllib.load(f))
    return _cache[name]
