"""The dependency rules between the parts (docs/overview.md), read from the source with ``ast``.

Every import counts, those under ``if TYPE_CHECKING:`` too: a type is a dependency of the design even
where it costs nothing at run time. Nothing here imports the modules it judges.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
PACKAGE = ROOT / "src" / "ggzledger"
# src/ggzledger/projections is a link to the top-level projections/ folder: walked there, not through it.
PROJECTIONS = ROOT / "projections"

# What the pure domain may use besides the standard library (docs/overview.md, style.md §2).
DOMAIN_MAY_IMPORT = ("attrs", "eventsourcing.domain", "ggzledger.domain")


def _modules() -> Iterator[tuple[str, Path]]:
    """(dotted name, file) of every module of the package and of the read side."""
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] != "projections":
            yield _dotted("ggzledger", relative), path
    for path in sorted(PROJECTIONS.rglob("*.py")):
        yield _dotted("ggzledger.projections", path.relative_to(PROJECTIONS)), path


def _dotted(prefix: str, relative: Path) -> str:
    parts = [prefix, *relative.with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(module: str, path: Path) -> set[str]:
    """The absolute names of the modules one file imports; relative imports resolved."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                found.add(".".join([*base, node.module] if node.module else base))
            else:
                found.add(str(node.module))
    return found


IMPORTS = {module: _imports(module, path) for module, path in _modules()}


def _within(name: str, *parts: str) -> bool:
    return any(name == part or name.startswith(part + ".") for part in parts)


def _offending(importers: tuple[str, ...], forbidden: Callable[[str], bool], but: tuple[str, ...] = ()) -> list[str]:
    """``module -> import`` for every import of a module within ``importers`` (not ``but``) that is ``forbidden``."""
    return sorted(
        f"{module} -> {name}"
        for module, names in IMPORTS.items()
        if _within(module, *importers) and not _within(module, *but)
        for name in names
        if forbidden(name)
    )


def _stdlib(name: str) -> bool:
    return name.partition(".")[0] in sys.stdlib_module_names


def test_the_rules_see_every_part_and_the_read_side() -> None:
    # A walk that found nothing would make every rule below pass.
    parts = {module.split(".")[1] for module in IMPORTS if "." in module}
    assert {
        "domain", "reference", "store", "service", "audit", "feed", "interfaces", "projections", "exports", "analyses",
    } <= parts  # fmt: skip
    assert "ggzledger.projections.billing" in IMPORTS


def test_the_domain_imports_only_the_standard_library_attrs_and_eventsourcing_domain() -> None:
    def forbidden(name: str) -> bool:
        return not (_stdlib(name) or _within(name, *DOMAIN_MAY_IMPORT))

    assert _offending(("ggzledger.domain",), forbidden) == []


def test_reference_data_imports_only_the_domain_the_standard_library_and_attrs() -> None:
    allowed = ("attrs", "ggzledger.domain", "ggzledger.reference")
    assert _offending(("ggzledger.reference",), lambda name: not (_stdlib(name) or _within(name, *allowed))) == []


def test_the_store_never_imports_the_service_audit_feed_interfaces_or_read_side() -> None:
    above = ("ggzledger.service", "ggzledger.audit", "ggzledger.feed", "ggzledger.interfaces", "ggzledger.projections")
    assert _offending(("ggzledger.store",), lambda name: _within(name, *above)) == []


def test_the_read_side_never_imports_the_service_audit_or_interfaces() -> None:
    above = ("ggzledger.service", "ggzledger.audit", "ggzledger.interfaces")
    assert _offending(("ggzledger.projections",), lambda name: _within(name, *above)) == []


def test_nothing_below_the_interfaces_imports_them() -> None:
    # `python -m ggzledger` is the program's entry point, like the console script: it may start the CLI.
    entry = ("ggzledger.interfaces", "ggzledger.__main__")
    offending = _offending(("ggzledger",), lambda name: _within(name, "ggzledger.interfaces"), but=entry)
    assert offending == []


def test_the_exports_are_used_by_the_interfaces_only() -> None:
    # An export opens patients' identities: only a command or a request that logs the read may ask for one.
    offending = _offending(
        ("ggzledger",),
        lambda name: _within(name, "ggzledger.exports"),
        but=("ggzledger.exports", "ggzledger.interfaces"),
    )
    assert offending == []


# What writes: the unit of work, ingest, erasure, claims, tokens; and the Ledger's and the stores' writing calls.
_WRITERS = ("ggzledger.service.batch", "ggzledger.service.ingest", "ggzledger.service.erasure",
            "ggzledger.service.tokens", "ggzledger.service.sealing", "ggzledger.exports", "ggzledger.audit.access_log")  # fmt: skip
_WRITING_CALLS = frozenset({
    "record", "close_month", "close_record", "contract_record", "load_tariff_table", "store_events", "insert_events",
    "insert_copied", "rebuild", "executemany",
})  # fmt: skip


def test_the_analyses_import_no_writer_and_call_nothing_that_writes() -> None:
    # An analysis answers a question of the ledger and leaves it as it was (docs/analyses.md).
    assert _offending(("ggzledger.analyses",), lambda name: _within(name, *_WRITERS)) == []
    calls = []
    for path in sorted((PACKAGE / "analyses").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                if node.func.attr in _WRITING_CALLS:
                    calls.append(f"{path.name}:{node.lineno} .{node.func.attr}()")
                elif node.func.attr == "transaction" and any(
                    k.arg == "write" and not (isinstance(k.value, ast.Constant) and k.value.value is False)
                    for k in node.keywords
                ):
                    calls.append(f"{path.name}:{node.lineno} a write transaction")
    assert calls == []
    assert (PACKAGE / "analyses" / "whatif.py").exists()


def test_importing_the_domain_loads_neither_the_store_nor_the_read_side() -> None:
    probe = (
        "import sys, ggzledger.domain\n"
        "loaded = ('ggzledger.projections', 'orjson', 'eventsourcing.sqlite', 'eventsourcing.postgres')\n"
        "print(sorted(m for m in sys.modules if m.startswith(loaded)))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("source", "module", "expected"),
    [
        ("from . import values\nfrom .errors import Refused\n", "ggzledger.domain.billing", {"ggzledger.domain"}),
        ("from ..domain import money\n", "ggzledger.store.codec", {"ggzledger.domain"}),
        ("if TYPE_CHECKING:\n    import orjson\n", "ggzledger.domain.values", {"orjson"}),
    ],
)
def test_relative_and_type_checking_imports_are_read_as_what_they_name(
    tmp_path: Path, source: str, module: str, expected: set[str]
) -> None:
    path = tmp_path / "module.py"
    path.write_text(source)
    found = _imports(module, path)
    assert expected <= found
    assert not any(name.startswith(".") for name in found)
