"""The offline runtime: `python -m local` runs the whole application on this machine."""

import sys
from pathlib import Path

# `functions/` is the Lambda archive root; make its package importable exactly as on Lambda.
_FUNCTIONS = str(Path(__file__).resolve().parent.parent / "functions")
if _FUNCTIONS not in sys.path:
    sys.path.insert(0, _FUNCTIONS)
