"""The back office's cases of `posterm bench` (issue 16.6, 16.7):

- the codec against iso8583sim (PyPI, its parser compiled with Cython), on the same two CUP
  messages as the pyiso8583 case.  iso8583sim has no way to describe the CUP dialect (its
  fields follow ISO 8583:1987: field 60 is text there, BCD digits in CUP), so it cannot read
  our bytes; it gets the same messages' field values and is timed on encode + decode in each
  of its two forms, its BCD wire format (BCD MTI, numbers and lengths, binary bitmap) and its
  own string form (parsed with its compiled MTI and bitmap code); the faster one counts.  Its
  round trips are checked to give the values back.
- the storm (posterm.center.storm): 1,000 terminals signing in at once, then purchases, on
  SQLite and on PostgreSQL (POSTERM_BENCH_PG, else a private server when its binaries are
  installed), with the CPU per message of the center and of the storm itself.  On SQLite
  the center is a fleet of one process a core (at most SQLITE_WORKERS) on one address
  (SO_REUSEPORT), taking turns at the database's write lock: one interpreter cannot use the
  second core (its event loop and database thread share one lock), and the sign-ins'
  network work is most of their CPU.
"""

import logging
import os

from posterm.bench.cpython import best_rate
from posterm.bench import frames

SQLITE_WORKERS = 2  # center processes of the SQLite storm at most (one a core)


def sqlite_workers():
    return max(1, min(SQLITE_WORKERS, os.cpu_count() or 1))


def _their_messages():
    from iso8583sim.core.types import ISO8583Message, ISO8583Version
    from pos import iso8583

    out = []
    for body in frames.bodies():
        msg = iso8583.decode(body)
        fields = {0: msg["mti"]}
        for k, v in msg.items():
            if k == "mti":
                continue
            fields[k] = v.hex().upper() if isinstance(v, bytes) else str(v)
        out.append(ISO8583Message(mti=msg["mti"], fields=fields, version=ISO8583Version.V1987,
                                  network=None))
    return out


def codec_vs_iso8583sim(n, repeat):
    """-> iso8583sim_msgs_per_s, codec_ratio_vs_iso8583sim (None + a note when it is not
    installed or fails on the messages)."""
    from pos import iso8583

    msgs = [iso8583.decode(b) for b in frames.bodies()]
    enc, dec = iso8583.encode, iso8583.decode

    def ours():
        for _ in range(n):
            for m in msgs:
                dec(enc(m))

    mine = best_rate(ours, 2 * n, repeat)
    try:
        from iso8583sim.core.builder import ISO8583Builder
        from iso8583sim.core.parser import ISO8583Parser
        from iso8583sim.wire import Encoding, WireFormat, decode_message, encode_message
    except ImportError:
        return {"iso8583sim_msgs_per_s": None, "codec_ratio_vs_iso8583sim": None,
                "_note_codec_ratio_vs_iso8583sim": "iso8583sim is not installed "
                "(pip install -e '.[test]')"}
    logging.getLogger("iso8583sim").setLevel(logging.WARNING)
    fmt = WireFormat(mti=Encoding.BCD, length_prefix=Encoding.BCD, numeric=Encoding.BCD,
                     bcd_odd_padding="right")
    builder, parser = ISO8583Builder(), ISO8583Parser()
    theirs_msgs = _their_messages()
    for m in theirs_msgs:
        wire = decode_message(encode_message(m, fmt), fmt, network=m.network)
        text = parser.parse(builder.build(m))
        if wire.fields != m.fields or text.fields != m.fields:
            raise RuntimeError("iso8583sim does not give the CUP messages' values back")

    def theirs_wire():
        for _ in range(n):
            for m in theirs_msgs:
                decode_message(encode_message(m, fmt), fmt, network=m.network)

    def theirs_text():  # its own string form, parsed with the compiled MTI / bitmap code
        for _ in range(n):
            for m in theirs_msgs:
                parser.parse(builder.build(m))

    wire_rate = best_rate(theirs_wire, 2 * n, repeat)
    text_rate = best_rate(theirs_text, 2 * n, repeat)
    rate = max(wire_rate, text_rate)
    return {"iso8583sim_msgs_per_s": rate, "codec_ratio_vs_iso8583sim": mine / rate,
            "iso8583sim_bcd_wire_msgs_per_s": wire_rate,
            "iso8583sim_string_msgs_per_s": text_rate}


