"""placeholder: wired when its dependency lands."""
from .core import NotAvailable


def run(section, world, quick, shared):
    raise NotAvailable("not wired yet")
