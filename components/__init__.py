"""Pulumi ComponentResources for todo-platform, the stack-config model and function packaging."""
