#!/usr/bin/env python3
"""Module cycles inside each crate: edges are `crate::<module>` paths in code (comments and
doc comments left out), between the top-level modules of `src/`. Prints each cycle found
and exits 1 when there is one.

    python3 scripts/check/module_cycles.py [crates]
"""
import pathlib
import re
import sys


def code(text):
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return "\n".join(l.split("//")[0] for l in text.splitlines())


def modules(src):
    mods = {}
    for p in src.rglob("*.rs"):
        rel = p.relative_to(src).parts
        if rel[0] in ("lib.rs", "main.rs", "bin"):
            continue
        name = rel[0][:-3] if rel[0].endswith(".rs") else rel[0]
        mods.setdefault(name, []).append(p)
    return mods


def cycles(graph):
    found, state, stack = [], {}, []

    def visit(n):
        state[n] = 1
        stack.append(n)
        for m in sorted(graph.get(n, ())):
            if state.get(m) == 1:
                found.append(stack[stack.index(m):] + [m])
            elif m not in state:
                visit(m)
        stack.pop()
        state[n] = 2

    for n in sorted(graph):
        if n not in state:
            visit(n)
    return found


def main():
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "crates")
    bad = 0
    for src in sorted(root.glob("*/src")):
        mods = modules(src)
        graph = {}
        for name, files in mods.items():
            for p in files:
                for m in re.findall(r"\bcrate::([a-z_][a-z0-9_]*)", code(p.read_text())):
                    if m in mods and m != name:
                        graph.setdefault(name, set()).add(m)
        for c in cycles(graph):
            bad += 1
            print(f"{src.parent.name}: {' -> '.join(c)}")
    print(f"{bad} module cycle(s)")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
