"""Write the lock of an optional extra: the pins of a full freeze that the base lock lacks.

Usage: python tools/write_extra_lock.py requirements.lock full-freeze.txt requirements-transformer.lock \
           workflow/envs/transformer.yaml

The extra is installed on top of the base lock (``pip install -r requirements.lock -r
requirements-transformer.lock``), so it must not move any base pin: a package whose
version differs between the base lock and the full freeze is an error. Pins lose their
local build tag (``torch==2.13.0+cpu`` → ``torch==2.13.0``): the same release then
resolves to a CPU wheel where one is offered (a wheel folder, or PyTorch's CPU index
given with ``--extra-index-url``) and to PyPI's CUDA build on a GPU node. The lock names
no index itself: pip would query it for every package, and a machine that cannot reach
it would stall on retries. The rule's conda env pins the base and the extra.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from write_conda_envs import read_lock, render  # noqa: E402

HEADER = (
    "# The 'transformer' extra, pinned by `make lock` on top of requirements.lock; do not edit by hand.\n"
    "# pip install -r requirements.lock -r requirements-transformer.lock\n"
    "# CPU-only torch (no CUDA packages): add --extra-index-url https://download.pytorch.org/whl/cpu\n"
)


def pins(lines: list[str]) -> dict[str, str]:
    return {line.split("==")[0].lower().replace("_", "-"): line for line in lines if "==" in line}


def main(argv: list[str]) -> int:
    if len(argv) != 5:
        print(__doc__, file=sys.stderr)
        return 2
    base, full = pins(read_lock(Path(argv[1]))), pins(read_lock(Path(argv[2])))
    moved = [f"{base[name]} -> {full[name]}" for name in base if name in full and full[name] != base[name]]
    if moved:
        print(f"{argv[2]}: the extra moves base pins: {', '.join(moved)}", file=sys.stderr)
        return 1
    extra = [full[name].split("+")[0] for name in sorted(full) if name not in base]
    Path(argv[3]).write_text(HEADER + "\n".join(extra) + "\n", encoding="utf-8")
    conda = [*base.values(), *extra]
    Path(argv[4]).write_text(
        render(sorted(conda, key=str.lower)).replace("name: perivigil", "name: perivigil-transformer"), encoding="utf-8"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
