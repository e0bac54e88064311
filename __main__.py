"""todo-platform: read the stack config, compose the tiers, export the stack outputs."""

import components  # noqa: F401  (puts functions/ on sys.path for the catalog)
from components.program import create_stack

create_stack()
