#!/usr/bin/env node
// `posterm replay --runtime micropython`: the player (player.py) on the WebAssembly build
// of MicroPython (npm @micropython/micropython-webassembly-pyscript, pinned in package.json).
//
//   node tools/posterm/replay/replay.mjs ROOT RECORDING
//
// Copies firmware/pos, firmware/boards (the ESC/POS writer and its GB2312 table), menus,
// the player and the recording into the VM's filesystem, then feeds the recording one line
// per top-level call (the wasm port collects garbage only when a top-level call returns).
// Prints one line "\x02REPLAY:" + JSON: null when every output matched, else the first
// difference.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { loadMicroPython } from "@micropython/micropython-webassembly-pyscript";

const here = path.dirname(fileURLToPath(import.meta.url));
const [root, recording] = process.argv.slice(2);
let out = [];
const collect = (bytes) => { for (const b of bytes) out.push(b); };
const mp = await loadMicroPython({ heapsize: 4 * 1024 * 1024, pystack: 4096, linebuffer: false,
  stdout: collect, stderr: collect });

function copyTree(src, dest) {
  mp.FS.mkdirTree(dest);
  for (const e of fs.readdirSync(src, { withFileTypes: true })) {
    if (e.name === "__pycache__" || e.name.startsWith(".")) continue;
    const from = path.join(src, e.name);
    if (e.isDirectory()) copyTree(from, dest + "/" + e.name);
    else if (e.isFile()) mp.FS.writeFile(dest + "/" + e.name, fs.readFileSync(from));
  }
}
copyTree(path.join(root, "firmware", "pos"), "/firmware/pos");
copyTree(path.join(root, "firmware", "boards"), "/firmware/boards");
copyTree(path.join(root, "menus"), "/menus");
mp.FS.mkdirTree("/replay");
mp.FS.writeFile("/replay/player.py", fs.readFileSync(path.join(here, "player.py")));
mp.FS.writeFile("/replay/session.jsonl", fs.readFileSync(recording));

function call(src) {
  try {
    mp.runPython(src);
  } catch (err) {
    const text = new TextDecoder().decode(new Uint8Array(out));
    return JSON.stringify({ step: 0, line: 0, input: null, what: "error", expected: null,
      got: `MicroPython failed: ${err.message || err} ${text}`.slice(-1500) });
  }
  return mp.globals.get("_r");
}

let r = call(`
import sys, os, json
sys.path[:] = ['/replay', '/firmware', '.frozen', '/lib']
os.chdir('/')
import player
from pos.storage import FileStorage
_res = FileStorage('/menus', readonly=True)
_f = open('/replay/session.jsonl')
_paper = 32
try:
    if json.loads(_f.readline()).get('paper') == '80mm':
        _paper = 48
except (ValueError, AttributeError):
    pass
_f.close()
_enc = player.escpos_encoder('/firmware/boards/data/gb2312.bin', _paper)
_f = open('/replay/session.jsonl')
_lines = iter(_f)
_s = player.Session(_res, _enc)
def _step(n):
    # the next n lines through the player: -> JSON of the difference, "" to go on
    for _ in range(n):
        try:
            text = next(_lines)
        except StopIteration:
            return json.dumps(_s.finish())
        d = _s.line(text)
        if d is not None:
            return json.dumps(d)
    return ""
_r = ""
`);
if (r !== "") {
  process.stdout.write("\x02REPLAY:" + r + "\n");
  process.exit(0);
}
let result = "";
while (result === "") {
  result = call("_r = _step(20)");
  if (result === undefined || result === null) result = "null";
}
process.stdout.write("\x02REPLAY:" + result + "\n");
