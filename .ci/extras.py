"""Prints the optional extras pyproject.toml declares, comma-separated (for pip's `.[a,b]`).

`--prod`: only what a running bot needs, i.e. every extra but the development ones (DEV_EXTRAS:
pytest, ruff, mypy, …). The lock (`.ci/lock`) and `.ci/install` without it take them all.
"""

import sys
import tomllib
from pathlib import Path

# Test and lint tools: never in a production install (`.ci/install --prod`, the Dockerfile).
DEV_EXTRAS = frozenset({"dev"})


def extras(prod: bool) -> list[str]:
    pyproject = (Path(__file__).parent.parent / "pyproject.toml").read_text()
    declared = tomllib.loads(pyproject)["project"].get("optional-dependencies", {})
    return [name for name in declared if not (prod and name in DEV_EXTRAS)]


if __name__ == "__main__":
    if sys.argv[1:] not in ([], ["--prod"]):
        sys.exit("usage: python .ci/extras.py [--prod]")
    print(",".join(extras(prod=sys.argv[1:] == ["--prod"])))
