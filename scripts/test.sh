#!/usr/bin/env bash
# Install what the tests need and run them: the README's test command.
# System packages come from Debian when missing: PostgreSQL's server (the tests start a
# throwaway cluster from it) and Chromium (the HTML report is checked in a real browser).
set -euo pipefail
cd "$(dirname "$0")/.."

have_pg_server() {
    command -v initdb >/dev/null 2>&1 && return 0
    local d
    for d in /usr/lib/postgresql/*/bin; do
        [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && [ -x "$d/postgres" ] && return 0
    done
    return 1
}

missing=()
have_pg_server || missing+=(postgresql)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
    echo "scripts/test.sh: installing ${missing[*]} from Debian" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

pip install -q -e '.[test]'
exec python -m pytest "$@"
