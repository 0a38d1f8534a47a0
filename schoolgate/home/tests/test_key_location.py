"""The encryption and audit keys live in a private key directory outside the data directory, by default."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[3]

SHOW_KEY_FILES = """
    import json
    import django
    django.setup()
    from django.conf import settings
    from schoolgate import crypto
    from schoolgate.audit import keys

    crypto.encrypt("first use makes the key file")
    keys.configured_keys()
    print(json.dumps({name: str(getattr(settings, name)) for name in (
        "KEY_DIR", "ENCRYPTION_KEY_FILE", "AUDIT_KEY_FILE", "AUDIT_CHECKPOINT_FILE")}))
"""


def _key_files(data_dir: Path) -> dict[str, Path]:
    # A clean environment, so the developer's own key settings cannot decide the result.
    keep = {key: value for key, value in os.environ.items() if key in {"PATH", "HOME", "LANG", "TMPDIR"}}
    env = {**keep, "DJANGO_SETTINGS_MODULE": "schoolgate.settings", "SCHOOLGATE_DATA_DIR": str(data_dir)}
    result = subprocess.run(  # noqa: S603 - our own interpreter running our own code
        [sys.executable, "-c", textwrap.dedent(SHOW_KEY_FILES)],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return {name: Path(value) for name, value in json.loads(result.stdout.splitlines()[-1]).items()}


def test_it_keeps_the_keys_outside_the_data_directory_with_private_permissions(tmp_path):
    data_dir = tmp_path / "data"

    files = _key_files(data_dir)

    assert files["KEY_DIR"] == tmp_path / "data-keys"
    for name in ("ENCRYPTION_KEY_FILE", "AUDIT_KEY_FILE", "AUDIT_CHECKPOINT_FILE"):
        assert files[name].parent == files["KEY_DIR"], name
        assert not files[name].is_relative_to(data_dir), name
    assert files["KEY_DIR"].stat().st_mode & 0o777 == 0o700
    for name in ("ENCRYPTION_KEY_FILE", "AUDIT_KEY_FILE"):
        assert files[name].stat().st_mode & 0o777 == 0o600, name
    assert not list(data_dir.glob("*.keys"))


def test_it_keeps_using_a_key_file_left_in_the_data_directory_by_an_older_install(tmp_path):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    old = data_dir / "encryption.keys"
    old.write_text("# old install\nx6oLkCnUjF1dGZ1r4O0wJ5s7yqFv1d8Bq2Xk9mT3pE0=\n")

    files = _key_files(data_dir)

    assert files["ENCRYPTION_KEY_FILE"] == old
    assert not (tmp_path / "data-keys" / "encryption.keys").exists()
    assert old.read_text().endswith("x6oLkCnUjF1dGZ1r4O0wJ5s7yqFv1d8Bq2Xk9mT3pE0=\n")
