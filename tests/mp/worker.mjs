// Hosts one MicroPython (WebAssembly) VM in a worker thread for tests/mp/run.mjs.
// The main thread can terminate this worker when a test hangs: a wasm call cannot be
// interrupted from inside, so the timeout lives outside the thread that runs Python.
//
// Messages in:  {op: "load", module}            -> {op: "loaded", ...} | {op: "load-error", ...}
//               {op: "run", module, name}       -> {op: "result", ...}
import { parentPort, workerData } from "node:worker_threads";
import fs from "node:fs";
import path from "node:path";
import { loadMicroPython } from "@micropython/micropython-webassembly-pyscript";

const { root, extraModules, heapsize, pystack } = workerData;

// Output of the VM, collected per call (byte callbacks, so partial lines are kept too).
let outBytes = [];
const collect = (bytes) => {
  for (const b of bytes) outBytes.push(b);
};
const takeOutput = () => {
  const text = new TextDecoder().decode(new Uint8Array(outBytes));
  outBytes = [];
  return text;
};

const mp = await loadMicroPython({
  heapsize,
  pystack,
  linebuffer: false,
  stdout: collect,
  stderr: collect,
});

// Copy a host directory tree into the VM's in-memory filesystem.
function copyTree(src, dest, keep) {
  if (!fs.existsSync(src)) return 0;
  mp.FS.mkdirTree(dest);
  let n = 0;
  for (const entry of fs.readdirSync(src, { withFileTypes: true })) {
    if (entry.name === "__pycache__" || entry.name.startsWith(".")) continue;
    const from = path.join(src, entry.name);
    const to = dest + "/" + entry.name;
    if (entry.isDirectory()) n += copyTree(from, to, keep);
    else if (entry.isFile() && keep(entry.name)) {
      mp.FS.writeFile(to, fs.readFileSync(from));
      n += 1;
    }
  }
  return n;
}

const isPy = (name) => name.endsWith(".py");
const coreDir = path.join(root, "tests", "core");
copyTree(path.join(root, "firmware", "pos"), "/firmware/pos", () => true);
copyTree(path.join(root, "firmware", "boards"), "/firmware/boards", () => true);
copyTree(path.join(root, "menus"), "/menus", () => true);
if (fs.existsSync(coreDir)) {
  mp.FS.mkdirTree("/tests/core");
  for (const name of fs.readdirSync(coreDir)) {
    if (isPy(name)) mp.FS.writeFile("/tests/core/" + name, fs.readFileSync(path.join(coreDir, name)));
  }
}
// the scripted center the core tests share with the bench (tests/core/fakecenter.py)
mp.FS.mkdirTree("/tools/posterm/bench");
mp.FS.writeFile(
  "/tools/posterm/bench/scriptcenter.py",
  fs.readFileSync(path.join(root, "tools", "posterm", "bench", "scriptcenter.py")),
);
mp.FS.mkdirTree("/tests/mp");
mp.FS.writeFile("/tests/mp/mpside.py", fs.readFileSync(path.join(root, "tests", "mp", "mpside.py")));
mp.FS.mkdirTree("/tests/extra");
for (const file of extraModules) {
  mp.FS.writeFile("/tests/extra/" + path.basename(file), fs.readFileSync(file));
}

mp.runPython(
  "import sys, os\n" +
    "sys.path[:] = ['/tests/extra', '/tests/core', '/firmware', '/tests/mp', '.frozen', '/lib',\n" +
    "  '/tools/posterm/bench']\n" +
    "os.chdir('/')\n" +
    "import mpside\n",
);
takeOutput();

// Run Python source as its own top-level call and return the global `_r` it sets.
function call(source) {
  mp.runPython(source);
  const value = mp.globals.get("_r");
  mp.runPython("_r = None");
  return value;
}

const pyStr = (s) => JSON.stringify(s); // a JSON string literal is a valid Python literal here

parentPort.on("message", (msg) => {
  try {
    if (msg.op === "load") {
      const reply = JSON.parse(call(`_r = mpside.load(${pyStr(msg.module)})`));
      const output = takeOutput();
      if (reply.error) parentPort.postMessage({ op: "load-error", message: reply.error, output });
      else parentPort.postMessage({ op: "loaded", ...reply, output });
    } else if (msg.op === "run") {
      const t0 = performance.now();
      const reply = JSON.parse(call(`_r = mpside.run(${pyStr(msg.module)}, ${pyStr(msg.name)})`));
      const duration = (performance.now() - t0) / 1000;
      const output = takeOutput();
      // A fresh top-level call: the garbage of the test has been collected by now.
      const memAfter = call("_r = mpside.mem()");
      parentPort.postMessage({
        op: "result",
        ...reply,
        duration,
        mem_after: memAfter,
        output,
      });
    }
  } catch (err) {
    // A PythonError escaping mpside (e.g. MemoryError while reporting) or a VM failure.
    parentPort.postMessage({
      op: "crash",
      message: String(err && err.stack ? err.stack : err),
      output: takeOutput(),
    });
  }
});

parentPort.postMessage({ op: "ready" });
