"""Build the tiny-llm corpus: the docstrings of Python's standard library.

    python training/build_corpus.py      # writes training/data/stdlib_docstrings.txt.gz

Source files are parsed with `ast` (nothing is imported), in sorted order, skipping test
suites. Each entry is a header line (`module.qualname(args)`) followed by the docstring and a
blank line. Entries are deduplicated and kept ASCII-only. The corpus is shipped in the repo, so
training does not depend on which Python patch release is installed.
"""

from __future__ import annotations

import ast
import gzip
import sysconfig
from collections.abc import Iterator
from pathlib import Path

CORPUS = Path(__file__).resolve().parent / "data" / "stdlib_docstrings.txt.gz"
SKIP_PARTS = {"test", "tests", "idle_test", "site-packages", "__pycache__", "lib2to3", "turtledemo"}
MIN_CHARS = 40


def source_files(stdlib: Path) -> Iterator[Path]:
    for path in sorted(stdlib.rglob("*.py")):
        parts = set(path.relative_to(stdlib).parts)
        if parts & SKIP_PARTS or path.name.startswith("test_"):
            continue
        yield path


def module_name(stdlib: Path, path: Path) -> str:
    parts = list(path.relative_to(stdlib).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def signature(node: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    args = ast.unparse(node.args)
    return f"({args})" if len(args) <= 80 else "(...)"


def entries(tree: ast.Module, module: str) -> Iterator[tuple[str, str]]:
    """(header, docstring) for the module and every class and function in it."""
    doc = ast.get_docstring(tree)
    if doc:
        yield module, doc
    stack: list[tuple[ast.AST, str]] = [(tree, module)]
    while stack:
        node, prefix = stack.pop(0)
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
                name = f"{prefix}.{child.name}"
                doc = ast.get_docstring(child)
                if doc:
                    header = name if isinstance(child, ast.ClassDef) else name + signature(child)
                    yield header, doc
                if isinstance(child, ast.ClassDef):
                    stack.append((child, name))


def build(stdlib: Path) -> tuple[str, int]:
    seen: set[str] = set()
    chunks: list[str] = []
    for path in source_files(stdlib):
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (SyntaxError, UnicodeDecodeError, ValueError):
            continue
        for header, doc in entries(tree, module_name(stdlib, path)):
            text = doc.strip()
            if len(text) < MIN_CHARS or text in seen or not text.isascii():
                continue
            seen.add(text)
            chunks.append(f"{header}\n{text}\n\n")
    return "".join(chunks), len(chunks)


def main() -> None:
    text, count = build(Path(sysconfig.get_paths()["stdlib"]))
    CORPUS.parent.mkdir(parents=True, exist_ok=True)
    with gzip.GzipFile(CORPUS, "wb", mtime=0) as f:
        f.write(text.encode("ascii"))
    print(f"wrote {CORPUS}: {len(text):,} characters, {count:,} entries")


if __name__ == "__main__":
    main()
