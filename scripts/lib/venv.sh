# shellcheck shell=bash
# Shared by scripts/test and scripts/demo: find Python 3.11/3.12, create .venv, install the project.
#
# Source it from the repository root; it defines ensure_venv <extras> and sets VENV_PY.
# The install is skipped when the virtualenv was already installed from the same pyproject.toml
# with the same extras (a stamp file in .venv); delete .venv/.zongzhi-installed-* to force it.

VENV_DIR="${VENV_DIR:-.venv}"

log() { printf '\033[1m[%s]\033[0m %s\n' "${SCRIPT_NAME:-zongzhi}" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

_python_ok() {
    # True when $1 runs and is CPython 3.11 or 3.12 (pyproject: requires-python >=3.11,<3.13).
    "$1" -c 'import sys; raise SystemExit(0 if sys.version_info[:2] in ((3, 11), (3, 12)) else 1)' \
        >/dev/null 2>&1
}

find_python() {
    local candidate
    for candidate in "${PYTHON:-}" python3.11 python3.12 python3; do
        [[ -n "$candidate" ]] || continue
        if command -v "$candidate" >/dev/null 2>&1 && _python_ok "$candidate"; then
            command -v "$candidate"
            return 0
        fi
    done
    return 1
}

# ensure_venv EXTRAS: EXTRAS is "" for the bare project or e.g. "test" for '.[test]'.
ensure_venv() {
    local extras="$1" python spec stamp want
    if [[ ! -x "$VENV_DIR/bin/python" ]] || ! _python_ok "$VENV_DIR/bin/python"; then
        python="$(find_python)" || die "Python 3.11 (or 3.12) not found: install python3.11, or set PYTHON=/path/to/python3.11"
        log "creating $VENV_DIR with $python ($("$python" --version 2>&1))"
        rm -rf "$VENV_DIR"
        "$python" -m venv "$VENV_DIR"
    fi
    VENV_PY="$VENV_DIR/bin/python"

    spec="."
    [[ -n "$extras" ]] && spec=".[$extras]"
    stamp="$VENV_DIR/.zongzhi-installed-${extras:-base}"
    # The stamp names what was installed: pyproject.toml's content, the extras and the checkout path
    # (an editable install points at one checkout).
    want="$(cat pyproject.toml; printf '\n%s\n%s\n' "$spec" "$PWD")"
    want="$(printf '%s' "$want" | cksum)"
    if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
        log "dependencies up to date ($spec in $VENV_DIR)"
        return 0
    fi
    log "installing $spec into $VENV_DIR (first run takes a few minutes) ..."
    local started=$SECONDS
    "$VENV_PY" -m pip install -qq --disable-pip-version-check -e "$spec"
    printf '%s\n' "$want" >"$stamp"
    log "installed in $((SECONDS - started)) s"
}
