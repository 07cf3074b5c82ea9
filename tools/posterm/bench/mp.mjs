#!/usr/bin/env node
// MicroPython figures for `posterm bench`, on the WebAssembly build of MicroPython
// (npm @micropython/micropython-webassembly-pyscript, pinned in package.json).
//
//   node tools/posterm/bench/mp.mjs [--quick] [--root DIR] [--settle] [--mpy DIR] [--rounds N]
//        [--f0200 HEX --f0810 HEX]
//
// Copies firmware/pos, menus and the bench's walk.py, scriptcenter.py and mpcases.py into the
// VM's filesystem
// and calls mpcases.* one top-level call at a time (the wasm port collects garbage only
// when a top-level call returns, so gc.mem_alloc() at the start of a call is the live heap).
// Prints one JSON object on stdout:
//   des: {n, us, alloc}, codec: [{n, us, alloc} for the 0200, the 0810],
//   walk: {events, baseline, steps: [{live, us, key}], frames: [...], waits: [{live, event}]}
//   (modules loaded as the board loads them; waits: the heap while the terminal waits for
//   the center's answer), resident: the same with every firmware module imported first,
//   all_modules: heap with every firmware module imported (from the baseline),
//   latency_rounds: the key latencies (us) of N runs of the board's walk, version
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { loadMicroPython } from "@micropython/micropython-webassembly-pyscript";

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const quick = args.includes("--quick");
const settle = args.includes("--settle");
const roundsArg = args.indexOf("--rounds");
const rounds = roundsArg >= 0 ? parseInt(args[roundsArg + 1], 10) : 1;
const rootArg = args.indexOf("--root");
const root = rootArg >= 0 ? path.resolve(args[rootArg + 1]) : path.resolve(here, "..", "..", "..");
function hexArg(name) {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : null;
}

let out = [];
const collect = (bytes) => { for (const b of bytes) out.push(b); };
let mp = null;

function copyTree(src, dest) {
  mp.FS.mkdirTree(dest);
  for (const e of fs.readdirSync(src, { withFileTypes: true })) {
    if (e.name === "__pycache__" || e.name.startsWith(".")) continue;
    const from = path.join(src, e.name);
    if (e.isDirectory()) copyTree(from, dest + "/" + e.name);
    else if (e.isFile()) mp.FS.writeFile(dest + "/" + e.name, fs.readFileSync(from));
  }
}
// --mpy DIR: the firmware as compiled by mpy-cross (DIR/pos/**.mpy), as a board runs it
const mpyDir = hexArg("--mpy");

function call(src) {
  try {
    mp.runPython(src);
  } catch (err) {
    const text = new TextDecoder().decode(new Uint8Array(out));
    throw new Error(`MicroPython failed on ${src}:\n${err.message || err}\n${text}`);
  }
  const v = mp.globals.get("_r");
  // drop the result and flag a collection: it runs when this call returns, so the next
  // call starts on the live heap
  mp.runPython("_r = None\nimport gc\ngc.collect()");
  return v;
}
const J = (src) => JSON.parse(call(`_r = ${src}`));

// A fresh VM with the firmware, the menus and the bench's modules; mpcases imported.
async function freshVm() {
  mp = await loadMicroPython({ heapsize: 1024 * 1024, pystack: 2048, linebuffer: false,
    stdout: collect, stderr: collect });
  copyTree(mpyDir ? path.join(mpyDir, "pos") : path.join(root, "firmware", "pos"), "/firmware/pos");
  copyTree(path.join(root, "menus"), "/menus");
  mp.registerJsModule("benchclock", { now: () => performance.now() });
  mp.FS.mkdirTree("/bench");
  for (const f of ["walk.py", "scriptcenter.py", "mpcases.py"]) {
    mp.FS.writeFile("/bench/" + f, fs.readFileSync(path.join(here, f)));
  }
  mp.FS.mkdirTree("/data");
  call("import sys, os\nsys.path[:] = ['/bench', '/firmware', '.frozen', '/lib']\nos.chdir('/')\n" +
    "import mpcases\n_r = '.'.join(str(v) for v in sys.implementation.version[:3])");
}

