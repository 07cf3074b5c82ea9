#!/usr/bin/env node
// Per-module heap cost on MicroPython (WebAssembly build), for `posterm bench`:
//
//   node tools/posterm/bench/mpmodules.mjs --src DIR [--menus DIR]
//
// DIR holds pos/** (.py or .mpy as compiled by mpy-cross). Each module is imported alone
// in a fresh VM; the figure is gc.mem_alloc() after the import (and a collection) minus
// before it: the module's bytecode, its constants and tables, and every module it
// imports. *_cp modules (the CPython halves of dual-path modules) are left out. Prints {"alone": {"pos.x": bytes, ...}, "own": {...}} on stdout.
import fs from "node:fs";
import path from "node:path";
import { loadMicroPython } from "@micropython/micropython-webassembly-pyscript";

const args = process.argv.slice(2);
const src = path.resolve(args[args.indexOf("--src") + 1]);

function copyTree(mp, from, dest) {
  mp.FS.mkdirTree(dest);
  for (const e of fs.readdirSync(from, { withFileTypes: true })) {
    if (e.name === "__pycache__" || e.name.startsWith(".")) continue;
    const p = path.join(from, e.name);
    if (e.isDirectory()) copyTree(mp, p, dest + "/" + e.name);
    else if (e.isFile()) mp.FS.writeFile(dest + "/" + e.name, fs.readFileSync(p));
  }
}
const mods = [];
const walk = (dir, pkg) => {
  for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (e.isDirectory() && e.name !== "__pycache__") walk(path.join(dir, e.name), pkg + "." + e.name);
    else if (/\.(py|mpy)$/.test(e.name) && !e.name.startsWith("__init__.") && !/_cp\.m?py$/.test(e.name)) {
      mods.push(pkg + "." + e.name.replace(/\.m?py$/, ""));
    }
  }
};
walk(path.join(src, "pos"), "pos");
const result = {};
for (const name of mods) {
  const mp = await loadMicroPython({ heapsize: 1024 * 1024, pystack: 2048, linebuffer: false,
    stdout: () => {}, stderr: () => {} });
  copyTree(mp, path.join(src, "pos"), "/firmware/pos");
  mp.runPython("import sys, gc\nsys.path[:] = ['/firmware']\nimport pos\ngc.collect()");
  mp.runPython("_a = gc.mem_alloc()");
  mp.runPython(`import ${name}`);
  mp.runPython("gc.collect()");
  mp.runPython("_r = gc.mem_alloc() - _a");
  result[name] = mp.globals.get("_r");
}
// Own cost: in one VM, import the modules cheapest first (a module's imports are then
// mostly loaded already), each delta is that module's own share.
const own = {};
{
  const mp = await loadMicroPython({ heapsize: 1024 * 1024, pystack: 2048, linebuffer: false,
    stdout: () => {}, stderr: () => {} });
  copyTree(mp, path.join(src, "pos"), "/firmware/pos");
  mp.runPython("import sys, gc\nsys.path[:] = ['/firmware']\nimport pos\ngc.collect()");
  const order = Object.keys(result).sort((a, b) => result[a] - result[b]);
  for (const name of order) {
    mp.runPython("_a = gc.mem_alloc()");
    mp.runPython(`import ${name}`);
    mp.runPython("gc.collect()");
    mp.runPython("_r = gc.mem_alloc() - _a");
    own[name] = mp.globals.get("_r");
  }
  mp.runPython("_r = gc.mem_alloc()");
  own["(all)"] = mp.globals.get("_r");
}
process.stdout.write(JSON.stringify({ alone: result, own }) + "\n");
