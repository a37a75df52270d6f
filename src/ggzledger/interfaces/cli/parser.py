"""The command line's grammar: every command, its arguments with their formats, and examples."""

from __future__ import annotations

import argparse
import codecs
from collections.abc import Callable
from datetime import date
from typing import NoReturn

from ggzledger import __version__
from ggzledger.domain.errors import Malformed
from ggzledger.domain.months import is_month
from ggzledger.interfaces.cli import access, analyses, exports, follow, keys, reads, writes
from ggzledger.interfaces.numbers import POSITION_MAX, parse_count
from ggzledger.projections.totals import DIMENSIONS
from ggzledger.service.records import check_identifier
from ggzledger.store.chain import Anchor, AnchorError, parse_anchor

__all__ = ["build_parser"]

DB_HELP = "SQLite file or postgresql://USER@HOST:PORT/DBNAME (default: $GGZLEDGER_DB, else ggzledger.db)"
MONTH_HELP = "a calendar month, YYYY-MM (e.g. 2017-02)"
TRAJECTORY_HELP = "the trajectory's number as in the input, e.g. T-HENK"
# The largest --events/--baseline-records the bench takes, and the highest TCP port.
_BENCH_MAX = 100_000_000
_PORT_MAX = 65_535


def _month(text: str) -> str:
    if not is_month(text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a month YYYY-MM")
    return text


def _digit_code(name: str, count: int) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if len(text) != count or not text.isascii() or not text.isdigit():
            raise argparse.ArgumentTypeError(f"{name} must be {count} digits, got {text!r}")
        return text

    return parse


_uzovi = _digit_code("an UZOVI code", 4)
_agb = _digit_code("an AGB code", 8)


def _trajectory(text: str) -> str:
    # The input's rule for ids: a control or invisible character would otherwise be echoed to the terminal.
    try:
        return check_identifier("TRAJECTORY", text)
    except Malformed as error:
        raise argparse.ArgumentTypeError(str(error).removeprefix("field 'TRAJECTORY' ")) from None


def _access_anchor(text: str) -> tuple[int, str]:
    try:
        return access.access_anchor(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _date(text: str) -> date:
    # fromisoformat alone would also take 20170101 and other ISO spellings.
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
    except ValueError:
        pass
    raise argparse.ArgumentTypeError(f"{text!r} is not a date YYYY-MM-DD")


def _anchor(text: str) -> Anchor:
    try:
        return parse_anchor(text, "--anchor")
    except AnchorError as error:
        raise argparse.ArgumentTypeError(str(error).removeprefix("--anchor: ")) from None


def _encoding(text: str) -> str:
    try:
        codecs.lookup(text)
    except LookupError:
        raise argparse.ArgumentTypeError(f"unknown encoding {text!r} (e.g. utf-8, cp1252)") from None
    return text


def _count(name: str, maximum: int, minimum: int = 0) -> Callable[[str], int]:
    """An argparse type: a whole number minimum..maximum (the shared parser of interfaces/numbers.py)."""

    def parse(text: str) -> int:
        try:
            return parse_count(text, name, maximum, minimum)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    return parse


def _signed(most: int) -> Callable[[str], int]:
    """An argparse type: a whole number -most..most, an optional sign before ASCII digits."""

    def parse(text: str) -> int:
        digits = text[1:] if text[:1] in "+-" else text
        try:
            value = parse_count(digits, "N", most)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a whole number -{most}..{most}, got {text[:30]!r}") from None
        return -value if text.startswith("-") else value

    return parse


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line (the contract's rule for every user error)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"ggzledger: {message} (see {self.prog} --help)\n")


def _examples(*lines: str) -> str:
    return "examples:\n" + "\n".join(f"  {line}" for line in lines)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser; --db is accepted before and after the command."""
    parser = _Parser(
        prog="ggzledger",
        description="Event-sourced GGZ care-trajectory ledger: record care, close months, issue zorgnota's.",
        epilog=_examples("ggzledger demo", "ggzledger --db ledger.db ingest events.jsonl", "ggzledger COMMAND --help"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--db", default=None, help=DB_HELP)
    parser.add_argument("--version", action="version", version=f"ggzledger {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    def command(
        name: str, handler: Callable[[argparse.Namespace], int], help: str, *examples: str, note: str = ""
    ) -> argparse.ArgumentParser:
        """A subcommand; its help ends with ``note`` (a paragraph), then the examples."""
        sub = commands.add_parser(
            name, help=help, description=help, epilog=(f"{note}\n\n" if note else "") + _examples(*examples),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )  # fmt: skip
        sub.add_argument("--db", default=argparse.SUPPRESS, help=DB_HELP)
        sub.set_defaults(handler=handler)
        return sub

    def json_flag(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--json", action="store_true", help="print the contract's JSON (keys as docs/ show)")

    sub = command(
        "demo",
        writes.cmd_demo,
        "record a worked example (Meneer Henk, 2017; or zpm, 2024) and print its last zorgnota",
        "ggzledger demo",
        "ggzledger demo zpm",
        "ggzledger --db /tmp/try.db demo",
        note="Writes a fresh ggzledger-demo.db (ggzledger-demo-zpm.db for zpm), or an empty --db;"
        " $GGZLEDGER_DB is not used.",
    )
    sub.add_argument(
        "scenario",
        nargs="?",
        choices=tuple(writes.DEMOS),
        default="henk",
        help="henk: the seed's cluster-model example (default); zpm: the zorgprestatiemodel example (docs/zpm.md)",
    )

    sub = command(
        "ingest",
        writes.cmd_ingest,
        "record JSON lines, one record a line (docs/input.md)",
        "ggzledger --db ledger.db ingest events.jsonl",
        "export.sh | ggzledger ingest -",
    )
    sub.add_argument("file", metavar="FILE", help="a JSON-lines file, or - for standard input")

    sub = command(
        "close", writes.cmd_close,
        "close every open month up to MONTH and issue its declarations",
        "ggzledger close 2017-02", "ggzledger close 2025-06 --yes   # the current month, from a script",
        note="A close cannot be undone. Closing the current month asks first on a terminal;\n"
        "elsewhere it needs --yes (without it: exit 2, nothing closed).",
    )  # fmt: skip
    sub.add_argument("month", metavar="MONTH", type=_month, help=MONTH_HELP)
    sub.add_argument("--yes", action="store_true", help="close the current, unfinished month without asking")

    sub = command(
        "invoice",
        reads.cmd_invoice,
        "the declaration of TRAJECTORY for MONTH (issued, or the draft)",
        "ggzledger invoice T-HENK 2017-02",
        "ggzledger invoice T-HENK 2017-02 --json",
    )
    sub.add_argument("trajectory", metavar="TRAJECTORY", type=_trajectory, help=TRAJECTORY_HELP)
    sub.add_argument("month", metavar="MONTH", type=_month, help=MONTH_HELP)
    json_flag(sub)

    sub = command(
        "invoices",
        reads.cmd_invoices,
        "every declaration of MONTH",
        "ggzledger invoices 2017-02",
        "ggzledger invoices 2017-02 --json > 2017-02.json",
    )
    sub.add_argument("month", metavar="MONTH", type=_month, help=MONTH_HELP)
    json_flag(sub)

    sub = command(
        "tariffs",
        writes.cmd_tariffs,
        "list the tariff tables, or load one from a CSV file",
        "ggzledger tariffs",
        "ggzledger tariffs load praktijk-2024.csv --version praktijk-2024",
        "ggzledger tariffs load excel.csv --version v2 --encoding cp1252",
    )
    sub.add_argument("action", choices=["list", "load"], nargs="?", default="list", help="list (default) or load")
    sub.add_argument(
        "file",
        metavar="FILE",
        nargs="?",
        help="with load: CSV code,description,unit,amount,valid_from,valid_to (amounts in cents)",
    )
    sub.add_argument("--version", help="with load: the table's version label")
    sub.add_argument(
        "--encoding",
        type=_encoding,
        default="utf-8-sig",
        metavar="ENC",
        help="with load: the CSV's encoding (default utf-8; cp1252 for Windows Excel)",
    )

    sub = command(
        "bench",
        writes.cmd_bench,
        "measure ingest, rebuild, close, audit and feed on a synthetic year",
        "ggzledger bench",
        "ggzledger bench --events 1000000 --json bench.json",
        note="Without --db the bench uses a fresh temporary SQLite file; a given store must be empty.",
    )
    sub.add_argument(
        "--events",
        type=_count("--events", _BENCH_MAX, 1),
        default=50_000,
        metavar="N",
        help="lines of workload (default 50,000)",
    )
    sub.add_argument("--seed", type=_count("--seed", 2**32), default=1, help="workload seed (default 1)")
    sub.add_argument(
        "--baseline-records",
        type=_count("--baseline-records", _BENCH_MAX, 1),
        default=20_000,
        metavar="N",
        help="lines for the library baseline (default 20,000)",
    )
    sub.add_argument("--json", metavar="FILE", help="also write the figures as JSON to FILE")
    sub.add_argument("--plain", action="store_true", help="a plain ledger: no sealing of personal fields (to compare)")
    keys.add_commands(command, json_flag)

    sub = command(
        "history",
        reads.cmd_history,
        "the care-need history of TRAJECTORY, with findings (docs/audit.md)",
        "ggzledger history T-HENK",
        "ggzledger history T-HENK --json",
    )
    sub.add_argument("trajectory", metavar="TRAJECTORY", type=_trajectory, help=TRAJECTORY_HELP)
    json_flag(sub)

    sub = command(
        "reviews",
        reads.cmd_reviews,
        "the review worklist: open trajectories whose review is due",
        "ggzledger reviews",
        "ggzledger reviews --as-of 2017-02-20",
    )
    sub.add_argument("--as-of", type=_date, metavar="DATE", help="judge as of DATE, YYYY-MM-DD (default: today)")
    json_flag(sub)

    sub = command(
        "waiting",
        analyses.cmd_waiting,
        "waiting times per trajectory: registration -> assessment -> first treatment (docs/analyses.md)",
        "ggzledger waiting --as-of 2024-12-31",
        "ggzledger waiting --trajectory T1-000042 --json",
        "ggzledger waiting --as-of 2024-12-31 --plot waits.png",
        note="Writes nothing; the read is access-logged. A wait over its Treeknorm (28, 70, 98 days) is marked,\n"
        "and is a treeknorm_exceeded finding.",
    )
    sub.add_argument("--trajectory", type=_trajectory, metavar="TRAJECTORY", help="only this trajectory")
    sub.add_argument("--as-of", type=_date, metavar="DATE", help="as the dates up to DATE give it (default: today)")
    sub.add_argument("--plot", metavar="FILE", help="also draw the waits' distribution to FILE (.png or .svg)")
    json_flag(sub)

    sub = command(
        "regiobeeld",
        analyses.cmd_regiobeeld,
        "per region and care form: waiting, waits of the quarter, in care, complex need, volume by month",
        "ggzledger regiobeeld --as-of 2024-12-31",
        "ggzledger regiobeeld --as-of 2024-12-31 --by region,care_form,group --json",
        "ggzledger regiobeeld --as-of 2024-12-31 --by care_form --plot volume.svg",
        note="Writes nothing and names no patient (docs/analyses.md defines every figure).",
    )
    sub.add_argument("--as-of", type=_date, required=True, metavar="DATE", help="the day the picture is of, YYYY-MM-DD")
    sub.add_argument(
        "--by", default="region,care_form", metavar="DIMS",
        help="comma-separated, any of region, care_form, group (default region,care_form)",
    )  # fmt: skip
    sub.add_argument("--plot", metavar="FILE", help="also draw the monthly volume by care form to FILE (.png or .svg)")
    json_flag(sub)

    sub = command(
        "totals",
        reads.cmd_totals,
        "cumulative totals of issued declarations",
        "ggzledger totals",
        "ggzledger totals --by insurer --drafts",
    )
    sub.add_argument(
        "--by",
        choices=DIMENSIONS,
        default="month",
        metavar="DIM",
        help=f"one of {', '.join(DIMENSIONS)} (default month)",
    )
    sub.add_argument("--drafts", action="store_true", help="also the drafts of open months, in a column of their own")
    json_flag(sub)

    sub = command(
        "audit",
        reads.cmd_audit,
        "reconstruct the declaration of TRAJECTORY for MONTH from the log and compare (exit 1: differs)",
        "ggzledger audit T-HENK 2017-02",
    )
    sub.add_argument("trajectory", metavar="TRAJECTORY", type=_trajectory, help=TRAJECTORY_HELP)
    sub.add_argument("month", metavar="MONTH", type=_month, help="a closed month, YYYY-MM")

    sub = command(
        "findings",
        reads.cmd_findings,
        "what an insurer's material check would ask about the ZPM lines (docs/audit.md)",
        "ggzledger findings",
        "ggzledger findings --trajectory T-ZPM1 --month 2024-10 --json",
        note="Computed from every event recorded so far; nothing is stored. Exit 0 with or without findings.",
    )
    sub.add_argument("--trajectory", type=_trajectory, metavar="TRAJECTORY", help="only the findings on its lines")
    sub.add_argument("--month", type=_month, metavar="MONTH", help="only the findings on lines dated in MONTH, YYYY-MM")
    json_flag(sub)

    sub = command(
        "whatif",
        analyses.cmd_whatif,
        "a period's issued declarations re-priced under other tariffs, an uplift or other contracts (docs/analyses.md)",
        "ggzledger whatif --month-from 2024-01 --month-to 2024-12 --uplift 10",
        "ggzledger whatif --month-from 2025-01 --month-to 2025-12 --tariffs nza-2026.csv --shift-years 1 --json",
        "ggzledger whatif --month-from 2024-10 --month-to 2024-11 --contract k-3311-2024-new.jsonl --by insurer",
        note="Writes nothing. Each line is priced again from its activity's recorded facts; a line with no price\n"
        "under the alternative counts 0 and is listed (the read is access-logged when it names trajectories).",
    )
    sub.add_argument("--month-from", type=_month, required=True, metavar="MONTH", help="the first month, YYYY-MM")
    sub.add_argument("--month-to", type=_month, required=True, metavar="MONTH", help="the last month (at most 36)")
    alternative = sub.add_mutually_exclusive_group(required=True)
    alternative.add_argument(
        "--tariffs", action="append", metavar="FILE",
        help="a tariff table CSV as tariffs load takes (v1 or v2) instead of the tables in force; repeat to layer",
    )  # fmt: skip
    alternative.add_argument(
        "--uplift", metavar="PERCENT", help="every line's amount +PERCENT (-100..1000, two decimals), per line half up"
    )
    alternative.add_argument(
        "--contract", metavar="FILE", help="JSON lines of contract_agreed records replacing their parties' contracts"
    )
    sub.add_argument(
        "--shift-years", type=_signed(10), default=0, metavar="N",
        help="with --tariffs: look rows up N years from each date (1: next year's table on this year's care)",
    )  # fmt: skip
    sub.add_argument(
        "--by", action="append", metavar="DIM",
        help="month, insurer, provider, group, cluster, care_form (repeat or comma-separate; default all)",
    )  # fmt: skip
    json_flag(sub)

    sub = command(
        "dbc",
        analyses.cmd_dbc,
        "what the DBC model (until 2021) would have billed for a trajectory's facts, beside what was declared",
        "ggzledger dbc T-HENK",
        "ggzledger dbc --month 2017-02 --json",
        note="Writes nothing; the read is access-logged. The DBC tables are listed and loaded by dbc-tables\n"
        "(docs/analyses.md: the bands, the 365-day close, the start year's tariff, the stay days).",
    )
    sub.add_argument("trajectory", metavar="TRAJECTORY", nargs="?", type=_trajectory, help=TRAJECTORY_HELP)
    sub.add_argument("--month", type=_month, metavar="MONTH", help="every trajectory referred back in MONTH, YYYY-MM")
    json_flag(sub)

    sub = command(
        "dbc-tables",
        analyses.cmd_dbc_tables,
        "list the DBC tables (product per diagnosis group and minute band, the stay day), or load one from CSV",
        "ggzledger dbc-tables",
        "ggzledger dbc-tables load dbc-2018.csv --version dbc-2018",
    )
    sub.add_argument("action", choices=["list", "load"], nargs="?", default="list", help="list (default) or load")
    sub.add_argument(
        "file",
        metavar="FILE",
        nargs="?",
        help="with load: CSV product,diagnosis_group,min_minutes,max_minutes,description,amount,valid_from,valid_to",
    )
    sub.add_argument("--version", help="with load: the table's version label")
    sub.add_argument(
        "--encoding",
        type=_encoding,
        default="utf-8-sig",
        metavar="ENC",
        help="with load: the CSV's encoding (default utf-8; cp1252 for Windows Excel)",
    )

    sub = command(
        "export",
        exports.cmd_export,
        "a closed month's declarations: the Vektis GDS801 claim message to one insurer (docs/exports.md),"
        " or a FHIR R4 bundle of every declaration (docs/fhir.md)",
        "ggzledger export gds801 --insurer 3311 --month 2024-10 --out 2024-10-3311.xml",
        "ggzledger export gds801 --insurer 3311 --month 2024-10 --again",
        "ggzledger export fhir --month 2024-10 --out 2024-10.fhir.json",
        note="gds801: a month is claimed once per insurer (recorded as claim_exported); --again writes it again,"
        " with the same line references and a new message reference. A message VECOZO would refuse is not"
        " written: each broken rule is named (VC number, trajectory, line). Not VECOZO-certified."
        " fhir: a collection Bundle (EpisodeOfCare, ChargeItem, Invoice, Claim) with the same line references;"
        " nothing is recorded, it can be written again. Both name the patients: each export is access-logged.",
    )
    sub.add_argument("format", choices=tuple(exports.FORMATS), metavar="FORMAT", help="gds801 or fhir")
    sub.add_argument("--month", type=_month, required=True, metavar="MONTH", help="a closed month, YYYY-MM")
    sub.add_argument("--insurer", type=_uzovi, metavar="UZOVI", help="gds801: the insurer's 4-digit UZOVI code")
    sub.add_argument("--provider", type=_agb, metavar="AGB", help="gds801: the declarant, when the month has several")
    sub.add_argument("--out", metavar="FILE", help="write to FILE, a new file (default: standard output)")
    sub.add_argument("--again", action="store_true", help="gds801: export a month claimed before, deliberately")
    sub.add_argument("--test", action="store_true", help="gds801: a test message (Berichtsoort T, not P)")

    sub = command(
        "verify",
        reads.cmd_verify,
        "recompute the event chain and every close from the log; exit 1 naming what differs",
        "ggzledger verify",
        "ggzledger verify --anchor 1200:3f9a…c41e --anchors kept-anchors.txt",
        note="Prints 'anchor POSITION HASH' for the head: keep it outside the database (docs/audit.md).",
    )
    sub.add_argument(
        "--anchor", type=_anchor, action="append", default=[], metavar="P:H",
        help="a position and the chain hash kept for it; the chain must still pass through it (repeatable)",
    )  # fmt: skip
    sub.add_argument(
        "--anchors", metavar="FILE",
        help="a file of anchors, one a line as close and verify print them ('anchor P H') or P:H; # comments",
    )  # fmt: skip
    command("rebuild", reads.cmd_rebuild, "drop every view and rebuild it from position 0", "ggzledger rebuild")

    position = _count("--after", POSITION_MAX)
    sub = command(
        "feed",
        follow.cmd_feed,
        "public events as JSON lines, in position order (docs/feed.md)",
        "ggzledger feed --after 1000 --limit 500",
        "ggzledger feed --follow | consumer",
    )
    sub.add_argument("--after", type=position, default=0, metavar="N", help="start after position N (default 0)")
    sub.add_argument(
        "--limit", type=_count("--limit", POSITION_MAX), default=None, metavar="K", help="stop after K events"
    )
    sub.add_argument("--follow", action="store_true", help="keep streaming new events until SIGINT/SIGTERM")

    sub = command(
        "project",
        follow.cmd_project,
        "bring the read models up to date; --follow keeps them so",
        "ggzledger project",
        "ggzledger project --follow   # beside the writers (docs/operations.md)",
    )
    sub.add_argument("--follow", action="store_true", help="keep applying new events until SIGINT/SIGTERM")

    sub = command(
        "serve",
        follow.cmd_serve,
        "the HTTP interface: feed, declarations, histories, totals, status, OpenAPI (docs/operations.md)",
        "ggzledger serve",
        "ggzledger serve --server-name ledger.example.nl",
        "ggzledger serve --host 0.0.0.0 --port 8080 --server-name ledger.example.nl",
        "ggzledger --db postgresql://ggzledger_reader@db/ledger serve --read-only",
        note="Every request needs a token of `ggzledger token add`, loopback included.",
    )
    sub.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    sub.add_argument("--port", type=_count("--port", _PORT_MAX, 1), default=8080, help="port 1..65535 (default 8080)")
    sub.add_argument(
        "--server-name",
        action="append",
        default=[],
        metavar="NAME",
        help="a further name the Host header may give, e.g. the one a reverse proxy forwards (repeatable;"
        " answered besides the --host address, and localhost, 127.0.0.1 and [::1] on loopback)",
    )
    sub.add_argument(
        "--read-only",
        action="store_true",
        help="PostgreSQL: serve as a role that may not write events or views (project --follow keeps them)",
    )

    sub = command(
        "token",
        access.cmd_token,
        "named bearer tokens for serve: add (printed once), revoke, list",
        "ggzledger token add billing-export --role integrator",
        "ggzledger token revoke billing-export",
        "ggzledger token list",
        note="Roles: integrator (the feed, personal fields null), auditor (declarations, histories, totals,\n"
        "findings, the analyses), backoffice (the feed and every read but the analyses). docs/operations.md\n"
        "has the table.",
    )
    sub.add_argument("action", choices=["add", "revoke", "list"], help="add, revoke or list")
    sub.add_argument("name", metavar="NAME", nargs="?", help="the token's name: letters, digits, '.', '_', '-'")
    sub.add_argument("--role", choices=("integrator", "auditor", "backoffice"), help="with add: the token's role")
    json_flag(sub)

    sub = command(
        "access-log",
        access.cmd_access_log,
        "who read which patient's data, when, and the outcome; --verify checks the chain",
        "ggzledger access-log --trajectory T-HENK",
        "ggzledger access-log --since 2025-01-01 --json",
        "ggzledger access-log --verify",
        "ggzledger access-log --anchor 1200:9f2c…",
    )
    sub.add_argument("--trajectory", type=_trajectory, metavar="TRAJECTORY", help="only the reads of TRAJECTORY")
    sub.add_argument("--since", type=_date, metavar="DATE", help="only the reads from DATE (UTC), YYYY-MM-DD")
    sub.add_argument("--verify", action="store_true", help="recompute the chain; exit 1 naming the first bad row")
    sub.add_argument(
        "--anchor",
        type=_access_anchor,
        action="append",
        default=[],
        metavar="ROWS:HASH",
        help="verify, and check the log still passes through an anchor it printed before (repeatable)",
    )
    json_flag(sub)
    return parser
