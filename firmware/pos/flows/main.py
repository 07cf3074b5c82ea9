# The top of the terminal: the idle screen, the menu, a card swiped at idle.
from pos import overlay  # resident (imported at boot): no import at each call
import sys
from pos import clock, ui
from pos import keys as K
from pos.screen import Frame


def idle_frame(t):
    f = Frame(t.rows, t.cols)
    now = t.now
    f.put(0, clock.show_date(now) + " " + clock.show_time(now), "center", True)
    if t.training:
        f.put(1, t.s("training_banner"), "center")
    else:
        f.put(1, t.s("welcome"), "center")
    f.put(2, t.s("signed_in_today") if t.signed_in_today() else t.s("not_signed_in"), "center")
    # what a real terminal asks at idle: 请插卡/刷卡/挥卡 (the menu key opens the menu); a
    # screen with room says that too
    if t.rows >= 6:
        f.put(t.rows - 2, t.s("idle_hint"), "center")
        f.put(t.rows - 1, t.s("idle_menu_hint"), "center")
    else:
        f.put(t.rows - 1, t.s("idle_hint"), "center")
    return f


def idle(t):
    # -> ("menu",), a reader event (("card", pan, expiry ...) a swipe, ("chip", icc) /
    # ("tap", icc), ("scan", code)) or ("heartbeat",) (time to report in)
    last = None
    while True:
        f = idle_frame(t)
        if f != last:
            t.show(f)
            last = f
        ev = yield ("input", ("key", "card", "chip", "tap", "scan", "tick"), 0)
        if ev[0] in ("card", "chip", "tap", "scan"):
            return ev
        if ev[0] == "tick" and t.heartbeat_due():
            return ("heartbeat",)
        if ev[0] == "key" and ev[1] in (K.MENU, K.ENTER):
            return ("menu",)
        if ev[0] == "key":
            t.emit(("beep", "error"))


REMOVAL = ("removed", "key")  # card_out's wait (pos.terminal knows it by its first kind)


def card_out(t, title=None, body=None):
    # 请拔卡 until the card leaves the contact reader (t.card_in: a chip inserted and not
    # pulled out): the body (an outcome) above it; title None: the title row of the screen
    # on show. A key meanwhile beeps, except where the front takes it for the card pulled
    # out (Terminal.implicit_removal): then it goes on to the next screen.
    if not t.card_in and t.removal_wait:
        return
    if title is None:
        title = t.frame.text()[0].strip() if t.frame is not None else ""
    ui.screen(t, title, list(body or ()) + [t.s("chip_remove")])
    if not t.removal_wait:  # a recording from before: until a key, the card out or 10 s
        yield ("input", ("key", "removed"), 10)
        return
    while t.card_in:
        ev = yield ("input", REMOVAL, 0)
        if ev[0] != "removed":
            t.emit(("beep", "error"))


def main_loop(t):
    goto_menu = False
    try:  # what start-up found in the files (a damaged journal, an unreadable state)
        with overlay.scope():
            from pos.flows import startup

            yield from startup.at_start(t)
            del startup
    except ui.GotoMenu:
        pass
    except Exception as e:
        _report(t, e)
    while True:
        try:
            if t.card_in and t.removal_wait:  # ended with the card in: 请拔卡 before idle
                yield from card_out(t)
            if t.state.extra.get("locked"):  # 锁定终端: nothing but the unlock screen
                goto_menu = False
                with overlay.scope():
                    from pos.flows import lock

                    yield from lock.unlock(t)
                    del lock
                continue
            if goto_menu:
                goto_menu = False
                # the menu, the action table and the card's reading are overlays too: kept
                # loaded between uses (a local of this loop), their bytecode and objects
                # were in the heap for the rest of the day, through every exchange (files
                # deploy, board sim ESP32: ~12 KB more live at idle after the first sale);
                # and the menu is dropped while the action it chose runs (pos.menu.run)
                yield from _menu(t)
                continue
            ev = yield from idle(t)
            if ev[0] == "card":
                with overlay.scope():
                    from pos import card

                    ev = card.from_event(ev) or ()
                    del card
                yield from _sale(t, "purchase", ev)
            elif ev[0] in ("chip", "tap"):  # inserted or tapped at idle: a purchase
                yield from _sale(t, "purchase", ev)
            elif ev[0] == "scan":  # a payment code scanned at idle: a QR sale, amount first
                yield from _sale(t, "qr_sale", ev[1] if len(ev) > 1 else None)
            elif ev[0] == "heartbeat":
                with overlay.scope():
                    from pos.flows import heartbeat

                    yield from heartbeat.run(t)
                    del heartbeat
            else:
                goto_menu = True
        except ui.GotoMenu:
            goto_menu = True
        except MemoryError as e:  # short of heap: 内存不足, back to idle (nothing read or built)
            t.out_of_memory(e)
            yield ("input", ("key",), 5)  # shown until a key, or for 5 s
        except Exception as e:  # a flow bug must not brick the terminal
            try:
                _report(t, e)
            except MemoryError:
                t.out_of_memory()
                e = None
            if isinstance(e, OSError):  # 存储失败 stays until a key (or a minute)
                yield ("input", ("key",), ui.IDLE_TIMEOUT)


def _menu(t):
    # the menu, then what it chose, each an overlay of its own (pos.menu.run)
    path = None
    while True:
        with overlay.scope():
            from pos import menu

            # (the menu's generator in a local, cleared after: a popped value left in its
            # stack slot would keep the dropped module alive for the collector, as in
            # pos.actions.run)
            gen = menu.run(t, path)
            try:
                job = yield from gen
            finally:
                gen = None
            del menu
        if job is None:
            return
        name, ev, path = job
        job = None
        if ev is not None:  # a card at the menu: the sale, then idle
            if ev[0] == "card":
                with overlay.scope():
                    from pos import card

                    ev = card.from_event(ev) or ()
                    del card
            yield from _sale(t, name, ev)
            return
        again = yield from _sale(t, name)
        if not again:
            return


def _sale(t, name, *args):
    # an action started at idle or from the menu, as an overlay (pos.actions dropped when
    # it ends) -> what it returns (True: back to the menu it was started from)
    with overlay.scope():
        from pos import actions

        gen = actions.run(t, name, *args)
        try:
            r = yield from gen
        finally:
            gen = None
        del actions
    return r


def _no_space(e):
    # an OSError of a full file system (ENOSPC: 28 on Linux and littlefs, another number
    # on WASI)
    n = e.args[0] if e.args else None
    try:
        import errno

        if n == getattr(errno, "ENOSPC", 28):
            return True
    except ImportError:
        pass
    return n == 28


def _report(t, e):
    # The screen says what happened; the traceback goes to the driver's log.
    import io

    buf = io.StringIO()
    try:
        sys.print_exception(e, buf)  # MicroPython
    except AttributeError:
        import traceback

        traceback.print_exception(type(e), e, e.__traceback__, file=buf)
    t.last_error = buf.getvalue()
    t.emit(("log", "error", t.last_error))
    if isinstance(e, OSError):  # the storage refused a write (disk full, I/O error)
        t.storage_error = str(e)  # the desktop's front says it (not an internal error)
        t.emit(("beep", "error"))
        why = "storage_full" if _no_space(e) else "storage_failed"
        ui.screen(t, t.s("system_error"), [t.s(why), t.s("storage_call")])
        return
    ui.screen(t, t.s("notice_title"), [t.s("system_error"), str(e)[: t.cols * 2]])
