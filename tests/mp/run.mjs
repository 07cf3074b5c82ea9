#!/usr/bin/env node
// Run posterm core test modules on real MicroPython (the WebAssembly build, npm package
// @micropython/micropython-webassembly-pyscript) and print one JSON line per test.
//
//   node tests/mp/run.mjs [options] MODULE[::TEST] ...
//
// MODULE is a path to a test_*.py file (usually tests/core/test_x.py); ::TEST picks one test
// function and may be repeated. Without ::TEST every test_* function is run, in source order.
//
// Options:
//   --timeout SECONDS   per test function and per module import (default 30)
//   --heapsize BYTES    initial MicroPython heap (default 1048576; the wasm heap grows anyway)
//   --root DIR          repository root (default: two levels above this file)
//   --text              human-readable lines instead of JSON
//
// JSON lines written to stdout:
//   {"event":"module","module","implementation","version","machine","tests":[...]}
//   {"event":"test","module","name","outcome","message","output","duration",
//    "mem_before","mem_after"}
//       outcome: passed | failed (AssertionError or timeout) | error (other exception,
//       import failure, missing function); duration in seconds; mem_* = gc.mem_alloc()
//       in bytes read at the start of a fresh top-level call, i.e. after garbage collection
//   {"event":"module-error","module","message"}   import failed and no test was named
//       (counted as one error)
//   {"event":"summary","passed","failed","error","duration"}
// Exit status: 0 all passed, 1 some test did not pass, 2 bad usage.
//
// Every module runs in its own VM in a worker thread. Each test function is its own top-level
// runPython() call (the wasm port only collects garbage between top-level calls). A test that
// runs past the timeout is reported as failed, the worker is terminated and a fresh VM carries
// on with the remaining tests of the module.
import { Worker } from "node:worker_threads";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

function usage(message) {
  process.stderr.write(`run.mjs: ${message}\n`);
  process.stderr.write("usage: node tests/mp/run.mjs [--timeout S] [--heapsize N] [--root DIR] " +
    "[--text] MODULE[::TEST] ...\n");
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { timeout: 30, heapsize: 1024 * 1024, root: path.resolve(here, "..", ".."),
    text: false, modules: new Map() };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) usage(`${arg} needs a value`);
      return argv[++i];
    };
    if (arg === "--timeout") opts.timeout = Number(value());
    else if (arg === "--heapsize") opts.heapsize = Number(value());
    else if (arg === "--root") opts.root = path.resolve(value());
    else if (arg === "--text") opts.text = true;
    else if (arg === "-h" || arg === "--help") usage("help");
    else if (arg.startsWith("-")) usage(`unknown option ${arg}`);
    else {
      const [file, name] = arg.split("::");
      const abs = path.resolve(file);
      const base = path.basename(abs);
      if (!base.endsWith(".py") || !IDENT.test(base.slice(0, -3))) {
        usage(`${file}: not a Python module path`);
      }
      if (!fs.existsSync(abs)) usage(`${file}: no such file`);
      if (name !== undefined && !IDENT.test(name)) usage(`${arg}: bad test name`);
      if (!opts.modules.has(abs)) opts.modules.set(abs, []);
      if (name !== undefined) opts.modules.get(abs).push(name);
    }
  }
  if (!(opts.timeout > 0)) usage("--timeout must be a positive number of seconds");
  if (!(opts.heapsize >= 16384)) usage("--heapsize must be at least 16384");
  if (opts.modules.size === 0) usage("no test module given");
  return opts;
}

