"""Derive the BDPM subset shipped in resources/bdpm/ from a full BDPM download.

Usage: python tools/subset_bdpm.py FULL_BDPM_DIR resources/bdpm

Keeps the products (CIS_bdpm.txt) whose composition (CIS_COMPO_bdpm.txt) holds a
substance of config/lexicon/substances.tsv, and their composition lines, unchanged
(tab-separated, UTF-8, LF line endings). A newer BDPM download in the same format
works the same way.
"""

from __future__ import annotations

import sys
from pathlib import Path

from perivigil.extract.lexicon import read_bdpm, read_substances, subset_bdpm


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    full, out = Path(argv[1]), Path(argv[2])
    substances = read_substances(Path("config/lexicon/substances.tsv"))
    cis, compo = subset_bdpm(*read_bdpm(full), substances)
    out.mkdir(parents=True, exist_ok=True)
    for name, rows in (("CIS_bdpm.txt", cis), ("CIS_COMPO_bdpm.txt", compo)):
        (out / name).write_text("".join("\t".join(r) + "\n" for r in rows), encoding="utf-8")
    print(f"{len(cis)} products, {len(compo)} composition lines -> {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