def storm_figures(quick):
    """Sign-in and purchase figures of a storm on SQLite and on PostgreSQL (the server named
    by POSTERM_BENCH_PG, else a private one when Debian's postgresql binaries are installed),
    with the CPU each message cost the center and the storm itself (the load-independent
    part: on a machine shared with other work the wall-clock figures are what was left)."""
    from posterm.center import pglocal, storm

    n = 200 if quick else 1000
    purchases = 300 if quick else 5000
    fig, notes = {}, {}
    runs = [("sqlite", None)]
    url = os.environ.get("POSTERM_BENCH_PG")
    server = None
    if not url and pglocal.bindir() is not None:
        try:
            server = pglocal.Server()
            url = server.new_database()
        except (OSError, RuntimeError) as e:
            notes["storm_purchases_per_s_postgresql"] = f"no private PostgreSQL server: {e}"
    if url:
        runs.append(("postgresql", url))
    try:
        for name, db in runs:
            db_pid = server.proc.pid if server is not None and name == "postgresql" else None
            workers = sqlite_workers() if name == "sqlite" else 1
            rows = {r["phase"]: r for r in storm.storm(n, purchases, 32, db_path=db,
                                                       db_pid=db_pid, workers=workers)}
            sign, buy = rows["sign-in"], rows["purchase"]
            fig[f"storm_load_{name}"] = f"{sign['load_before']} -> {buy['load_after']}"
            fig[f"storm_center_processes_{name}"] = workers
            if name == "sqlite":
                fig["storm_terminals"] = n
                fig["storm_signin_p99_ms"] = sign["p99_ms"]
                fig["storm_signin_errors"] = sign["errors"] + sum(sign["other"].values())
                fig["storm_center_cpu_ms_per_signin"] = sign.get("center_cpu_ms_per_msg")
                fig["storm_client_cpu_ms_per_signin"] = sign.get("client_cpu_ms_per_msg")
                fig["storm_client_cpu_ms_per_purchase"] = buy.get("client_cpu_ms_per_msg")
            fig[f"storm_purchases_per_s_{name}"] = buy["per_second"]
            fig[f"storm_purchase_p99_ms_{name}"] = buy["p99_ms"]
            fig[f"storm_center_cpu_ms_per_purchase_{name}"] = buy.get("center_cpu_ms_per_msg")
            if name == "postgresql":  # the server's backends: None for a server not ours
                fig["storm_db_cpu_ms_per_purchase_postgresql"] = buy.get("db_cpu_ms_per_msg")
            others = sum(buy["other"].values()) + buy["errors"]
            if others:
                notes[f"storm_purchases_per_s_{name}"] = (
                    f"{others} purchase(s) not answered 00: {buy['other']} "
                    f"{buy.get('first_others') or buy.get('first_errors')}")
    finally:
        if server is not None:
            server.stop()
    if not url:
        for key in ("storm_purchases_per_s_postgresql", "storm_purchase_p99_ms_postgresql",
                    "storm_center_cpu_ms_per_purchase_postgresql",
                    "storm_db_cpu_ms_per_purchase_postgresql", "storm_load_postgresql"):
            fig[key] = None
        notes.setdefault("storm_purchases_per_s_postgresql",
                         "no PostgreSQL: set POSTERM_BENCH_PG=postgresql://... or install "
                         "Debian's postgresql for a private server")
    for key, text in notes.items():
        fig["_note_" + key] = text
    return fig