// Test functions in source order (dir() order on MicroPython is arbitrary).
function sourceOrder(file, discovered) {
  const src = fs.readFileSync(file, "utf8");
  const order = [];
  for (const m of src.matchAll(/^def (test_[A-Za-z0-9_]*)\s*\(/gm)) {
    if (discovered.includes(m[1]) && !order.includes(m[1])) order.push(m[1]);
  }
  for (const name of discovered) if (!order.includes(name)) order.push(name);
  return order;
}

// One VM in a worker thread, with a promise-based request() that can time out.
class Vm {
  constructor(opts, extraModules) {
    this.worker = new Worker(path.join(here, "worker.mjs"), {
      workerData: { root: opts.root, extraModules, heapsize: opts.heapsize, pystack: 2048 },
      stdout: true, stderr: true,
    });
    this.worker.stdout.resume();
    this.worker.stderr.resume();
    this.pending = null;
    this.dead = null;
    this.ready = this.next();
    this.worker.on("message", (msg) => this.settle(msg));
    this.worker.on("error", (err) => this.fail(String(err && err.stack ? err.stack : err)));
    this.worker.on("exit", (code) => this.fail(`MicroPython worker exited (code ${code})`));
  }

  next() {
    return new Promise((resolve) => { this.pending = resolve; });
  }

  settle(msg) {
    const resolve = this.pending;
    this.pending = null;
    if (resolve) resolve(msg);
  }

  fail(message) {
    if (!this.dead) this.dead = message;
    this.settle({ op: "crash", message, output: "" });
  }

  async request(msg, seconds) {
    if (this.dead) return { op: "crash", message: this.dead, output: "" };
    const reply = this.next();
    this.worker.postMessage(msg);
    let timer;
    const timeout = new Promise((resolve) => {
      timer = setTimeout(() => resolve({ op: "timeout" }), seconds * 1000);
    });
    const result = await Promise.race([reply, timeout]);
    clearTimeout(timer);
    return result;
  }

  async start(seconds) {
    let timer;
    const timeout = new Promise((resolve) => {
      timer = setTimeout(() => resolve({ op: "timeout" }), seconds * 1000);
    });
    const result = await Promise.race([this.ready, timeout]);
    clearTimeout(timer);
    return result;
  }

  async stop() {
    this.dead = this.dead || "stopped";
    await this.worker.terminate();
  }
}

// MicroPython tracebacks name files by their VM paths and show no source. Rewrite them to
// repository paths, add each frame's source line (as CPython does) and drop the runner's frame.
function hostTraceback(text, opts, file) {
  const toHost = (vmPath) => {
    if (vmPath === "/tests/extra/" + path.basename(file)) return file;
    for (const dir of ["/firmware/", "/tests/core/", "/menus/", "/tools/posterm/bench/"]) {
      if (vmPath.startsWith(dir)) return path.join(opts.root, vmPath.slice(1));
    }
    return null;
  };
  const lines = [];
  for (const line of text.split("\n")) {
    const m = /^(\s*)File "([^"]+)", line (\d+)(.*)$/.exec(line);
    if (!m) {
      lines.push(line);
      continue;
    }
    if (m[2] === "/tests/mp/mpside.py") continue;
    const host = toHost(m[2]);
    if (!host) {
      lines.push(line);
      continue;
    }
    const shown = host.startsWith(opts.root + path.sep) ? path.relative(opts.root, host) : host;
    lines.push(`${m[1]}File "${shown}", line ${m[3]}${m[4]}`);
    try {
      const src = fs.readFileSync(host, "utf8").split("\n")[Number(m[3]) - 1];
      if (src && src.trim()) lines.push(`${m[1]}  ${src.trim()}`);
    } catch {
      // the file may be gone or unreadable; the frame line is still useful
    }
  }
  return lines.join("\n").replace(/\s+$/, "") + (text ? "\n" : "");
}

