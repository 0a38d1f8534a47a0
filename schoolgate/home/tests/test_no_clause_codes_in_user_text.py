"""People read plain words, not the policy's clause codes ("(AW-PUB-2)", "RS-IMG-2"): a scan of every page and
email template and of every string handed to ValidationError, PermissionDenied, messages.* or a form's help."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2]
CLAUSE = re.compile(r"\b(?:AW|RS)-[A-Z]+-\d+\b")
USER_FACING_CALLS = {"ValidationError", "PermissionDenied", "add_message", "debug", "info", "success", "warning"}
USER_FACING_CALLS |= {"error", "add_error", "Http404", "notify", "BadRequest"}
USER_FACING_KEYWORDS = {"help_text", "label", "verbose_name", "message", "subject", "body", "reason", "success"}


def _templates() -> list[Path]:
    return sorted(p for p in (PACKAGE / "templates").rglob("*") if p.is_file())


@pytest.mark.parametrize("path", _templates(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_it_shows_no_clause_code_in_any_template(path):
    # Template comments are for developers.
    source = re.sub(r"{#.*?#}|{% comment %}.*?{% endcomment %}", "", path.read_text(), flags=re.DOTALL)
    assert not CLAUSE.findall(source)


def _strings(node: ast.AST) -> list[str]:
    return [n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)]


def _user_text_with_codes(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        texts = []
        if name in USER_FACING_CALLS:
            texts += [s for arg in node.args for s in _strings(arg)]
        texts += [s for kw in node.keywords if kw.arg in USER_FACING_KEYWORDS for s in _strings(kw.value)]
        found += [f"{path.relative_to(PACKAGE)}:{node.lineno}: {text}" for text in texts if CLAUSE.search(text)]
    return found


def test_it_passes_no_clause_code_to_a_message_error_or_label():
    sources = [
        path
        for path in PACKAGE.rglob("*.py")
        if not {"tests", "migrations"} & set(path.relative_to(PACKAGE).parts) and path.name != "conftest.py"
    ]
    assert [hit for path in sources for hit in _user_text_with_codes(path)] == []
