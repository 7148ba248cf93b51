#!/usr/bin/env python3
"""The dependency rule of beamlet-runtime: a file may use only its own layer or below.

Reads every `crate::` path in runtime/src (in `use` items and inline), resolves it to
the file that *defines* the item (following `pub use` / `pub(crate) use` re-exports,
`self::` and `super::`), and checks against the layer table `runtime/layers.txt`:

1. a file may name a file of its own layer or a lower one, never a higher one;
2. no import cycle inside a layer (two files of one layer that reach each other);
3. internal code names the defining module, never the facade: `crate::Name` for a
   name that lib.rs only re-exports is refused outside lib.rs.

Unit-test modules (`#[cfg(test)]` at column 0 and what follows) and comments are
ignored. `--report` prints the files in import cycles across the whole crate (the
measure the layering is judged by) and the file -> layer table.

Exit status 1 on any violation, with one line per violation.
"""

import os
import signal
import re
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "runtime")
SRC = os.path.join(ROOT, "src")
TABLE = os.path.join(ROOT, "layers.txt")


def module_of(path):
    rel = os.path.relpath(path, SRC)[:-3]
    parts = rel.split(os.sep)
    if parts[-1] in ("mod", "lib"):
        parts = parts[:-1]
    return tuple(parts)


def strip(text):
    """Drops comments, string literals and unit-test modules."""
    out = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        if re.match(r"#\[cfg\((all\()?test", line):
            break
        line = re.sub(r'"(\\.|[^"\\])*"', '""', line)
        line = re.sub(r"//.*", "", line)
        out.append(line)
        i += 1
    text = "\n".join(out)
    return re.sub(r"/\*.*?\*/", "", text, flags=re.S)


def expand(prefix, body):
    """Expands a `use` tree (`a::{b, c::{d, e}}`) into full paths."""
    body = body.strip()
    m = re.match(r"^([\w:]*?)(::)?\{(.*)\}$", body, re.S)
    if not m:
        body = re.sub(r"\s+as\s+\w+$", "", body)
        return [prefix + [p for p in body.split("::") if p]]
    head = [p for p in m.group(1).split("::") if p]
    inner, depth, cur, items = m.group(3), 0, "", []
    for ch in inner:
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        if ch == "," and depth == 0:
            items.append(cur)
            cur = ""
        else:
            cur += ch
    items.append(cur)
    paths = []
    for it in items:
        if it.strip():
            paths += expand(prefix + head, it)
    return paths


class Crate:
    def __init__(self):
        self.files = {}  # module path -> file
        for d, _, fs in os.walk(SRC):
            for f in fs:
                if f.endswith(".rs"):
                    p = os.path.join(d, f)
                    if os.path.relpath(p, SRC).split(os.sep)[0] == "tests":
                        continue
                    self.files[module_of(p)] = p
        self.text = {m: strip(open(p).read()) for m, p in self.files.items()}
        self.uses = {m: self.parse_uses(m) for m in self.files}
        self.reexports = {m: self.parse_reexports(m) for m in self.files}

    def absolute(self, module, path):
        """A path written in `module` as a path from the crate root, or None."""
        if not path:
            return None
        if path[0] == "crate":
            return path[1:]
        base = list(module)
        while path and path[0] in ("self", "super"):
            if path[0] == "super":
                base = base[:-1]
            path = path[1:]
        return base + path

    def parse_uses(self, module):
        """(path-from-root, is_reexport) for every use item of a file."""
        out = []
        for m in re.finditer(r"(pub(\([^)]*\))?\s+)?use\s+([^;]+);", self.text[module]):
            pub = bool(m.group(1))
            for p in expand([], m.group(3)):
                if p and p[0] in ("crate", "self", "super"):
                    out.append((self.absolute(module, p), pub))
                elif p and tuple(module) + (p[0],) in self.files:
                    # A uniform path naming a child module.
                    out.append((list(module) + p, pub))
        return out

    def parse_reexports(self, module):
        """name -> path-from-root of the items a module re-exports."""
        out = {}
        for path, pub in self.uses[module]:
            if pub and path:
                out[path[-1]] = path
        return out

    def inline_paths(self, module):
        text = self.text[module]
        text = re.sub(r"(pub(\([^)]*\))?\s+)?use\s+[^;]+;", "", text)
        # `$crate::` paths are skipped: an exported macro expands in other crates,
        # so it can only name the crate's public (facade) paths.
        for m in re.finditer(r"(?<!\$)\b(crate|super|self)((::\w+)+)", text):
            p = [m.group(1)] + [x for x in m.group(2).split("::") if x]
            if p[0] == "self" and len(p) == 2:
                continue
            yield self.absolute(module, p)

    def resolve(self, path, seen=None):
        """The module that defines the item at `path` (following re-exports)."""
        seen = seen or set()
        for n in range(len(path), -1, -1):
            mod = tuple(path[:n])
            if mod not in self.files:
                continue
            rest = path[n:]
            if rest and rest[0] in self.reexports[mod] and (mod, rest[0]) not in seen:
                seen.add((mod, rest[0]))
                target = self.reexports[mod][rest[0]]
                return self.resolve(list(target) + rest[1:], seen)
            return mod
        return ()

    def edges(self):
        """file -> set of files it uses, and facade uses (file, name)."""
        graph, facade = {}, []
        root_reexports = self.reexports.get((), {})
        for m in self.files:
            deps = set()
            paths = [p for p, _ in self.uses[m]] + list(self.inline_paths(m))
            for p in paths:
                if p is None:
                    continue
                if m != () and p and (p[0],) not in self.files and p[0] in root_reexports:
                    facade.append((m, "::".join(p)))
                t = self.resolve(list(p))
                if t != m and t in self.files:
                    deps.add(t)
            graph[m] = deps
        return graph, facade


