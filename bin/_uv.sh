# Sourced by bin/up and bin/test: find (or install) uv, and point it at Python 3.13.
# pyenv's shims resolve through .python-version, so a `uv` shim installed under another Python
# fails here; we use a uv of our own in .tools/ unless a working one is on PATH.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
UV=""
if [ -x "$ROOT/.tools/venv/bin/uv" ]; then
  UV="$ROOT/.tools/venv/bin/uv"
elif command -v uv >/dev/null 2>&1 && uv --version >/dev/null 2>&1; then
  UV="$(command -v uv)"
else
  echo "Installing uv into .tools/venv (once)..."
  PY=""
  for candidate in python3.13 python3 python; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import venv' >/dev/null 2>&1; then
      PY="$candidate"; break
    fi
  done
  if [ -z "$PY" ]; then
    echo "No Python with venv found. Install uv (https://docs.astral.sh/uv/) and run this again." >&2
    exit 1
  fi
  "$PY" -m venv "$ROOT/.tools/venv"
  "$ROOT/.tools/venv/bin/python" -m pip install --quiet --disable-pip-version-check uv
  UV="$ROOT/.tools/venv/bin/uv"
fi
# Prefer an installed Python 3.13 (pyenv's, if any) to downloading one.
if [ -z "${UV_PYTHON:-}" ] && command -v pyenv >/dev/null 2>&1; then
  PYENV_PY="$(pyenv root)/versions/$(cat "$ROOT/.python-version")/bin/python3"
  [ -x "$PYENV_PY" ] && export UV_PYTHON="$PYENV_PY"
fi
export UV
