"""The desktop driver: runs the core with files in a data dir, a TCP link to
the host (the embedded one unless --host is given), and a clock.

Fronts (`posterm keys`, the emulator, lessons) subscribe to what the terminal
shows and prints; the driver performs every other effect."""

import datetime
import os
import sqlite3
import time

from pos import clock
from pos.storage import FileStorage
from pos.terminal import Terminal
from pos.receipt import render_text

from posterm import paths
from posterm.link import TcpLink, parse_address


_FACTORY_HOST = "127.0.0.1:5800"  # menus/params.json: the embedded center ignores it


class DataDirLocked(RuntimeError):
    pass


class DataDirLock:
    """One terminal per data dir: an OS lock on DATA/terminal.lock (fcntl.flock on POSIX,
    msvcrt.locking on Windows), held for as long as the terminal runs. The OS drops it
    when the process ends, however it ends, so a lock file left by a crash (or naming a
    pid that an unrelated process now has) never blocks; a live terminal always does,
    in this process or another. The file also holds the owner's pid, for the message."""

    _WIN_OFFSET = 1 << 20  # Windows locks a byte range: one far past the pid's bytes

    def __init__(self, data_dir):
        self.path = os.path.join(data_dir, "terminal.lock")
        self.held = False
        self._fd = None

    def acquire(self):
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            _os_lock(fd, self._WIN_OFFSET)
        except OSError:
            pid = self._owner(fd)
            os.close(fd)
            who = f" (pid {pid})" if pid else ""
            raise DataDirLocked(
                f"the data dir {os.path.dirname(self.path)} is in use by another "
                f"posterm{who}; close it or use --data DIR"
            ) from None
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd
        self.held = True
        return self

    @staticmethod
    def _owner(fd):
        try:
            os.lseek(fd, 0, os.SEEK_SET)
            return int(os.read(fd, 32).decode().strip() or 0)
        except (OSError, ValueError):
            return 0

    def release(self):
        # the file stays (removing it would let a waiting opener lock a dead inode while
        # a third process locks a new file); closing the descriptor drops the lock
        if self.held:
            try:
                os.ftruncate(self._fd, 0)
            except OSError:
                pass
            _os_unlock(self._fd, self._WIN_OFFSET)
            os.close(self._fd)
            self._fd = None
            self.held = False


try:
    import fcntl
except ImportError:  # Windows
    fcntl = None


def _os_lock(fd, win_offset):
    # a non-blocking exclusive lock on the open file; OSError when another holds it
    if fcntl is not None:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return
    import msvcrt

    os.lseek(fd, win_offset, os.SEEK_SET)
    msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)


