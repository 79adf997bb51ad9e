"""The typed stub _core.pyi declares exactly what the compiled module defines, and is installed."""

from __future__ import annotations

import ast
import pathlib

import nncore
from nncore import _core


def stub_names(path):
    tree = ast.parse(path.read_text())
    names = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names - {"FloatArray"}


def test_stub_matches_the_module():
    stub = pathlib.Path(nncore.__file__).with_name("_core.pyi")
    assert stub.exists() and stub.with_name("py.typed").exists()
    module = {n for n in dir(_core) if not n.startswith("__")} | {"__version__"}
    declared = stub_names(stub)
    assert declared - module == set(), "declared in _core.pyi but not defined"
    assert module - declared == set(), "defined in _core but missing from _core.pyi"


def test_stub_signatures_name_the_binding_arguments():
    stub = pathlib.Path(nncore.__file__).with_name("_core.pyi")
    tree = ast.parse(stub.read_text())
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef):
            continue
        doc = getattr(_core, node.name).__doc__ or ""
        # pybind11 puts "name(arg: type, ...)" first in the docstring.
        first = doc.strip().splitlines()[0] if doc.strip() else ""
        for arg in node.args.args + node.args.kwonlyargs:
            assert f"{arg.arg}:" in first, f"{node.name}: stub argument {arg.arg!r} not in {first!r}"
