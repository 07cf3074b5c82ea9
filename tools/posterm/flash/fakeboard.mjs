#!/usr/bin/env node
// A fake MicroPython board for `posterm flash` without hardware: the MicroPython
// WebAssembly build behind a TCP socket (pyserial/mpremote: socket://127.0.0.1:PORT)
// speaking the REPL the way a board does over USB:
//   - the friendly and raw REPL come from the VM's own event-driven REPL;
//   - raw-paste (Ctrl-E A Ctrl-A) is emulated here (the wasm stdin is stubbed), with a
//     128-byte window and flow control;
//   - a soft reset (Ctrl-D in the raw REPL) or machine.reset() starts a fresh VM that keeps
//     the files, as a board keeps its flash; main.py is not run (the raw REPL skips it).
//   - machine.UART(id, ...) in the VM is the board's second serial port (the host link to
//     `posterm bridge`): a second TCP port (socket://127.0.0.1:UART) carries its bytes.
//     The VM cannot block, so read() returns what node has received so far; node moves the
//     bytes between two REPL execs (the board loop is driven by execs, one step each).
//
//   node tools/posterm/flash/fakeboard.mjs [--port N] [--uart M]
//       prints {"port": N, "uart": M} on stdout
//
// One client at a time on each port; when the REPL client disconnects the board keeps
// running and its files.
import net from "node:net";
import { loadMicroPython } from "@micropython/micropython-webassembly-pyscript";

const args = process.argv.slice(2);
const want = args.includes("--port") ? Number(args[args.indexOf("--port") + 1]) : 0;
const wantUart = args.includes("--uart") ? Number(args[args.indexOf("--uart") + 1]) : 0;
const WINDOW = 128;

let mp = null;
let sock = null;
let out = []; // bytes written by the VM since the last flush
let dropOk = 0; // "OK" bytes of the raw REPL to hide after a raw-paste
let files = new Map(); // path -> Uint8Array, kept across resets
let resets = 0;
let uartSock = null; // the client of the link UART port (the bridge)
let uartRx = []; // bytes the bridge sent, not yet read by the VM

function send(bytes) {
  if (sock && !sock.destroyed) sock.write(Buffer.from(bytes));
}

function vmOut(bytes) {
  for (const b of bytes) {
    if (dropOk > 0) {
      dropOk -= 1;
      continue;
    }
    out.push(b);
  }
}

// WASI errno numbers -> the ones a board (and mpremote's table) uses
const ERRNO = { 44: 2, 20: 17, 54: 20, 31: 21, 55: 39, 28: 22 };

function flush() {
  if (out.length) {
    let text = Buffer.from(out).toString("latin1");
    text = text.replace(/OSError: (\d+)/g, (m, n) => "OSError: " + (ERRNO[n] ?? n));
    text = text.replace(/\[Errno (\d+)\]/g, (m, n) => "[Errno " + (ERRNO[n] ?? n) + "]");
    send(Buffer.from(text, "latin1"));
    out = [];
  }
}

function walk(dir, fn) {
  for (const name of mp.FS.readdir(dir)) {
    if (name === "." || name === "..") continue;
    const p = dir === "/" ? "/" + name : dir + "/" + name;
    if (["/dev", "/proc", "/tmp", "/home"].includes(p)) continue;
    const st = mp.FS.stat(p);
    if (mp.FS.isDir(st.mode)) {
      fn(p, null);
      walk(p, fn);
    } else fn(p, mp.FS.readFile(p));
  }
}

