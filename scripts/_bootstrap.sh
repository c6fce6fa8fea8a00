# Sourced by the scripts/ commands: install what a fresh machine is missing.
# Python packages come from uv.lock into .venv; system packages (Chromium, PostgreSQL) from apt.

cd "$(dirname "${BASH_SOURCE[0]}")/.."

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

ensure_uv() {
  if ! command -v uv >/dev/null 2>&1; then
    log "Installing uv"
    python3 -m pip install --quiet --user uv || python3 -m pip install --quiet uv
    export PATH="$HOME/.local/bin:$PATH"
  fi
}

# Django 6.1 needs Python 3.12+. Prefer an interpreter already on this machine (PATH or pyenv);
# without one, uv fetches a managed Python itself.
ensure_python() {
  [ -n "${UV_PYTHON:-}" ] && return
  local candidate
  for candidate in \
    python3.12 "$(pyenv root 2>/dev/null)"/versions/3.12*/bin/python3 \
    python3.13 "$(pyenv root 2>/dev/null)"/versions/3.13*/bin/python3 python3; do
    # pyenv's shims exist on PATH even where the version is not selected: check it really runs.
    if "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
      UV_PYTHON="$(command -v "$candidate")"
      export UV_PYTHON UV_PYTHON_DOWNLOADS=never
      return
    fi
  done
}

ensure_venv() {
  ensure_uv
  ensure_python
  uv sync --locked --quiet "$@"
}

# The development defaults scripts/serve and scripts/manage share; anything already set wins.
development_defaults() {
  export DJANGO_DEBUG="${DJANGO_DEBUG:-true}"
  PORT="${PORT:-8000}"
  export SITE_URL="${SITE_URL:-http://127.0.0.1:$PORT}"
}

apt_install() {
  if [ "$(id -u)" != 0 ]; then
    log "Missing system packages: $*. Install them (e.g. sudo apt-get install -y $*) and re-run."
    exit 1
  fi
  log "Installing system packages: $*"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# axe-core (npm), the accessibility checker the browser tests inject into each page. Installed
# once per version into .cache/; AXE_CORE_JS names the script for the tests.
AXE_CORE_VERSION=4.14.1
ensure_axe_core() {
  local dir=".cache/axe-core-$AXE_CORE_VERSION"
  if [ ! -f "$dir/node_modules/axe-core/axe.min.js" ]; then
    command -v npm >/dev/null 2>&1 || apt_install npm
    log "Installing axe-core $AXE_CORE_VERSION from npm"
    npm install --silent --no-save --no-audit --no-fund --prefix "$dir" "axe-core@$AXE_CORE_VERSION"
  fi
  export AXE_CORE_JS="$PWD/$dir/node_modules/axe-core/axe.min.js"
}

postgres_bindir() {
  local dir
  for dir in "$(pg_config --bindir 2>/dev/null)" /usr/lib/postgresql/*/bin; do
    if [ -x "$dir/pg_ctl" ] && [ -x "$dir/postgres" ]; then
      echo "$dir"
      return
    fi
  done
}
