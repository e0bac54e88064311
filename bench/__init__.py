"""Benchmarks for todo-platform: `python -m bench [--quick]` (or `python3 dev.py bench`).

Every figure is measured side by side with its baseline in the same run, as the median of repeated,
interleaved runs (candidate and baseline alternate, so drift on a noisy machine hits both alike).
Benchmarks are not tests: they report figures and never fail on a duration.
"""
