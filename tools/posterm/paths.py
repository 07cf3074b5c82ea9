"""Where things live on the desktop: the repo's data files and the user's data dir."""

import os

import pos

FIRMWARE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(pos.__file__)))
REPO_DIR = os.path.dirname(FIRMWARE_DIR)
MENUS_DIR = os.path.join(REPO_DIR, "menus")
LESSONS_DIR = os.path.join(MENUS_DIR, "lessons")


def default_data_dir():
    import platformdirs

    return platformdirs.user_data_dir("posterm", appauthor=False)


def terminal_dir(data_dir):
    return os.path.join(data_dir, "terminal")


def host_db(data_dir):
    return os.path.join(data_dir, "host.db")


def menu_file():
    return os.path.join(MENUS_DIR, "menu.json")
