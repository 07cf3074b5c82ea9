"""`posterm classroom`'s server: the lessons served to the trainees' browsers by textual-serve
(the command, its options and what it serves: posterm.classroom.servecli)."""

import asyncio
import hmac
import html
import json
import logging
import os
import secrets
import shlex
import sys

from posterm import paths
from posterm.errors import CliError
from posterm.lessons import strings

log = logging.getLogger("posterm.classroom")

WORDS = strings.section("classroom")  # menus/training_strings.toml

_PAGE_CSS = """
body { font-family: "Noto Sans CJK SC", "WenQuanYi Zen Hei", sans-serif; margin: 2em;
  background: #f6f7f9; color: #111; }
form { background: #fff; padding: 1.5em 2em; border-radius: 8px; max-width: 26em;
  box-shadow: 0 1px 4px #0002; }
label { display: block; margin: .8em 0 .2em; }
input, select { font-size: 1.1em; padding: .3em; width: 100%; box-sizing: border-box; }
button { margin-top: 1.2em; font-size: 1.1em; padding: .4em 1.5em; }
.error { color: #b00; }
table { border-collapse: collapse; background: #fff; margin-bottom: 1.5em; }
td, th { border: 1px solid #bbb; padding: .3em .7em; text-align: left; }
th { background: #e8eaee; }
.working { color: #05a; } .completed { color: #070; } .abandoned { color: #888; }
.no { color: #b00; font-weight: bold; } .yes { color: #070; font-weight: bold; }
"""


def cmd_classroom(args):
    from posterm.classroom import cli as class_cli
    from posterm.classroom import roster

    data = args.data or paths.default_data_dir()
    lessons = class_cli._lesson_names(args.lessons)
    code = args.code or "%06d" % secrets.randbelow(1000000)
    if not code.strip():
        raise CliError("--code cannot be empty")
    key = args.trainer_key or secrets.token_urlsafe(12)
    try:
        r = roster.load(data)
        if args.cohort:
            r.members(args.cohort)
    except roster.RosterError as e:
        raise CliError(str(e)) from None
    except OSError as e:
        from posterm.lessons.cli import os_message

        raise CliError(os_message(e, data)) from None
    if not r.trainees:
        raise CliError("the class roster is empty: posterm class add NAME ... first")
    server = ClassroomServer(
        data,
        lessons,
        code,
        key,
        assess=args.assess,
        cohort=args.cohort,
        lang=args.lang,
        host=args.bind,
        port=args.port,
    )
    where = f"http://{args.bind}:{args.port}"
    print(f"posterm classroom on {where}/  class code {code}")
    print(f"trainer's page: {where}/trainer?key={key}")
    if args.bind not in ("127.0.0.1", "localhost", "::1"):
        print(
            f"open to the network on {args.bind}: anyone there with the class code can join",
            file=sys.stderr,
        )
    sys.stdout.flush()
    try:
        server.serve()
    except OSError as e:
        raise CliError(f"cannot listen on {args.bind}:{args.port}: {e.strerror or e}") from None
    return 0


def _server_base():
    from textual_serve.server import Server

    return Server


