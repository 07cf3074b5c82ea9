"""The command line's argument parser: options anywhere among the positionals, as users type
them (`posterm keys MENU --data DIR 1 1`, `posterm record bug.jsonl --date ... MENU ...`), and
what a sub-command does not know said by that sub-command, with its own usage."""

import argparse


class Parser(argparse.ArgumentParser):
    """argparse's parser, intermixed (argparse.parse_intermixed_args) wherever its
    positionals allow it (not for a parser with sub-commands or a REMAINDER, which hand their
    rest on); the sub-command parsers made by add_subparsers are of this class too."""

    _busy = False

    def parse_known_args(self, args=None, namespace=None):
        if self._busy:  # parse_known_intermixed_args' own passes
            return super().parse_known_args(args, namespace)
        self._busy = True
        try:
            if self._intermixable():
                ns, extras = self.parse_known_intermixed_args(args, namespace)
            else:
                ns, extras = super().parse_known_args(args, namespace)
        finally:
            self._busy = False
        if extras and not self._hands_on():
            self.error(unknown(self.prog, extras))
        return ns, extras

    def _hands_on(self):
        # a parser whose positionals pass the rest to another parser (sub-commands, REMAINDER)
        return any(a.nargs in (argparse.PARSER, argparse.REMAINDER)
                   for a in self._get_positional_actions())

    def _intermixable(self):
        if self._hands_on():
            return False
        positionals = set(self._get_positional_actions())
        return not any(a in positionals for g in self._mutually_exclusive_groups
                       for a in g._group_actions)


def unknown(prog, extras):
    """The message for arguments a command does not take."""
    options = [e for e in extras if e.startswith("-") and e != "-"]
    if options:
        what = "unknown option" + ("s " if len(options) > 1 else " ") + " ".join(options)
        return f"{what} (`{prog} --help` lists the options)"
    word = "unexpected argument" + ("s" if len(extras) > 1 else "")
    return f"{word}: {' '.join(extras)} (`{prog} --help` says what it takes)"
