"""Benchmarks: a seeded synthetic year of one provider, and the figures measured on it."""

from ggzledger.bench.measure import FIGURES, BenchError, run
from ggzledger.bench.report import render
from ggzledger.bench.workload import workload

__all__ = ["FIGURES", "BenchError", "render", "run", "workload"]