async function boot() {
  if (mp) {
    files = new Map();
    walk("/", (p, data) => files.set(p, data));
  }
  mp = await loadMicroPython({ stdout: vmOut, stderr: vmOut, linebuffer: false });
  for (const [p, data] of files) {
    if (data === null) mp.FS.mkdirTree(p);
    else mp.FS.writeFile(p, data);
  }
  mp.registerJsModule("_fakeboard", {
    reset: () => {
      pendingReset = true;
    },
    // the link UART; bytes cross as hex text (plain strings convert cleanly both ways)
    uart_any: () => uartRx.length,
    uart_read: (n) => {
      const k = n < 0 || n > uartRx.length ? uartRx.length : n;
      const chunk = uartRx.splice(0, k);
      return Buffer.from(chunk).toString("hex");
    },
    uart_write: (hex) => {
      const data = Buffer.from(hex, "hex");
      if (uartSock && !uartSock.destroyed) uartSock.write(data);
      return data.length; // nothing attached: the bytes are lost, as on a real UART
    },
  });
  // machine.reset() on this board: a hard reset is a fresh VM keeping the files
  mp.runPython(
    "import sys\nsys.path[:] = ['', '/lib', '.frozen']\n" +
      "class _UART:\n" +
      "    def __init__(self, id, baudrate=115200, **kw):\n" +
      "        self.id = id\n        self.baudrate = baudrate\n" +
      "    def any(self):\n" +
      "        import _fakeboard\n        return _fakeboard.uart_any()\n" +
      "    def read(self, n=-1):\n" +
      "        import _fakeboard, binascii\n" +
      "        h = _fakeboard.uart_read(-1 if n is None else n)\n" +
      "        return binascii.unhexlify(h) if h else (b'' if n == 0 else None)\n" +
      "    def write(self, data):\n" +
      "        import _fakeboard, binascii\n" +
      "        return _fakeboard.uart_write(binascii.hexlify(data).decode())\n" +
      "class _Machine:\n" +
      "    UART = _UART\n" +
      "    def reset(self):\n" +
      "        import _fakeboard\n        _fakeboard.reset()\n        raise SystemExit\n" +
      "    def unique_id(self):\n        return b'fakebd01'\n" +
      "sys.modules['machine'] = _Machine()\n",
  );
  out = [];
  mp.replInit();
}

let pendingReset = false;
let state = "repl"; // "repl" | "paste"
let escape = []; // bytes of a possible raw-paste request
let paste = [];
let pasteSinceAck = 0;
let queue = Promise.resolve();

async function softReset(banner) {
  resets += 1;
  await boot();
  out = [];
  if (banner) {
    send(Buffer.from("MPY: soft reboot\r\n"));
    mp.replProcessChar(1); // back into the raw REPL, as a board in raw mode does
  }
  flush();
}

// -> null, or the reset to do ("hard" | "soft") before the next byte
function feedRepl(b) {
  const r = mp.replProcessChar(b);
  if (pendingReset) {
    pendingReset = false;
    return "hard";
  }
  if (r === 0x100) return "soft";
  return null;
}

function onByte(b) {
  if (state === "paste") {
    if (b === 4) {
      // end of the pasted code: ack, then run it through the raw REPL
      send([4]);
      state = "repl";
      const code = paste;
      paste = [];
      for (const c of code) mp.replProcessChar(c);
      dropOk = 2; // the raw REPL says "OK" on Ctrl-D; raw-paste does not
      const r = feedRepl(4);
      flush();
      dropOk = 0;
      return r;
    }
    paste.push(b);
    pasteSinceAck += 1;
    if (pasteSinceAck >= WINDOW) {
      pasteSinceAck -= WINDOW;
      send([1]);
    }
    return null;
  }
  // raw-paste request: Ctrl-E 'A' Ctrl-A (only meaningful in the raw REPL)
  if (escape.length || b === 5) {
    escape.push(b);
    if (escape.length === 3) {
      const seq = escape;
      escape = [];
      if (seq[1] === 0x41 && seq[2] === 1) {
        state = "paste";
        paste = [];
        pasteSinceAck = 0;
        send([0x52, 1, WINDOW & 0xff, WINDOW >> 8]);
        return null;
      }
      for (const c of seq) {
        const r = feedRepl(c);
        if (r) return r;
      }
    }
    return null;
  }
  return feedRepl(b);
}

await boot();
const server = net.createServer((s) => {
  if (sock && !sock.destroyed) {
    s.end("busy: another client is connected\r\n");
    return;
  }
  sock = s;
  s.setNoDelay(true);
  s.on("data", (chunk) => {
    queue = queue.then(async () => {
      for (const b of chunk) {
        const r = onByte(b);
        if (r) {
          flush();
          await softReset(r === "soft");
        }
      }
      flush();
    });
  });
  s.on("error", () => {});
  s.on("close", () => {
    if (sock === s) sock = null;
    state = "repl";
    escape = [];
    paste = [];
  });
});
// the link UART: one client (the bridge); its bytes wait in uartRx for the VM to read
const uartServer = net.createServer((s) => {
  if (uartSock && !uartSock.destroyed) {
    s.end();
    return;
  }
  uartSock = s;
  s.setNoDelay(true);
  s.on("data", (chunk) => {
    for (const b of chunk) uartRx.push(b);
  });
  s.on("error", () => {});
  s.on("close", () => {
    if (uartSock === s) uartSock = null;
  });
});
await new Promise((ok) => uartServer.listen(wantUart, "127.0.0.1", ok));
server.listen(want, "127.0.0.1", () => {
  const ports = { port: server.address().port, uart: uartServer.address().port };
  process.stdout.write(JSON.stringify(ports) + "\n");
});
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();
