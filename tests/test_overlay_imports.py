"""Overlays are addressed by import (`with overlay.scope(): from pos.flows import online`), so
that a rename fails here, at import time, and the calls can be followed: every action of the
table resolves to a flow, every module imported inside an overlay scope exists and has the
functions called on it, and no name imported in a scope outlives its block (a local that keeps
the module would keep its bytecode in a board's heap)."""

import ast
import importlib
import inspect
import json
import pathlib

import pytest

from pos import actions

ROOT = pathlib.Path(__file__).resolve().parents[1]
FIRMWARE = ROOT / "firmware"


def _sources():
    return sorted(p for p in (FIRMWARE / "pos").rglob("*.py"))


def _is_scope(item):
    # `with overlay.scope():`
    e = item.context_expr
    return (
        isinstance(e, ast.Call)
        and isinstance(e.func, ast.Attribute)
        and e.func.attr == "scope"
        and isinstance(e.func.value, ast.Name)
        and e.func.value.id == "overlay"
    )


def _scopes(tree):
    # -> [(with node, the function it is in, the body list holding it)]
    out = []

    def walk(node, func):
        for _name, value in ast.iter_fields(node):
            if isinstance(value, list):
                for child in value:
                    if isinstance(child, ast.AST):
                        if isinstance(child, ast.With) and any(_is_scope(i) for i in child.items):
                            out.append((child, func, value))
                        f = child if isinstance(child, (ast.FunctionDef,)) else func
                        walk(child, f)
            elif isinstance(value, ast.AST):
                walk(value, func)

    walk(tree, None)
    return out


def _imported(block):
    # {local name: module path} for the imports directly in a scope's body
    names = {}
    for st in block.body:
        if isinstance(st, ast.ImportFrom) and st.module and st.module.startswith("pos"):
            for a in st.names:
                names[a.asname or a.name] = st.module + "." + a.name
        elif isinstance(st, ast.Import):
            for a in st.names:
                if a.name.startswith("pos"):
                    names[a.asname or a.name.split(".")[0]] = a.name
    return names


def _all_scopes():
    for path in _sources():
        tree = ast.parse(path.read_text(), str(path))
        for block, func, body in _scopes(tree):
            yield path.relative_to(ROOT), block, func, body


def test_the_firmware_uses_overlay_scopes_and_no_string_addressed_overlays():
    found = list(_all_scopes())
    assert len(found) >= 20, "the transaction stages, sign-in, settlement, the vault ..."
    for path in _sources():
        text = path.read_text()
        for old in ("overlay.run(", "overlay.call(", "overlay.load("):
            assert old not in text, f"{path}: {old} (overlays are addressed by import)"


@pytest.mark.parametrize(
    "where,block,func,body",
    [pytest.param(p, b, f, body, id=f"{p}:{b.lineno}") for p, b, f, body in _all_scopes()],
)
def test_every_module_imported_in_an_overlay_scope_exists_and_has_what_is_called(
    where, block, func, body
):
    names = _imported(block)
    for local, target in names.items():
        try:
            mod = importlib.import_module(target)
        except ImportError:
            parent, _, attr = target.rpartition(".")
            mod = getattr(importlib.import_module(parent), attr)
        assert inspect.ismodule(mod), f"{where}:{block.lineno}: {target} is not a module"
        for node in ast.walk(block):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == local
            ):
                assert hasattr(mod, node.attr), (
                    f"{where}:{node.lineno}: {target} has no {node.attr}"
                )


@pytest.mark.parametrize(
    "where,block,func,body",
    [pytest.param(p, b, f, body, id=f"{p}:{b.lineno}") for p, b, f, body in _all_scopes()],
)
def test_no_name_imported_in_an_overlay_scope_outlives_its_block(where, block, func, body):
    # the block ends by deleting its imports or by returning; or nothing but a return
    # follows it in its function
    names = set(_imported(block))
    if not names:
        return
    last = block.body[-1]
    if isinstance(last, ast.Return):
        return
    if isinstance(last, ast.Delete):
        deleted = {t.id for t in last.targets if isinstance(t, ast.Name)}
        assert names <= deleted, f"{where}:{block.lineno}: del {sorted(names - deleted)}"
        return
    assert func is not None and body is func.body, (
        f"{where}:{block.lineno}: the block neither returns nor deletes {sorted(names)}"
    )
    rest = body[body.index(block) + 1 :]
    assert all(isinstance(st, ast.Return) for st in rest), (
        f"{where}:{block.lineno}: code runs after the block while {sorted(names)} hold "
        "their modules: end the block with del"
    )


def test_every_action_resolves_to_a_generator_function_of_its_flow_module():
    table = actions.table()
    assert len(table) > 30
    for name, (module, function, _back) in table.items():
        mod = importlib.import_module(module)
        fn = getattr(mod, function, None)
        assert fn is not None, f"action {name}: {module} has no {function}"
        assert inspect.isgeneratorfunction(fn), f"action {name}: {module}.{function}"
        assert actions.flow(name) is fn


def test_every_action_a_menu_names_is_in_the_table():
    table = actions.table()

    def walk(node, where):
        if isinstance(node, dict):
            a = node.get("action")
            if a is not None:
                assert a in table, f"{where}: action {a!r} is not in pos.actions"
            for k, v in node.items():
                walk(v, where + "/" + str(k))
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, where + "/" + str(i))

    menus = sorted((ROOT / "menus").glob("*.json"))
    checked = 0
    for path in menus:
        if path.name.startswith("strings"):
            continue
        walk(json.loads(path.read_text()), path.name)
        checked += 1
    assert checked, "no menu file found"


def test_an_unknown_action_has_no_entry_and_no_flow():
    assert actions.entry("no_such_action") is None
    assert actions.flow("no_such_action") is None


def _module_names(tree):
    # {local name: module} for every `from pos... import name` / `import pos...` in a file
    # whose target is a module (anywhere: module level or inside functions)
    out = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("pos"):
            for a in node.names:
                target = node.module + "." + a.name
                try:
                    mod = importlib.import_module(target)
                except ImportError:
                    continue  # a function or a constant, not a module
                out.setdefault(a.asname or a.name, []).append(mod)
    return out


@pytest.mark.parametrize("path", _sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_function_called_on_an_imported_firmware_module_exists(path):
    # a flow that calls txn.send_online after it was removed fails here, not on the terminal
    tree = ast.parse(path.read_text(), str(path))
    names = _module_names(tree)
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.ctx, ast.Load)
            and isinstance(node.value, ast.Name)
            and node.value.id in names
        ):
            mods = names[node.value.id]
            assert any(hasattr(m, node.attr) for m in mods), (
                f"{path.relative_to(ROOT)}:{node.lineno}: {node.value.id}.{node.attr} "
                f"does not exist in {[m.__name__ for m in mods]}"
            )
