"""The desktop driver: runs the core with files in a data dir, a TCP link to
the host (the embedded one unless --host is given), and a clock.

Fronts (`posterm keys`, the emulator, lessons) subscribe to what the terminal
shows and prints; the driver performs every other effect."""

import datetime
import os
import time

from pos import clock
from pos.storage import FileStorage
from pos.terminal import Terminal
from pos.receipt import render_text

from posterm import paths
from posterm.link import TcpLink, parse_address


class DataDirLocked(RuntimeError):
    pass


class DataDirLock:
    """One terminal per data dir: a lock file holding the owner's pid."""

    def __init__(self, data_dir):
        self.path = os.path.join(data_dir, "terminal.lock")
        self.held = False

    def acquire(self):
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                pid = self._owner()
                if pid and _alive(pid):
                    raise DataDirLocked(
                        f"the data dir {os.path.dirname(self.path)} is in use by another "
                        f"posterm (pid {pid}); close it or use --data DIR"
                    ) from None
                try:
                    os.remove(self.path)  # stale lock from a crashed run
                except FileNotFoundError:
                    pass
                continue
            with os.fdopen(fd, "w") as f:
                f.write(str(os.getpid()))
            self.held = True
            return self
        raise DataDirLocked(f"cannot lock {self.path}")

    def _owner(self):
        try:
            with open(self.path) as f:
                return int(f.read().strip() or 0)
        except (OSError, ValueError):
            return 0

    def release(self):
        if self.held:
            try:
                os.remove(self.path)
            except OSError:
                pass
            self.held = False


def _alive(pid):
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Clock:
    """The terminal clock: the system clock, or a fixed start (--date) that
    advances with real time only when `running` is set."""

    def __init__(self, start=None, running=None):
        self.offset = 0.0
        self.fixed = start
        self.running = running if running is not None else start is None
        self.started = time.monotonic()
        if start is not None:
            wall = datetime.datetime(*start)
            self.offset = (wall - datetime.datetime.now()).total_seconds()

    def now(self):
        if self.fixed is not None and not self.running:
            return tuple(self.fixed)
        t = datetime.datetime.now() + datetime.timedelta(seconds=self.offset)
        return (t.year, t.month, t.day, t.hour, t.minute, t.second)


class Driver:
    def __init__(
        self,
        data_dir,
        host=None,
        lang=None,
        date=None,
        profile="lcd128x64",
        paper="58mm",
        clock_running=None,
        lock=True,
    ):
        self.data_dir = os.path.abspath(data_dir)
        os.makedirs(self.data_dir, exist_ok=True)
        self.lock = DataDirLock(self.data_dir) if lock else None
        if self.lock:
            self.lock.acquire()
        self.clock = Clock(date, clock_running)
        self.storage = FileStorage(paths.terminal_dir(self.data_dir))
        self.resources = FileStorage(paths.MENUS_DIR, readonly=True)
        self.terminal = Terminal(self.storage, self.resources, profile, self.clock.now(), paper)
        if lang:
            self.terminal.strings.set_lang(lang)
        self.embedded = None
        if host:
            self.address = parse_address(host)
        else:
            from posterm.host.server import start_in_thread

            self.embedded = start_in_thread(
                paths.host_db(self.data_dir), paths.menu_file(), now=self._host_now
            )
            self.address = tuple(self.embedded.address)
        self.terminal.link_address = f"{self.address[0]}:{self.address[1]}"
        self.link = TcpLink(self.address)
        self.frame_listeners = []
        self.print_listeners = []
        self.send_listeners = []  # (request_bytes, event, ms) for log panes
        self.log_path = os.path.join(self.data_dir, "posterm.log")
        self.paper_cells = self.terminal.paper_cells

    def _host_now(self):
        return datetime.datetime(*self.clock.now())

    # -- running the core ----------------------------------------------------
    def start(self):
        self.perform(self.terminal.start())

    def feed(self, event):
        self.perform(self.terminal.handle(event))

    def tick(self):
        self.feed(("tick", self.clock.now()))

    def perform(self, effects):
        """Carry out effects; a 'send' is done synchronously here (the
        emulator overrides `exchange` to run it off the UI thread)."""
        queue = list(effects)
        while queue:
            eff = queue.pop(0)
            kind = eff[0]
            if kind == "show":
                for cb in self.frame_listeners:
                    cb(eff[1])
            elif kind == "print":
                for cb in self.print_listeners:
                    cb(eff[1])
            elif kind == "send":
                event = self.exchange(eff[1], eff[2])
                queue.extend(self.terminal.handle(event))
            elif kind == "log":
                self.log(eff[1], eff[2])
            elif kind == "clock":
                self.log("info", "center time %s" % (eff[1],))
            # "beep": no sound on the desktop driver

    def exchange(self, data, timeout):
        started = time.monotonic()
        event = self.link.exchange(data, timeout)
        ms = (time.monotonic() - started) * 1000
        for cb in self.send_listeners:
            cb(data, event, ms)
        return event

    def log(self, level, text):
        stamp = datetime.datetime.now().isoformat(timespec="seconds")
        try:
            with open(self.log_path, "a", encoding="utf-8") as f:
                f.write(f"{stamp} {level} {text.rstrip()}\n")
        except OSError:
            pass

    def receipt_text(self, lines):
        return render_text(lines, self.paper_cells)

    def close(self):
        if self.embedded is not None:
            self.embedded.stop()
            self.embedded = None
        if self.lock:
            self.lock.release()


def parse_date(text):
    return clock.parse(text)


def open_from_args(args, cls=None, **kwargs):
    """A driver for a command's parsed common options (--data, --host, --lang, --date,
    --profile, and --paper where the command has it); user errors become CliError."""
    from posterm.errors import CliError
    from posterm.link import HostAddressError

    cls = cls or Driver
    date = None
    if getattr(args, "date", None):
        try:
            date = clock.parse(args.date)
        except ValueError as e:
            raise CliError(f"--date: {e}") from None
    data_dir = args.data or paths.default_data_dir()
    try:
        return cls(
            data_dir,
            host=getattr(args, "host", None),
            lang=args.lang,
            date=date,
            profile=args.profile,
            paper=getattr(args, "paper", "58mm"),
            **kwargs,
        )
    except (DataDirLocked, HostAddressError, ValueError) as e:
        raise CliError(str(e)) from None
    except OSError as e:
        raise CliError(f"cannot use the data dir {data_dir}: {e.strerror or e}") from None
