"""todo-platform: read the stack config, compose the tiers, export the stack outputs."""

from components.program import create_stack

create_stack()
