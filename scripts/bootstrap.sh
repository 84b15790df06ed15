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
        # sentence-transformers asks for any torch, which on PyPI is a CUDA build of several
        # GB: the CPU build is installed first (TORCH_SPEC; a wheel of it may lie in pip's
        # find-links), and then satisfies that requirement.
        if [[ ",$extras," == *,sentence-transformers,* ]]; then
            "$VENV/bin/python" -m pip install --quiet "${TORCH_SPEC:-torch==2.13.0}"
        fi
        "$VENV/bin/python" -m pip install --quiet -e "$ROOT[$extras]"
        rm -f "$VENV"/.installed-*
        touch "$stamp"
    fi
    # Smart Turn's model ships in the pipecat-ai wheel, of which only that file is used: the
    # package goes in without its dependency tree (pip extras cannot say --no-deps).
    if [[ ",$extras," == *,voice,* || ",$extras," == *,smartturn,* ]]; then
        "$VENV/bin/python" -c "import importlib.util as u; assert u.find_spec('pipecat')" \
            2>/dev/null \
            || "$VENV/bin/python" -m pip install --quiet --no-deps "pipecat-ai==1.14.0"
    fi
}

require_npm() {
    if ! command -v npm >/dev/null 2>&1; then
        echo "error: npm is needed to fetch the service-public.fr fiches (apt-get install npm)" >&2
        exit 1
    fi
}

# The test suite's npm packages (package.json, pinned in package-lock.json: axe-core, which
# audits the pages' accessibility) go into node_modules, once per version of the lock file.
install_test_node_packages() {
    require_npm
    local stamp="$ROOT/node_modules/.installed-$(sha256sum < "$ROOT/package-lock.json" | cut -c1-12)"
    if [ ! -f "$stamp" ]; then
        echo "==> Installing the test suite's npm packages (axe-core) in node_modules"
        (cd "$ROOT" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
        touch "$stamp"
    fi
}