def sccs(graph):
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            out.append(comp)

    sys.setrecursionlimit(10000)
    for v in graph:
        if v not in index:
            visit(v)
    return out


def name(m):
    return "::".join(m) or "lib"


def load_table():
    table = []
    for line in open(TABLE):
        line = line.split("#")[0].strip()
        if line:
            prefix, layer = line.split()
            table.append((tuple(p for p in prefix.split("::") if p and p != "lib"), int(layer[1:])))
    table.sort(key=lambda e: -len(e[0]))
    return table


def layer_of(table, m):
    for prefix, layer in table:
        if m[: len(prefix)] == prefix and (prefix or m == ()):
            return layer
    return None


def main():
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `--report | head` ends quietly
    crate = Crate()
    graph, facade = crate.edges()
    cyclic = [c for c in sccs(graph) if len(c) > 1]
    if "--report" in sys.argv:
        files = sum(len(c) for c in cyclic)
        print(f"runtime/src: {len(graph)} files, {files} in import cycles "
              f"({len(cyclic)} cycle groups, largest {max((len(c) for c in cyclic), default=0)})")
        for c in cyclic:
            print("  cycle:", " ".join(sorted(name(m) for m in c)))
        if os.path.exists(TABLE):
            table = load_table()
            for m in sorted(graph, key=lambda m: (layer_of(table, m) or 99, m)):
                print(f"  L{layer_of(table, m)}  {crate.files[m][len(SRC) + 1:]}")
        return 0
    table = load_table()
    errors = []
    for m, deps in sorted(graph.items()):
        lm = layer_of(table, m)
        if lm is None:
            errors.append(f"{name(m)}: not in runtime/layers.txt")
            continue
        for d in sorted(deps):
            ld = layer_of(table, d)
            if ld is not None and ld > lm:
                errors.append(f"{name(m)} (L{lm}) uses {name(d)} (L{ld}): a lower layer may not use a higher one")
    for c in cyclic:
        layers = {layer_of(table, m) for m in c}
        if len(layers) == 1:
            errors.append("import cycle inside L%s: %s" % (layers.pop(), " ".join(sorted(name(m) for m in c))))
    for m, p in facade:
        errors.append(f"{name(m)} names the facade (crate::{p}); name the defining module")
    for e in errors:
        print("layers:", e)
    if errors:
        return 1
    print(f"layers: {len(graph)} files of runtime/src obey runtime/layers.txt")
    return 0


if __name__ == "__main__":
    sys.exit(main())
