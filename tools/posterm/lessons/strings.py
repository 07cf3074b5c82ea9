"""The training tools' texts (zh and en) from menus/training_strings.json: one section per
tool (session hints, text front, lesson panel, handouts, results, poster, progress report,
certificate, classroom)."""

import json
import os

from posterm import paths

_cache = {}


def path():
    return os.path.join(paths.MENUS_DIR, "training_strings.json")


def section(name):
    """-> {"zh": {...}, "en": {...}} for one tool."""
    if not _cache:
        with open(path(), encoding="utf-8") as f:
            _cache.update(json.load(f))
    return _cache[name]
