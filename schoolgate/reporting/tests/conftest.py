"""The governors' report tests: each checks the audit chain against its own checkpoint file."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _own_checkpoints(settings, tmp_path):
    # The chain is verified against the newest checkpoint: this test's own file, not one another test wrote.
    settings.AUDIT_CHECKPOINT_FILE = tmp_path / "checkpoints.jsonl"
