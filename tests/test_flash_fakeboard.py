"""posterm flash against a fake board: MicroPython (WebAssembly) behind socket:// speaking
the raw REPL (tools/posterm/flash/fakeboard.mjs). Small trees keep it fast."""

import json
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from posterm.flash import build
from posterm.flash.device import Board, FlashError
from posterm.flash.flasher import flash

ROOT = Path(__file__).resolve().parent.parent
FAKEBOARD = ROOT / "tools" / "posterm" / "flash" / "fakeboard.mjs"


@pytest.fixture(scope="module")
def board_url():
    if shutil.which("node") is None or not (ROOT / "node_modules").is_dir():
        pytest.fail("the fake board needs node and `npm ci` (node_modules)")
    proc = subprocess.Popen(
        ["node", str(FAKEBOARD)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=ROOT
    )
    line = proc.stdout.readline()
    port = json.loads(line)["port"]
    yield f"socket://127.0.0.1:{port}"
    proc.stdin.close()
    proc.wait(timeout=10)


def _tree(extra=None):
    main = build.commit_source() + "\n_commit()\nimport app\n"
    tree = {
        "/main.py": main.encode(),
        "/app.py": b"VERSION = 1\n",
        "/lib/util.py": b"def double(x):\n    return 2 * x\n",
        "/menus/a.json": json.dumps({"k": "数据" * 50}, ensure_ascii=False).encode(),
    }
    tree.update(extra or {})
    return tree


def _run(url, tree, **kw):
    lines = []
    res = flash(
        url, "pico", tree_fn=lambda mpy: tree, progress=False, out=lines.append, reset=False, **kw
    )
    return res, lines


def _board_state(url):
    b = Board(url)
    try:
        b.enter()
        out = b.exec(
            "_commit()\n"  # what main.py does first at boot
            "import json, os\n"
            "def _h(p):\n"
            "    import hashlib, binascii\n"
            "    with open(p, 'rb') as f:\n"
            "        return binascii.hexlify(hashlib.sha256(f.read()).digest()).decode()\n"
            "_m = json.loads(open('/manifest.json').read())\n"
            "print(json.dumps({p: _h(p) for p in _m['files']}))\n"
            "print(json.dumps(_m['files']))\n"
        )
        actual, manifest = (json.loads(x) for x in out.decode().strip().splitlines()[-2:])
        return actual, manifest
    finally:
        b.close()


def test_flash_sends_a_tree_then_only_the_file_that_changed(board_url):
    tree = _tree()
    res, lines = _run(board_url, tree, full=True)
    assert sorted(res.changed) == sorted(tree)
    assert res.bytes_sent >= sum(len(d) for d in tree.values())
    assert "MicroPython 1.27.0" in lines[0]
    actual, manifest = _board_state(board_url)
    assert actual == manifest == {p: build.sha256(d) for p, d in tree.items()}

    tree2 = _tree({"/app.py": b"VERSION = 2\n"})
    res2, _ = _run(board_url, tree2)
    assert res2.changed == ["/app.py"]
    assert res2.removed == []
    assert res2.bytes_sent < 2000  # app.py and the manifest

    res3, lines3 = _run(board_url, tree2)
    assert res3.changed == [] and lines3[-1] == "up to date"


def test_a_removed_file_is_deleted_from_the_board(board_url):
    tree = _tree({"/old.py": b"x = 1\n"})
    _run(board_url, tree)
    tree.pop("/old.py")
    res, _ = _run(board_url, tree)
    assert res.removed == ["/old.py"]
    actual, manifest = _board_state(board_url)
    assert "/old.py" not in manifest and actual == manifest


def test_an_interrupted_flash_leaves_the_old_files_and_the_next_one_finishes(board_url):
    old = _tree()
    _run(board_url, old)
    new = _tree(
        {"/app.py": b"VERSION = 3\n", "/lib/util.py": b"def double(x):\n    return x + x\n"}
    )

    def cut(path):
        raise KeyboardInterrupt  # the cable pulled after the first file

    with pytest.raises(KeyboardInterrupt):
        _run(board_url, new, on_file=cut)
    actual, manifest = _board_state(board_url)
    assert actual == manifest == {p: build.sha256(d) for p, d in old.items()}

    res, _ = _run(board_url, new)
    assert res.changed == ["/app.py", "/lib/util.py"]
    actual, manifest = _board_state(board_url)
    assert actual == manifest == {p: build.sha256(d) for p, d in new.items()}


def test_a_power_cut_between_manifest_and_renames_is_rolled_forward(board_url):
    old = _tree()
    _run(board_url, old)
    b = Board(board_url)
    try:
        b.enter()
        data = b"VERSION = 4\n"
        b.write_verified("/app.py.new", data, build.sha256(data))
        files = {p: build.sha256(d) for p, d in old.items()}
        files["/app.py"] = build.sha256(data)
        m = json.dumps({"files": files, "pending": ["/app.py"], "remove": []}).encode()
        b.write_verified("/manifest.new", m, build.sha256(m))  # cut before any rename
    finally:
        b.close()
    actual, manifest = _board_state(board_url)  # main.py's _commit at boot
    assert manifest["/app.py"] == build.sha256(b"VERSION = 4\n")
    assert actual == manifest


def test_the_real_firmware_tree_imports_on_the_board(board_url):
    tree = build.deploy_tree("pico", 6)
    assert "/pos/terminal.mpy" in tree and "/main.py" in tree
    assert "/boards/fakes.mpy" not in tree
    assert all(tree[p][:2] == b"M\x06" for p in tree if p.endswith(".mpy"))
    res, _ = _run(board_url, tree)
    b = Board(board_url)
    try:
        b.enter()
        out = b.exec(
            "from pos.memstorage import MemoryStorage\n"
            "from pos.storage import FileStorage\n"
            "from pos.terminal import Terminal\n"
            "t = Terminal(MemoryStorage(), FileStorage('/menus', readonly=True), "
            "'lcd128x64', (2026, 11, 23, 9, 0, 0))\n"
            "t.start()\n"
            "print('|'.join(t.frame.text()))\n"
        )
    finally:
        b.close()
    assert out.decode().strip()  # the idle screen, computed by the flashed .mpy files


def test_a_port_that_does_not_exist_gets_a_message_and_a_hint():
    with pytest.raises(FlashError) as e:
        flash("/dev/does-not-exist-posterm", "pico", progress=False, out=lambda s: None)
    assert "cannot open /dev/does-not-exist-posterm" in str(e.value)
    assert "hint:" in str(e.value)


def test_a_board_that_does_not_answer_gets_a_message_and_a_hint():
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)  # accepts the connection, never answers
    port = srv.getsockname()[1]
    try:
        with pytest.raises(FlashError) as e:
            Board(f"socket://127.0.0.1:{port}").enter()
    finally:
        srv.close()
    assert "does not answer its REPL" in str(e.value)
    assert "boot loop" in str(e.value)


