"""ggzledger waiting and regiobeeld as a user runs them: real subprocesses, JSON, plots, mistakes in one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli import no_traceback, one_line
from processes import run_cli

HONOS = {str(n): 0 for n in range(1, 13)}
LINES = [
    {"type": "trajectory_opened", "trajectory": "T1", "patient": "P1", "provider": "12345678", "insurer": "3311",
     "date": "2017-03-29"},
    {"type": "registered", "trajectory": "T1", "date": "2017-02-01", "region": "ZK11", "care_form": "outreach"},
    {"type": "assessed", "trajectory": "T1", "date": "2017-03-29", "honos": HONOS},
    {"type": "clustered", "trajectory": "T1", "date": "2017-03-29", "cluster": 4},
    {"type": "activity_delivered", "trajectory": "T1", "activity": "A1", "date": "2017-04-05", "code": "CONSULT"},
    {"type": "trajectory_opened", "trajectory": "T2", "patient": "P2", "provider": "12345678", "insurer": "3311",
     "date": "2017-05-01", "region": "Utrecht"},
    {"type": "registered", "trajectory": "T2", "date": "2017-04-20", "region": "ZK11", "care_form": "outreach"},
]  # fmt: skip


@pytest.fixture
def db(tmp_path: Path) -> str:
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(line) + "\n" for line in LINES))
    path = str(tmp_path / "ledger.db")
    result = run_cli("--db", path, "ingest", str(source))
    assert result.returncode == 0, result.stderr
    return path


def test_waiting_lists_each_trajectory_and_marks_the_norms_exceeded(db: str) -> None:
    result = run_cli("--db", db, "waiting", "--as-of", "2017-06-30", "--json")

    no_traceback(result)
    found = json.loads(result.stdout)
    t1, t2 = found["trajectories"]
    # T1: registered 1 Feb, intake 29 Mar (56 days: over 28), treated 5 Apr (7), in all 63.
    assert (t1["aanmeld_days"], t1["behandel_days"], t1["total_days"], t1["exceeded"]) == (56, 7, 63, ["aanmeld"])
    assert (t2["registered_on"], t2["first_assessed_on"], t2["waiting"]) == ("2017-04-20", None, True)
    text = run_cli("--db", db, "waiting", "--as-of", "2017-06-30").stdout
    assert "exceeds aanmeld" in text and "waiting 71 days" in text and text.endswith("2 trajectories\n")
    # The read is in the access log, as findings' is.
    assert "waiting --as-of 2017-06-30" in run_cli("--db", db, "access-log").stdout


def test_regiobeeld_answers_as_json_and_text(db: str) -> None:
    result = run_cli("--db", db, "regiobeeld", "--as-of", "2017-06-30", "--by", "region,care_form", "--json")

    no_traceback(result)
    [row] = json.loads(result.stdout)["rows"]
    assert (row["region"], row["care_form"], row["waiting"], row["in_care"], row["complex"]) == (
        "ZK11", "outreach", 1, 1, 1,
    )  # fmt: skip
    assert row["volume"]["2017-04"] == {"activities": 1, "amount": 10000}
    text = run_cli("--db", db, "regiobeeld", "--as-of", "2017-06-30").stdout
    assert text.startswith("Regiobeeld as of 2017-06-30") and "Amount by month" in text


@pytest.mark.parametrize(("command", "name", "magic"), [
    ("waiting", "waits.png", b"\x89PNG\r\n\x1a\n"),
    ("regiobeeld", "volume.svg", b"<?xml"),
    ("regiobeeld", "VOLUME.PNG", b"\x89PNG\r\n\x1a\n"),
])  # fmt: skip
def test_plot_writes_a_real_png_or_svg_by_the_suffix(
    db: str, tmp_path: Path, command: str, name: str, magic: bytes
) -> None:
    pytest.importorskip("matplotlib")
    target = tmp_path / name

    result = run_cli("--db", db, command, "--as-of", "2017-06-30", "--plot", str(target))

    no_traceback(result)
    assert result.returncode == 0, result.stderr
    assert target.read_bytes().startswith(magic)
    if name.endswith(".svg"):
        assert b"<svg" in target.read_bytes()[:2000]


def test_mistakes_are_one_line(db: str, tmp_path: Path) -> None:
    assert "'insurer' is not one of region, care_form, group" in one_line(
        run_cli("--db", db, "regiobeeld", "--as-of", "2017-06-30", "--by", "insurer"), 2
    )
    assert "the file must end in .png or .svg" in one_line(
        run_cli("--db", db, "regiobeeld", "--as-of", "2017-06-30", "--plot", str(tmp_path / "v.pdf")), 2
    )
    assert "--as-of" in one_line(run_cli("--db", db, "regiobeeld"), 2)
    assert "trajectory T9 was never opened" in one_line(run_cli("--db", db, "waiting", "--trajectory", "T9"), 1)


def test_plot_without_matplotlib_says_how_to_install_it(db: str, tmp_path: Path) -> None:
    # A matplotlib that cannot be imported stands first on the path.
    fake = tmp_path / "fake" / "matplotlib"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('no matplotlib here')\n")
    import os

    env = {**os.environ, "PYTHONPATH": f"{fake.parent}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}

    line = one_line(
        run_cli("--db", db, "regiobeeld", "--as-of", "2017-06-30", "--plot", str(tmp_path / "v.png"), env=env), 2
    )

    assert (
        line == "ggzledger: --plot needs matplotlib: pip install 'ggzledger[plot]' (or pip install 'matplotlib>=3.8')"
    )
    assert not (tmp_path / "v.png").exists()
