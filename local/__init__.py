"""The offline runtime: `python -m local` runs the whole application on this machine."""