def test_the_cli_prints_one_line_errors(capsys):
    from posterm.cli import main

    assert main(["flash", "--port", "/dev/does-not-exist-posterm"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("posterm: error: cannot open") and "Traceback" not in err


def _board_tree():
    t = _tree()
    t.update({"/pos/app.mpy": b"M\x06", "/board.json": b'{"board": "pico"}'})
    return t


def test_flash_romfs_on_a_micropython_without_romfs_says_so_and_changes_nothing(board_url):
    _run(board_url, _tree(), full=True)
    before = _board_state(board_url)
    with pytest.raises(FlashError) as caught:
        _run(board_url, _board_tree(), romfs=True, romfs_deploy=lambda port, image: None)
    assert "has no ROMFS (vfs.rom_ioctl)" in str(caught.value)
    assert "flash without --romfs" in str(caught.value)
    assert _board_state(board_url) == before


def test_flash_romfs_deploys_the_image_and_keeps_only_main_and_board_json(board_url, monkeypatch):
    from mpremote.romfs import VfsRomWriter

    _run(board_url, _board_tree(), full=True)  # a files deploy first: /pos/app.mpy on the fs
    images = []
    # this fake board's MicroPython (wasm 1.27) has no ROM partition: say it has one, and
    # take the image the flasher hands to mpremote's romfs deploy
    monkeypatch.setattr(Board, "has_romfs", lambda self: True)
    res, lines = _run(
        board_url, _board_tree(), romfs=True, romfs_deploy=lambda port, img: images.append(img)
    )
    assert len(images) == 1 and images[0].startswith(VfsRomWriter.ROMFS_HEADER)
    assert res.romfs_bytes == len(images[0])
    assert any(line.startswith("ROMFS image deployed") for line in lines)
    actual, manifest = _board_state(board_url)
    assert sorted(manifest) == ["/board.json", "/main.py"]  # the rest went into the image
    assert actual == manifest
    assert "/pos/app.mpy" in res.removed  # or it would shadow /rom/pos/app.mpy on sys.path
    assert b"app.mpy" in images[0] and b"util.py" in images[0]


def test_a_dry_run_writes_the_names_map_of_the_renamed_firmware(board_url, tmp_path):
    from posterm.flash import minify

    path = tmp_path / "names.map"
    res = flash(
        board_url,
        "pico",
        dry_run=True,
        progress=False,
        out=lambda s: None,
        reset=False,
        names_map=str(path),
    )
    assert res.changed
    by_module = minify.parse_map(path.read_text())
    # (no firmware name said here: this file runs next to a deployed firmware, so a name it
    # said would be kept by the renamer)
    source = (Path(build.paths.FIRMWARE_DIR) / "pos" / "terminal.py").read_text()
    assert by_module["pos/terminal.py"]
    assert all(old in source for old in by_module["pos/terminal.py"].values())
    plain = tmp_path / "plain.map"
    flash(
        board_url,
        "pico",
        dry_run=True,
        progress=False,
        out=lambda s: None,
        reset=False,
        names_map=str(plain),
        rename=False,
    )
    assert minify.parse_map(plain.read_text()) == {}


def test_the_cli_writes_the_names_map_and_refuses_a_place_it_cannot_write(
    board_url, tmp_path, capsys
):
    from posterm.cli import main
    from posterm.flash import minify

    path = tmp_path / "names.map"
    args = ["flash", "--port", board_url, "--board", "pico", "--dry-run", "--no-reset"]
    assert main([*args, "--names-map", str(path)]) == 0
    text = path.read_text()
    assert minify.parse_map(text)["pos/terminal.py"]
    assert minify.NO_LINES_MARK in text  # a files deploy: no line numbers unless --lines
    assert main([*args, "--lines", "--names-map", str(path)]) == 0
    assert minify.NO_LINES_MARK not in path.read_text()
    capsys.readouterr()
    assert main([*args, "--names-map", str(tmp_path / "no" / "such" / "dir" / "m")]) == 2
    err = capsys.readouterr().err
    assert "cannot write the names map" in err and "Traceback" not in err
