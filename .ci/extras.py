"""Prints the optional extras pyproject.toml declares, comma-separated (for pip's `.[a,b]`)."""

import tomllib
from pathlib import Path

project = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text())["project"]
print(",".join(project.get("optional-dependencies", {})))
