#!/usr/bin/env bash
# octavia-tempest-plugin's API suite against a fresh `pier up` (shared/spec/clients.md §4).
#
# Prints per-class counts, one line `N passed, N failed, N skipped`, then the failing test ids;
# exits non-zero when a test fails.  Pier is always stopped.
#   CONFORMANCE_REGEX        a subset of the API suite: a regex searched in the test ids after
#                            `octavia_tempest_plugin.tests.api.v2.` (e.g. 'test_pool|test_member')
#   CONFORMANCE_CONCURRENCY  tempest workers, each with its own account set (default 4)
#   CONFORMANCE_RBAC         advanced (default): Octavia's load-balancer_* roles, pre-provisioned
#                            accounts; keystone_default_roles: reader/member/admin only, tempest
#                            creating its projects, users and role assignments itself (dynamic
#                            credentials, with one provisioned admin account)
# Everything lives under .work/ : venv-tempest/ (kept), conformance/ (new every run).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
WORK=$REPO/.work
VENV=$WORK/venv-tempest
RUN=$WORK/conformance
PIER_BIN=$REPO/.venv/bin
REGEX='^octavia_tempest_plugin\.tests\.api\.v2\.'
if [[ -n ${CONFORMANCE_REGEX:-} ]]; then
    REGEX="$REGEX.*($CONFORMANCE_REGEX)"
fi
CONCURRENCY=${CONFORMANCE_CONCURRENCY:-4}
RBAC=${CONFORMANCE_RBAC:-advanced}
case $RBAC in
    advanced | keystone_default_roles) ;;
    *)
        echo "CONFORMANCE_RBAC must be advanced or keystone_default_roles, not '$RBAC'" >&2
        exit 2
        ;;
esac

ensure_venv() {
    # Reinstalled only when requirements.txt changed since the last install.
    if cmp -s "$HERE/requirements.txt" "$VENV/.installed" 2>/dev/null; then
        return
    fi
    echo "installing $(paste -sd' ' "$HERE/requirements.txt") into $VENV"
    mkdir -p "$WORK"
    python3 -m venv "$VENV"
    if ! "$VENV/bin/pip" install -q --disable-pip-version-check -r "$HERE/requirements.txt" \
        >"$WORK/venv-tempest.log" 2>&1; then
        cat "$WORK/venv-tempest.log" >&2
        exit 1
    fi
    cp "$HERE/requirements.txt" "$VENV/.installed"
}

PIER_PID=""
stop_pier() {
    if [[ -n $PIER_PID ]] && kill -0 "$PIER_PID" 2>/dev/null; then
        kill "$PIER_PID"
        wait "$PIER_PID" 2>/dev/null || true
    fi
}
trap stop_pier EXIT
trap 'exit 130' INT TERM  # so that EXIT runs on a signal too

start_pier() {
    local port
    port=$("$PIER_BIN/python" -c \
        'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    URL=http://127.0.0.1:$port
    # The policy RBAC_test_type expects: advanced is Octavia's load-balancer_* policy,
    # keystone_default_roles its reader/member/admin one (enforce_new_defaults).
    # The API suite runs with tempest's noop drivers (random subnet ids, no traffic):
    # Pier's in-memory compute and bookkeeping-only network are its equivalent.
    "$PIER_BIN/pier" up --port "$port" --data-dir "$RUN/pier" --accept-any-subnet \
        --compute-driver fake --network-driver records --health-port 0 \
        --policy-roles "$RBAC" >"$RUN/pier.log" 2>&1 &
    PIER_PID=$!
    for _ in $(seq 600); do
        if ! kill -0 "$PIER_PID" 2>/dev/null; then
            echo "pier up exited:" >&2
            cat "$RUN/pier.log" >&2
            exit 1
        fi
        if "$PIER_BIN/python" -c "import sys, httpx; sys.exit(httpx.get('$URL/').status_code != 200)" \
            2>/dev/null; then
            return
        fi
        sleep 0.1
    done
    echo "pier up not healthy after 60 s; log in $RUN/pier.log" >&2
    exit 1
}

ensure_venv
rm -rf "$RUN"
mkdir -p "$RUN"
start_pier
echo "pier up at $URL (policy roles: $RBAC; log: $RUN/pier.log)"
"$PIER_BIN/python" "$HERE/workspace.py" --url "$URL" --data-dir "$RUN/pier" \
    --workspace "$RUN/tempest" --copies "$CONCURRENCY" --rbac "$RBAC"

cd "$RUN/tempest"
# A class failing in setUpClass leaves stale account locks behind (clients.md §4.2, pitfall 2).
find tempest_lock -maxdepth 1 -regextype posix-extended -regex '.*/[0-9a-f]{32}' -delete
if [[ $CONCURRENCY -gt 1 ]]; then
    workers=(--concurrency "$CONCURRENCY")
else
    workers=(--serial)
fi
started=$SECONDS
status=0
"$VENV/bin/tempest" run --config-file etc/tempest.conf --regex "$REGEX" "${workers[@]}" \
    >"$RUN/tempest-run.log" 2>&1 || status=$?
echo "tempest run took $((SECONDS - started)) s (exit $status; log: $RUN/tempest-run.log)"
"$VENV/bin/stestr" last --subunit | "$VENV/bin/python" "$HERE/summary.py"