async function runModule(opts, file, wanted, emit) {
  const modname = path.basename(file, ".py");
  const coreDir = path.join(opts.root, "tests", "core");
  const extra = path.dirname(file) === coreDir ? [] : [file];
  const t = opts.timeout;

  async function boot() {
    const vm = new Vm(opts, extra);
    const started = await vm.start(t);
    if (started.op !== "ready") {
      await vm.stop();
      const why = started.op === "timeout" ? `did not boot within ${t} s` : started.message;
      return { vm: null, error: `MicroPython VM failed to start: ${why}` };
    }
    const loaded = await vm.request({ op: "load", module: modname }, t);
    if (loaded.op === "loaded") return { vm, loaded };
    await vm.stop();
    if (loaded.op === "timeout") {
      return { vm: null, error: `importing ${modname} on MicroPython did not finish within ${t} s` };
    }
    const out = loaded.output ? `--- output ---\n${loaded.output}` : "";
    const tb = hostTraceback(loaded.message, opts, file);
    return { vm: null, error: `importing ${modname} failed on MicroPython:\n${tb}${out}` };
  }

  let { vm, loaded, error } = await boot();
  const names = wanted.length ? wanted : loaded ? sourceOrder(file, loaded.tests) : [];
  emit({ event: "module", module: file, ...(loaded || { error }), tests: names,
    output: undefined, op: undefined });
  if (!loaded && names.length === 0) emit({ event: "module-error", module: file, message: error });
  for (const name of names) {
    const base = { event: "test", module: file, name };
    if (!vm) {
      emit({ ...base, outcome: "error", message: error, output: "", duration: 0,
        mem_before: null, mem_after: null });
      continue;
    }
    const t0 = performance.now();
    const reply = await vm.request({ op: "run", module: modname, name }, t);
    if (reply.op === "result") {
      emit({ ...base, outcome: reply.outcome, message: hostTraceback(reply.message, opts, file),
        output: reply.output,
        duration: reply.duration, mem_before: reply.mem_before, mem_after: reply.mem_after });
      continue;
    }
    const duration = (performance.now() - t0) / 1000;
    const message = reply.op === "timeout"
      ? `timed out: ${name} was still running after ${t} s on MicroPython (VM restarted)`
      : `the MicroPython VM crashed while running ${name}:\n${reply.message}`;
    emit({ ...base, outcome: reply.op === "timeout" ? "failed" : "error", message,
      output: reply.output || "", duration, mem_before: null, mem_after: null });
    await vm.stop();
    ({ vm, loaded, error } = await boot());
  }
  if (vm) await vm.stop();
}

function textEmitter() {
  return (rec) => {
    const rel = rec.module ? path.relative(process.cwd(), rec.module) : "";
    if (rec.event === "module") {
      if (rec.error) process.stdout.write(`ERROR ${rel}: ${rec.error}\n`);
      else process.stdout.write(`# ${rel} on ${rec.implementation} ${rec.version} ` +
        `(${rec.machine}): ${rec.tests.length} tests\n`);
    } else if (rec.event === "test") {
      const mem = rec.mem_after === null ? "" : `, heap ${rec.mem_before} -> ${rec.mem_after} B`;
      process.stdout.write(`${rec.outcome.toUpperCase()} ${rel}::${rec.name} ` +
        `(${(rec.duration * 1000).toFixed(1)} ms${mem})\n`);
      if (rec.outcome !== "passed") process.stdout.write(rec.message.replace(/^/gm, "    ") + "\n");
      if (rec.outcome !== "passed" && rec.output) {
        process.stdout.write("    --- output ---\n" + rec.output.replace(/^/gm, "    ") + "\n");
      }
    } else if (rec.event === "summary") {
      process.stdout.write(`${rec.passed} passed, ${rec.failed} failed, ${rec.error} errors ` +
        `in ${rec.duration.toFixed(2)} s\n`);
    }
  };
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const print = opts.text ? textEmitter() : (rec) => process.stdout.write(JSON.stringify(rec) + "\n");
  const counts = { passed: 0, failed: 0, error: 0 };
  const emit = (rec) => {
    if (rec.event === "test") counts[rec.outcome] += 1;
    if (rec.event === "module-error") counts.error += 1;
    print(rec);
  };
  const t0 = performance.now();
  for (const [file, wanted] of opts.modules) await runModule(opts, file, wanted, emit);
  print({ event: "summary", ...counts, duration: (performance.now() - t0) / 1000 });
  process.exitCode = counts.failed || counts.error ? 1 : 0;
}

await main();
