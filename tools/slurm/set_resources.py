"""Print the profile's per-rule resources with some changed, as the words of one ``--set-resources``.

Usage (docs/cluster.md):

    snakemake --workflow-profile profiles/slurm \\
      --set-resources $(python tools/slurm/set_resources.py extract:mem_mb=8000)

Snakemake merges a profile and the command line key by key: a ``--set-resources`` on the command
line replaces the profile's whole ``set-resources`` mapping, so ``--set-resources
extract:mem_mb=8000`` alone would send ``train_transformer`` to the default partition, without its
GPU and memory. This prints the profile's entries with the given ``RULE:RESOURCE=VALUE`` ones added
or put in their place, one line of words that the shell splits. ``--profile DIR`` reads another
profile (default: ``profiles/slurm`` beside this folder). Written here because neither Snakemake
nor the executor plugin merges the two (Snakemake 9.27).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import yaml

DEFAULT_PROFILE = Path(__file__).resolve().parents[2] / "profiles" / "slurm"
ENTRY = re.compile(r"^(?P<rule>[A-Za-z_]\w*):(?P<resource>[A-Za-z_]\w*)=(?P<value>\S+)$")


def _word(value: object) -> str:
    """The value as Snakemake's profile reader writes it: a string that reads as a number is quoted."""
    if isinstance(value, str):
        for kind in (int, float):
            try:
                kind(value)
            except ValueError:
                continue
            return repr(value)
    return str(value)


def profile_resources(profile: Path) -> dict[str, dict[str, str]]:
    """The ``set-resources`` mapping of a profile folder (``config.yaml``), values as command-line words."""
    config = yaml.safe_load((profile / "config.yaml").read_text(encoding="utf-8")) or {}
    mapping = config.get("set-resources") or {}
    if not isinstance(mapping, dict) or not all(isinstance(v, dict) for v in mapping.values()):
        raise ValueError(f"{profile / 'config.yaml'}: set-resources is not a mapping of rule: {{resource: value}}")
    return {rule: {name: _word(value) for name, value in entries.items()} for rule, entries in mapping.items()}


def merged(resources: dict[str, dict[str, str]], overrides: list[str]) -> list[str]:
    """``RULE:RESOURCE=VALUE`` words: the profile's, each override added or in place of the profile's."""
    result = {rule: dict(entries) for rule, entries in resources.items()}
    for override in overrides:
        match = ENTRY.match(override)
        if match is None:
            raise ValueError(f"{override!r}: expected RULE:RESOURCE=VALUE (no spaces), e.g. extract:mem_mb=8000")
        result.setdefault(match["rule"], {})[match["resource"]] = match["value"]
    return [f"{rule}:{name}={value}" for rule, entries in result.items() for name, value in entries.items()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("overrides", nargs="*", metavar="RULE:RESOURCE=VALUE")
    parser.add_argument("--profile", type=Path, default=DEFAULT_PROFILE, help="profile folder (default: %(default)s)")
    args = parser.parse_args(argv)
    try:
        words = merged(profile_resources(args.profile), args.overrides)
    except (OSError, ValueError, yaml.YAMLError) as error:
        print(f"set_resources: {error}", file=sys.stderr)
        return 2
    print(" ".join(words))
    return 0


if __name__ == "__main__":
    sys.exit(main())