class ClassroomServer(_server_base()):
    """textual-serve's Server with a join page, per-trainee terminals and a trainer's page."""

    def __init__(
        self,
        data_dir,
        lessons,
        code,
        trainer_key,
        assess=False,
        cohort=None,
        lang="zh",
        host="127.0.0.1",
        port=8000,
    ):
        super().__init__("posterm classroom", host=host, port=port, title="posterm classroom")
        self.data_dir = os.path.abspath(data_dir)
        self.lessons = list(lessons)
        self.code = code
        self.trainer_key = trainer_key
        self.assess = assess
        self.cohort = cohort
        self.lang = lang
        self.w = WORDS[lang]
        self.sessions = {}  # token -> (trainee, lesson)

    # -- routes -----------------------------------------------------------------------------
    async def _make_app(self):
        # textual-serve's own "/" would start a terminal for anyone: the classroom's routes
        # replace it (its static files and downloads stay)
        import aiohttp_jinja2
        import jinja2
        from aiohttp import web

        app = web.Application()
        aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(self.templates_path))
        app.add_routes(
            [
                web.get("/", self.handle_root),
                web.get("/join", self.handle_join_page),
                web.post("/join", self.handle_join),
                web.get("/t/{token}", self.handle_terminal),
                web.get("/ws/{token}", self.handle_trainee_ws),
                web.get("/trainer", self.handle_trainer),
                web.get("/trainer/state", self.handle_trainer_state),
                web.get("/download/{key}", self.handle_download, name="download"),
                web.static("/static", self.statics_path, show_index=False, name="static"),
            ]
        )
        app.on_startup.append(self.on_startup)
        app.on_shutdown.append(self.on_shutdown)
        return app

    def _title(self, lesson):
        from posterm.classroom import progress

        return progress.lesson_title(lesson, self.lang)

    def _page(self, body, title=None):
        from aiohttp import web

        e = html.escape
        text = (
            "<!doctype html>\n"
            f'<html lang="{"zh-CN" if self.lang == "zh" else "en"}"><head><meta charset="utf-8">'
            f"<title>{e(title or self.w['title'])}</title><style>{_PAGE_CSS}</style></head>"
            f"<body>{body}</body></html>\n"
        )
        return web.Response(text=text, content_type="text/html", charset="utf-8")

    async def handle_root(self, request):
        from aiohttp import web

        raise web.HTTPFound("/join")

    async def handle_join_page(self, request, error="", name="", lesson=""):
        w = self.w
        e = html.escape
        mode = w["mode_assess"] if self.assess else w["mode_guided"]
        options = "".join(
            f'<option value="{e(n)}"{" selected" if n == lesson else ""}>'
            f"{e(n.split('_', 1)[0])} {e(self._title(n))}</option>"
            for n in self.lessons
        )
        err = f'<p class="error" id="error">{e(error)}</p>' if error else ""
        body = (
            f"<h1>{e(w['title'])} ({e(mode)})</h1>{err}"
            '<form method="post" action="/join" id="join">'
            f'<label for="code">{e(w["code"])}</label>'
            '<input id="code" name="code" autocomplete="off" inputmode="numeric" required>'
            f'<label for="name">{e(w["name"])}</label>'
            f'<input id="name" name="name" value="{e(name)}" required>'
            f'<label for="lesson">{e(w["lesson"])}</label>'
            f'<select id="lesson" name="lesson">{options}</select>'
            f'<button type="submit" id="go">{e(w["join"])}</button></form>'
        )
        return self._page(body)

    async def handle_join(self, request):
        from aiohttp import web

        from posterm.classroom import roster

        form = await request.post()
        code = str(form.get("code", "")).strip()
        name = str(form.get("name", ""))
        lesson = str(form.get("lesson", ""))
        if not hmac.compare_digest(code.encode(), self.code.encode()):
            log.info("join refused: wrong class code")
            return await self.handle_join_page(request, self.w["bad_code"], name, lesson)
        try:
            r = roster.load(self.data_dir)
            t = r.find(name)
            if self.cohort and t.get("cohort") != self.cohort:
                raise roster.RosterError(f"{t['name']} is not in class {self.cohort}")
        except roster.RosterError as e:
            return await self.handle_join_page(request, str(e), name, lesson)
        if lesson not in self.lessons:
            return await self.handle_join_page(request, "?", name, "")
        token = secrets.token_urlsafe(16)
        self.sessions[token] = (t["name"], lesson)
        log.info("%s joins for %s", t["name"], lesson)
        raise web.HTTPFound(f"/t/{token}")

    def _session(self, request):
        from aiohttp import web

        token = request.match_info["token"]
        found = self.sessions.get(token)
        if found is None:
            raise web.HTTPFound("/join")
        return token, found

    async def handle_terminal(self, request):
        import aiohttp_jinja2

        token, (trainee, lesson) = self._session(request)
        router = request.app.router
        ws = f"ws://{request.host}/ws/{token}"
        context = {
            "font_size": 16,
            "app_websocket_url": ws,
            "config": {
                "static": {"url": str(router["static"].url_for(filename="/")).rstrip("/") + "/"}
            },
            "application": {"name": f"{trainee}: {self._title(lesson)}"},
        }
        return aiohttp_jinja2.render_template("app_index.html", request, context)

    def trainee_command(self, trainee, lesson):
        cmd = [
            sys.executable,
            "-m",
            "posterm.classroom.trainee",
            "--data",
            self.data_dir,
            "--trainee",
            trainee,
            "--lesson",
            lesson,
            "--lang",
            self.lang,
        ]
        if self.assess:
            cmd.append("--assess")
        return shlex.join(cmd)

    async def handle_trainee_ws(self, request):
        from aiohttp import web
        from textual_serve.app_service import AppService
        from textual_serve.server import to_int

        token, (trainee, lesson) = self._session(request)
        websocket = web.WebSocketResponse(heartbeat=15)
        width = to_int(request.query.get("width", "80"), 80)
        height = to_int(request.query.get("height", "24"), 24)
        service = None
        try:
            await websocket.prepare(request)
            service = AppService(
                self.trainee_command(trainee, lesson),
                write_bytes=websocket.send_bytes,
                write_str=websocket.send_str,
                close=websocket.close,
                download_manager=self.download_manager,
                debug=self.debug,
            )
            await service.start(width, height)
            try:
                await self._process_messages(websocket, service)
            finally:
                await service.stop()
        except asyncio.CancelledError:
            await websocket.close()
        except Exception as error:  # noqa: BLE001 - one trainee's failure is logged
            log.exception(error)
        finally:
            if service is not None:
                await service.stop()
        return websocket

    # -- the trainer ------------------------------------------------------------------------
    def _trainer_ok(self, request):
        from aiohttp import web

        key = request.query.get("key", "")
        if not hmac.compare_digest(key.encode(), self.trainer_key.encode()):
            raise web.HTTPForbidden(text="the trainer's page needs its key (printed at start)")

    def state(self):
        """Every trainee's live status and the class's results, as the page shows them."""
        from posterm.classroom import live, progress, roster

        r = roster.load(self.data_dir)
        members = [t["name"] for t in r.members(self.cohort)]
        prog = progress.collect(self.data_dir, members, self.lessons)
        results = []
        for name, per in prog.items():
            for lesson, p in per.items():
                if not p.attempts:
                    continue
                best = p.best
                results.append(
                    {
                        "trainee": name,
                        "lesson": lesson,
                        "title": self._title(lesson),
                        "attempts": len(p.attempts),
                        "passed": p.passed,
                        "best": f"{best['accuracy']}% {best['seconds']:g}s" if best else "",
                    }
                )
        return {
            "live": live.read_all(self.data_dir),
            "results": results,
            "not_passed": progress.not_passed(prog),
        }

    async def handle_trainer_state(self, request):
        from aiohttp import web

        self._trainer_ok(request)
        return web.json_response(self.state(), dumps=lambda o: json.dumps(o, ensure_ascii=False))

    async def handle_trainer(self, request):
        self._trainer_ok(request)
        w = self.w
        e = html.escape
        words = json.dumps(w, ensure_ascii=False)
        key = json.dumps(request.query.get("key", ""))
        mode = w["mode_assess"] if self.assess else w["mode_guided"]
        lessons = ", ".join(n.split("_", 1)[0] for n in self.lessons)
        klass = f"{self.cohort} · " if self.cohort else ""
        body = (
            f"<h1>{e(w['trainer'])}</h1>"
            f'<p class="meta">{e(klass)}{e(w["code"])} <b id="class-code">{e(self.code)}</b>'
            f" · {e(mode)} · {e(w['lesson'])} {e(lessons)}</p>"
            f"<h2>{e(w['live'])}</h2><div id=live>{e(w['nobody'])}</div>"
            f"<h2>{e(w['results'])}</h2><div id=results></div>"
            "<script>\n"
            f"const W = {words}; const KEY = {key};\n" + _TRAINER_JS + "</script>"
        )
        return self._page(body, w["trainer"])


