# Runner for the core tests on MicroPython (WebAssembly build under node); see client.py,
# plugin.py (pytest side), run.mjs and worker.mjs (node side), mpside.py (MicroPython side).
