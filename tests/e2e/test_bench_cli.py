"""`ggzledger bench` as a real subprocess: it runs and reports every figure (speeds are never asserted)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from cli import no_traceback
from ggzledger.bench import FIGURES
from processes import run_cli


def test_bench_writes_every_figure_as_a_positive_number(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"

    result = run_cli("bench", "--events", "2000", "--baseline-records", "500", "--json", str(out), cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    figures = json.loads(out.read_text())
    expected = set(FIGURES)
    if importlib.util.find_spec("ggzledger.audit.reconstruction") is None:
        expected.discard("reconstruct_ms")  # measured once the audit module exists
    for name in expected:
        assert isinstance(figures[name], (int, float)) and figures[name] > 0, name
    assert figures["lines"] == 2000
    # One event per line, and the creation of the contract book the year's first lines fill.
    assert figures["events"] == 2001
    assert figures["store"] == "sqlite"
    assert figures["trajectories"] > 0
    assert "ingest" in result.stdout


def test_bench_refuses_a_store_that_holds_events(tmp_path: Path) -> None:
    db = tmp_path / "full.db"
    assert run_cli("--db", str(db), "demo", cwd=tmp_path).returncode == 0

    result = run_cli("--db", str(db), "bench", "--events", "100", cwd=tmp_path)

    assert result.returncode == 2
    assert "empty store" in result.stderr
    no_traceback(result)
