"""`posterm menu`: print the menu tree with key paths, validate menu files."""

import json
import sys

from pos import menu as menumod
from pos import actions as _actions

from posterm import paths


def register(subs):
    p = subs.add_parser(
        "menu",
        help="print the menu tree with key paths, validate menus",
        description="Menu tools.",
    )
    ms = p.add_subparsers(dest="menu_cmd", metavar="COMMAND", required=True)
    t = ms.add_parser("tree", help="the menu tree with the key path to each item")
    t.add_argument("--lang", choices=("zh", "en"), default="zh", help="the labels' language (zh)")
    t.add_argument("--file", default=None, help="a menu file (default: menus/menu.json)")
    t.set_defaults(func=run_tree)
    m = ms.add_parser("map", help="every function with its key path (签到: 菜单 1 1)")
    m.add_argument("--lang", choices=("zh", "en"), default="zh", help="the labels' language (zh)")
    m.add_argument("--format", choices=("text", "md", "html"), default="text",
                   help="text (default), Markdown, or HTML (a one-page wall poster)")
    m.add_argument("--file", default=None, help="a menu file (default: menus/menu.json)")
    m.set_defaults(func=run_map)
    v = ms.add_parser("validate", help="check a menu file: structure, labels, known actions")
    v.add_argument("files", nargs="*", help="menu files (default: menus/menu.json)")
    v.set_defaults(func=run_validate)


def _load(path):
    from posterm.errors import CliError

    path = path or paths.menu_file()
    try:
        with open(path, "rb") as f:
            tree = menumod.parse(f.read())
        menumod.validate(tree, _actions.table())
    except OSError as e:
        raise CliError(f"{path}: {e.strerror}") from None
    except menumod.MenuError as e:
        raise CliError(f"{path}: {e}") from None
    return tree


def run_tree(args):
    tree = _load(args.file)
    root = "菜单" if args.lang == "zh" else "MENU"
    print(root)
    for kp, depth, label, action in menumod.walk(tree, args.lang):
        tail = f"  [{action}]" if action else ""
        print("  " * (depth + 1) + f"{kp[-1]}.{label}{tail}")
    return 0


def run_map(args):
    tree = _load(args.file)
    menu_key = "菜单" if args.lang == "zh" else "MENU"
    rows = []
    names = {}
    for kp, _depth, label, action in menumod.walk(tree, args.lang):
        names[kp] = label
        if action:
            trail = " → ".join(
                f"{k[-1]}.{names[k]}" for k in (kp[: i + 1] for i in range(len(kp)))
            )
            rows.append((label, menu_key + " " + " ".join(kp), trail))
    if args.format == "text":
        for label, keys, trail in rows:
            print(f"{label}: {keys}    ({menu_key} → {trail})")
    elif args.format == "md":
        print("| function | keys | path |\n| --- | --- | --- |")
        for label, keys, trail in rows:
            print(f"| {label} | `{keys}` | {menu_key} → {trail} |")
    else:
        # the wall poster (styling: posterm.lessons.poster)
        from posterm.lessons import poster

        sys.stdout.write(poster.build(tree, args.lang))
    return 0


def run_validate(args):
    files = args.files or [paths.menu_file()]
    bad = 0
    for path in files:
        try:
            with open(path, "rb") as f:
                tree = json.loads(f.read())
            menumod.validate(tree, _actions.table())
            print(
                f"{path}: ok (version {tree.get('version', 0)}, {len(menumod.walk(tree))} items)"
            )
        except OSError as e:
            print(f"{path}: {e.strerror}", file=sys.stderr)
            bad += 1
        except ValueError as e:
            print(f"{path}: {e}", file=sys.stderr)
            bad += 1
    return 1 if bad else 0