// The board's firmware modules (*_cp.py: the CPython halves of dual-path modules, which a
// board never imports, are left out, and so are the modules only they and the desktop
// tools import: pos.cupspec, whose table the MicroPython codec carries as bytes).
const CPYTHON_ONLY = ["pos.cupspec"];
const mods = [];
const walkPy = (dir, pkg) => {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory() && e.name !== "__pycache__") walkPy(path.join(dir, e.name), pkg + "." + e.name);
    else if (e.name.endsWith(".py") && e.name !== "__init__.py" && !e.name.endsWith("_cp.py")) {
      mods.push(pkg + "." + e.name.slice(0, -3));
    }
  }
};
walkPy(path.join(root, "firmware", "pos"), "pos");
for (const m of CPYTHON_ONLY) if (mods.includes(m)) mods.splice(mods.indexOf(m), 1);

// The cashier's day, one event per top-level call, in a VM where no firmware module is
// loaded yet (the baseline). resident: every firmware module imported first (the issue's
// "all modules loaded"); else the modules load as the board loads them (on first use,
// an action's dropped when it ends: pos.overlay).
function runWalk(resident) {
  const setup = J(`mpcases.walk_setup(${settle ? "True" : "False"}, "/data")`);
  const baseline = call("_r = mpcases.mem()");
  let modules = null;
  if (resident) {
    call(`_r = mpcases.import_all(${JSON.stringify(mods)})`);
    modules = call("_r = mpcases.mem()") - baseline;
  }
  call("_r = mpcases.walk_start()");
  const steps = [];
  const frames = [];
  // waits: the live heap while the terminal waits for the center's answer (the center
  // answers in the next top-level call, so the GC has run with the request sent and the
  // exchange's code loaded)
  const waits = [];
  for (let i = 0; i < setup.events; i++) {
    const s = J(`mpcases.walk_handle(${i})`);
    steps.push({ live: s.live, us: s.us, key: s.key });
    let p = J("mpcases.walk_pump()");
    while (p.send) {
      p = J("mpcases.walk_pump()");
      waits.push({ live: p.live, event: i });
    }
    frames.push(p.frame);
  }
  const lastLive = call("_r = mpcases.mem()");
  steps.push({ live: lastLive, us: null, key: false });
  return { ...setup, baseline, modules, steps, frames, waits };
}

await freshVm();
const version = call("_r = '.'.join(str(v) for v in sys.implementation.version[:3])");
// ROMFS (bytecode run in place from flash, as a board with the firmware in ROMFS runs it)?
const romfs = call("import vfs\n_r = hasattr(vfs, 'VfsRom') or hasattr(vfs, 'rom_ioctl')");
const result = { version, quick, modules: mods, romfs };
result.resident = runWalk(true);
result.all_modules = result.resident.modules;
await freshVm();
result.walk = runWalk(false);
// more rounds of the board's walk (fresh VMs) for the latency figure only
result.latency_rounds = [result.walk.steps.filter((x) => x.key).map((x) => x.us)];
for (let r = 1; r < rounds; r++) {
  await freshVm();
  result.latency_rounds.push(runWalk(false).steps.filter((x) => x.key).map((x) => x.us));
}

// DES and codec.
call("_r = mpcases.des_setup()");
result.des = J(`mpcases.des_run(${quick ? 200 : 3000})`);
const h0200 = hexArg("--f0200");
const h0810 = hexArg("--f0810");
if (h0200 && h0810) {
  call(`_r = mpcases.codec_setup("${h0200}", "${h0810}")`);
  result.codec = [J(`mpcases.codec_run(0, ${quick ? 50 : 1000})`),
    J(`mpcases.codec_run(1, ${quick ? 50 : 1000})`)];
}
process.stdout.write(JSON.stringify(result) + "\n");
