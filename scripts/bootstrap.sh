# Sourced by scripts/run and scripts/test: creates .venv and installs the project once
# per version of pyproject.toml. Usage: bootstrap_venv "extras,list"
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PYTHON_BIN="${PYTHON:-python3}"

bootstrap_venv() {
    local extras="$1"
    local stamp="$VENV/.installed-$(cat "$ROOT/pyproject.toml" | sha256sum | cut -c1-12)-${extras//,/_}"
    if [ ! -x "$VENV/bin/python" ]; then
        echo "==> Creating the virtual environment in .venv"
        "$PYTHON_BIN" -m venv "$VENV"
    fi
    if [ ! -f "$stamp" ]; then
        echo "==> Installing the contact centre and its dependencies ($extras)"
        "$VENV/bin/python" -m pip install --quiet --upgrade pip
        "$VENV/bin/python" -m pip install --quiet -e "$ROOT[$extras]"
        rm -f "$VENV"/.installed-*
        touch "$stamp"
    fi
}

require_npm() {
    if ! command -v npm >/dev/null 2>&1; then
        echo "error: npm is needed to fetch the service-public.fr fiches (apt-get install npm)" >&2
        exit 1
    fi
}