def _os_unlock(fd, win_offset):
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_UN)
        else:
            import msvcrt

            os.lseek(fd, win_offset, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
    except OSError:
        pass


def _private_dir(path):
    # the data dir holds card data, keys and password hashes: its owner's only (POSIX)
    try:
        os.chmod(path, 0o700)
    except OSError:
        pass


def _private_files(path):
    try:
        names = os.listdir(path)
    except OSError:
        return
    for name in names:
        p = os.path.join(path, name)
        try:
            if os.path.isfile(p) and not os.path.islink(p):
                os.chmod(p, 0o600)
        except OSError:
            pass


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
        os.makedirs(self.data_dir, mode=0o700, exist_ok=True)
        _private_dir(self.data_dir)
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
            self.terminal.link_kind = "host_option"  # 5.3's IP and port are not used
        else:
            self.terminal.link_kind = "embedded"  # 5.3's port moves it (follow_settings)
            from posterm.host.server import start_in_thread

            self.embedded = start_in_thread(
                paths.host_db(self.data_dir), paths.menu_file(), now=self._host_now
            )
            self.address = tuple(self.embedded.address)
        self.terminal.link_address = f"{self.address[0]}:{self.address[1]}"
        self.link = TcpLink(self.address)
        self._followed = None  # (tid, MAC algorithm) the embedded center was told
        self._follow_retry = 0.0  # when telling it failed: not before this (monotonic)
        self._followed_host = None  # the terminal's host setting it last followed
        self.frame_listeners = []
        self.print_listeners = []
        self.beep_listeners = []  # ("error": a key refused, an error shown; "ok")
        self.send_listeners = []  # (request_bytes, event, ms) for log panes
        self.log_path = os.path.join(self.data_dir, "posterm.log")
        self.log_failed = ""  # why the last line could not be written to the log ("" ok)
        _private_files(self.data_dir)  # host.db, the log: 0600 (the dir is 0700)
        self.paper_cells = self.terminal.paper_cells

    def _host_now(self):
        return datetime.datetime(*self.clock.now())

    # -- running the core ----------------------------------------------------
    def start(self):
        self.perform(self.terminal.start())

    def follow_settings(self):
        """The embedded center follows the terminal's settings: the MAC algorithm (5.4) is
        configured for the terminal's TID as a real center is; the host port (5.3), once
        set away from the factory value, becomes the port the embedded center listens on,
        so 5.1 shows the port in use (when that port is taken, it stays and logs why)."""
        if self.embedded is None:
            return
        p = self.terminal.state.params
        want = (p.get("tid", ""), p.get("mac_algo", "ecb"))
        if want != self._followed and time.monotonic() >= self._follow_retry:
            try:
                self.embedded.follow_terminal(want[0], mac_algo=want[1])
                self._followed = want
            except Exception as e:  # noqa: BLE001 - a setting must never stop the terminal
                self._follow_retry = time.monotonic() + 30  # e.g. host.db locked: try later
                self.log("warn", f"embedded center cannot follow MAC {want[1]} yet: {e}")
        host = str(p.get("host", ""))
        if host == self._followed_host:
            return
        first = self._followed_host is None
        self._followed_host = host
        port = host.rsplit(":", 1)[-1]
        if (first and host == _FACTORY_HOST) or not port.isdigit():
            return
        if int(port) == self.address[1]:
            return
        try:
            self.address = tuple(self.embedded.move_to(int(port)))
        except (OSError, ValueError, OverflowError) as e:
            self.log("warn", f"embedded center stays on port {self.address[1]}: {port}: {e}")
            return
        self.link = TcpLink(self.address)
        self.terminal.link_address = f"{self.address[0]}:{self.address[1]}"

    def feed(self, event):
        self.perform(self.terminal.handle(event))

    def tick(self):
        self.feed(("tick", self.clock.now()))

    def perform(self, effects):
        """Carry out effects; a 'send' is done synchronously here (the
        emulator overrides `exchange` to run it off the UI thread)."""
        queue = list(effects)
        self.follow_settings()
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
            elif kind == "beep":  # no sound on the desktop driver; fronts may show it
                for cb in self.beep_listeners:
                    cb(eff[1])

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
            fd = os.open(self.log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            with open(fd, "a", encoding="utf-8") as f:
                f.write(f"{stamp} {level} {text.rstrip()}\n")
            self.log_failed = ""
        except OSError as e:
            self.log_failed = str(e)  # a full disk: the front says it instead

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
    except sqlite3.Error as e:  # the embedded center's own database, in the data dir
        raise CliError(
            f"the embedded center's database {paths.host_db(os.path.abspath(data_dir))}: {e}"
            + _disk_hint(data_dir)
            + " (or use a center of your own: --host HOST:PORT)"
        ) from None


def _disk_hint(data_dir):
    # "; the disk is full" when it is (SQLite says only "disk I/O error" then)
    import shutil

    try:
        free = shutil.disk_usage(data_dir).free
    except OSError:
        return ""
    return f"; the disk is full ({free} bytes free)" if free < 1 << 20 else ""


def failure_note(driver):
    """What a front says when the terminal reported an error (None when it did not): a
    storage the terminal could not write (a full disk: its screen said 存储空间不足 or
    存储失败) is not an internal error; and the log named only when its line got there."""
    t = driver.terminal
    err = getattr(t, "last_error", None)
    if not err:
        return None
    where = (
        f"logged in {driver.log_path}"
        if not driver.log_failed
        else f"not logged: {driver.log_failed}; {err.strip().splitlines()[-1]}"
    )
    storage = getattr(t, "storage_error", "")
    if storage:
        return (
            f"posterm: the terminal could not write its files in {driver.data_dir}: "
            f"{storage} (its screen said so; free some space, then run it again)"
        )
    return f"posterm: internal error ({where})"
