# Sign-in (签到), the seed's two paths:
#   菜单 → 1.金融服务 → 1.签到           auto: parameter download (CUP 360, where the
#                                         center serves it), menu update, key download
#   菜单 → 4.终端更新 → 2.终端手动签到   manual: key download
# The prompts are the seed's, verbatim (strings signin_*). The exchanges with the
# center run as overlays (pos.overlay): pos.flows.menuupdate, pos.flows.keydownload.
from pos import ui, overlay


def auto(t):
    title = t.s("signin_title")
    go = yield from ui.confirm(t, title, t.s("signin_auto_prompt"), t.s("signin_auto_footer"))
    if not go:
        return
    # the CUP parameter download where the center serves it (silent when it does not),
    # then our menu download (a center without one: said, and the keys still come)
    with overlay.scope():
        from pos.flows import paramload

        got = yield from paramload.run(t, title)
        del paramload
    if got not in ("done", "not_served"):
        t.emit(("beep", "error"))
        yield from ui.notice(t, title, got)
        return
    with overlay.scope():
        from pos.flows import menuupdate

        ok = yield from menuupdate.update(t, title, True)
        del menuupdate
    if not ok:
        return
    yield from key_download(t, title, t.s("signin_ok_auto"))


def manual(t):
    title = t.s("signin_manual_title")
    go = yield from ui.confirm(t, title, t.s("signin_manual_prompt"))
    if not go:
        return
    yield from key_download(t, title, t.s("signin_ok_manual"))


def key_download(t, title, ok_text):
    # Generator -> True when signed in (new working keys); the result screen either way.
    with overlay.scope():
        from pos.flows import keydownload

        ok, body = yield from keydownload.run(t, title)
        del keydownload
    if ok:
        body.append(ok_text)
        if t.heartbeat_min() > 0:  # report in after a sign-in (issue 16.1)
            with overlay.scope():
                from pos.flows import heartbeat

                yield from heartbeat.run(t)
                del heartbeat
        # what the answer's header asked for (processing requirement: IC keys / AIDs,
        # parameters, the status upload), now, as after any transaction
        with overlay.scope():
            from pos.flows import gates

            yield from gates.pending(t, title)
            del gates
    t.emit(("beep", "ok" if ok else "error"))
    yield from ui.notice(t, title, body)
    return ok
