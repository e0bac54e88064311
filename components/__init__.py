"""Pulumi ComponentResources for todo-platform, the stack-config model and function packaging."""

import sys
from pathlib import Path

# The catalog (tables, queue, functions, routes) lives with the function code it describes.
_FUNCTIONS = str(Path(__file__).resolve().parent.parent / "functions")
if _FUNCTIONS not in sys.path:
    sys.path.insert(0, _FUNCTIONS)
