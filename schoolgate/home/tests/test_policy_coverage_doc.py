"""docs/policy-coverage.md stays true: every clause a test names is mapped there to that test, and back."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
DOC = ROOT / "docs" / "policy-coverage.md"
SHARED_CLAUSES = ROOT.parent / "shared" / "policy-clauses.md"
CLAUSE_ID = re.compile(r"\b([A-Z]{2}-[A-Z]+-\d+)\b")


def tagged_tests() -> dict[str, set[str]]:
    """{clause id: {"path::test_name", ...}} from the clause markers on test functions."""
    found: dict[str, set[str]] = {}
    for path in (ROOT / "schoolgate").rglob("test_*.py"):
        tree = ast.parse(path.read_text())
        module_marks = _marks(
            next(
                (
                    n.value
                    for n in tree.body
                    if isinstance(n, ast.Assign) and any(getattr(t, "id", "") == "pytestmark" for t in n.targets)
                ),
                None,
            )
        )
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                marks = module_marks | {m for d in node.decorator_list for m in _marks(d)}
                for clause in marks:
                    found.setdefault(clause, set()).add(f"{path.relative_to(ROOT)}::{node.name}")
    return found


def _marks(node) -> set[str]:
    if node is None:
        return set()
    marks = set()
    for sub in ast.walk(node):
        if (
            isinstance(sub, ast.Call)
            and isinstance(sub.func, ast.Attribute)
            and sub.func.attr == "clause"
            and sub.args
            and isinstance(sub.args[0], ast.Constant)
        ):
            marks.add(sub.args[0].value)
    return marks


def doc_rows() -> dict[str, str]:
    rows = {}
    for line in DOC.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and CLAUSE_ID.fullmatch(cells[0].strip("`")):
            rows[cells[0].strip("`")] = line
    return rows


def test_it_maps_every_tagged_clause_to_its_test_files_in_the_coverage_doc():
    rows = doc_rows()
    for clause, tests in tagged_tests().items():
        assert clause in rows, f"{clause} is tested but missing from docs/policy-coverage.md"
        assert "not yet" not in rows[clause].lower(), f"{clause} is tested but marked not yet covered"
        for test_file in {test.split("::")[0] for test in tests}:
            assert Path(test_file).name in rows[clause], (
                f"docs/policy-coverage.md does not name {test_file} for {clause}"
            )


def test_it_names_only_tests_that_exist_and_carry_the_clause():
    tagged = tagged_tests()
    for clause, line in doc_rows().items():
        for name in re.findall(r"`(test_it_\w+)`", line):
            assert any(t.endswith(f"::{name}") for t in tagged.get(clause, ())), (
                f"docs/policy-coverage.md names {name} for {clause}, but that test does not carry the clause"
            )


def test_it_lists_every_clause_of_the_seed_policies():
    if not SHARED_CLAUSES.exists():
        pytest.skip("shared/policy-clauses.md sits beside the development checkout, not in an install")
    ids = set(re.findall(r"^- `([A-Z]+-[A-Z]+-\d+)`", SHARED_CLAUSES.read_text(), re.M))
    assert ids - set(doc_rows()) == set()
