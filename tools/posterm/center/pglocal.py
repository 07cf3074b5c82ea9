"""A private PostgreSQL server for tests and the bench: Debian's `postgresql` binaries, a
cluster made in a temporary directory, listening only on a unix socket there (no port is
shared with anything else on the machine), fsync, synchronous_commit and full_page_writes
off (scratch data: a crash of the machine may lose it; what a commit answered stays
consistent while the server runs).  As root the server
runs as the `postgres` user.  tests/pgserver.py wraps it for pytest."""

import glob
import os
import shutil
import subprocess
import tempfile
import time
import uuid

INSTALL = "apt-get install -y postgresql (as root; .ci/run does it in CI)"


def bindir():
    for d in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if os.path.exists(os.path.join(d, "initdb")):
            return d
    path = shutil.which("initdb")
    return os.path.dirname(path) if path else None


class Server:
    """A private server: Server(bindir) -> .new_database() URLs, .stop()."""

    def __init__(self, bin_dir=None):
        self.bin = bin_dir or bindir()
        if self.bin is None:
            raise RuntimeError(f"PostgreSQL server binaries (initdb, postgres) not found: "
                               f"{INSTALL}")
        self.dir = tempfile.mkdtemp(prefix="posterm-pg-")
        self.data = os.path.join(self.dir, "data")
        self.as_root = os.geteuid() == 0
        if self.as_root:
            shutil.chown(self.dir, "postgres", "postgres")
            os.chmod(self.dir, 0o755)
        self._run([os.path.join(self.bin, "initdb"), "-D", self.data, "-A", "trust", "-U",
                   "posterm", "-E", "UTF8", "--locale=C.UTF-8"])
        self.port = 5433 + os.getpid() % 1000
        self.proc = subprocess.Popen(
            self._cmd([os.path.join(self.bin, "postgres"), "-D", self.data, "-k", self.dir,
                       "-p", str(self.port), "-c", "listen_addresses=", "-c", "fsync=off",
                       "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
                       "-c", "max_connections=200"]),
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.admin = self.url("postgres")
        self._wait()

    def _cmd(self, argv):
        return (["runuser", "-u", "postgres", "--"] + argv) if self.as_root else argv

    def _run(self, argv):
        r = subprocess.run(self._cmd(argv), capture_output=True, text=True, timeout=120)
        if r.returncode:
            raise RuntimeError(f"{argv[0]} failed: {r.stderr.strip()}")

    def url(self, dbname):
        return f"postgresql://posterm@/{dbname}?host={self.dir}&port={self.port}"

    def _wait(self, wait=30.0):
        import psycopg

        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("postgres exited: " + self.proc.stderr.read().decode())
            try:
                psycopg.connect(self.admin, connect_timeout=2).close()
                return
            except psycopg.OperationalError:
                time.sleep(0.2)
        raise RuntimeError("postgres did not come up")

    def new_database(self):
        import psycopg

        name = "t_" + uuid.uuid4().hex[:12]
        with psycopg.connect(self.admin, autocommit=True) as c:
            c.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self.dir, ignore_errors=True)