_TRAINER_JS = r"""
function esc(s) { return String(s ?? "").replace(/[&<>"]/g,
  c => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}[c])); }
async function tick() {
  try {
    const r = await fetch("/trainer/state?key=" + encodeURIComponent(KEY));
    const s = await r.json();
    let h = "";
    if (s.live.length) {
      h = "<table id=live-table><tr><th>" + W.trainee + "</th><th>" + W.lesson +
          "</th><th>" + W.step + "</th><th>" + W.mistakes + "</th><th>" + W.state +
          "</th><th>" + W.updated + "</th></tr>";
      for (const t of s.live) {
        let st = W[t.state] || t.state;
        if (t.state === "completed" && t.mode === "assess")
          st += " (" + (t.passed ? W.passed : W.failed) + ")";
        h += "<tr data-trainee='" + esc(t.trainee) + "'><td>" + esc(t.trainee) + "</td><td>" +
             esc(t.title) + "</td><td class=step>" + t.step + "/" + t.steps +
             "</td><td class=mistakes>" + t.mistakes + "</td><td class='" + esc(t.state) +
             "'>" + esc(st) + "</td><td>" + esc((t.updated || "").slice(11)) + "</td></tr>";
      }
      h += "</table>";
    } else { h = esc(W.nobody); }
    document.getElementById("live").innerHTML = h;
    let g = "<table id=results-table><tr><th>" + W.trainee + "</th><th>" + W.lesson +
            "</th><th>#</th><th>" + W.passed + "</th></tr>";
    for (const x of s.results)
      g += "<tr data-trainee='" + esc(x.trainee) + "'><td>" + esc(x.trainee) + "</td><td>" +
           esc(x.title) + "</td><td>" +
           x.attempts + "</td><td class=" + (x.passed ? "yes" : "no") + ">" +
           esc(x.passed ? W.passed : W.failed) + " " + esc(x.best) + "</td></tr>";
    document.getElementById("results").innerHTML = g + "</table>";
  } catch (err) { /* the server is restarting: try again */ }
}
tick(); setInterval(tick, 1000);
"""
