"""Print the README's settings table from pier/settings.py (`--write` updates README.md)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from pier.settings import SETTINGS

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCK = re.compile(r"(<!-- settings-table -->\n).*?(<!-- /settings-table -->)", re.S)


def table() -> str:
    rows = ["| name | env | default | what it does |", "|---|---|---|---|"]
    rows += [f"| {s.name} | `{s.env}` | `{s.default}` | {s.help} |" for s in SETTINGS]
    return "\n".join(rows) + "\n"


def main() -> None:
    if "--write" in sys.argv:
        text = README.read_text()
        README.write_text(BLOCK.sub(lambda m: m.group(1) + table() + m.group(2), text))
    else:
        print(table(), end="")


if __name__ == "__main__":
    main()
