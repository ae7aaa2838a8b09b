#!/usr/bin/env bash
# Build (idempotently) the reference Octavia used by bench/api/run.py.
#
# Octavia lives in its own venv outside the repo because its dependency set
# (oslo.*, eventlet, pecan, taskflow, ...) must not leak into Pier's venv.
# Versions are pinned by octavia-constraints.txt (a `pip freeze` of a venv
# that was verified to take load balancers PENDING_CREATE -> ACTIVE with
# the noop drivers), so every run benchmarks the same code.
#
# Also prepares what the noop amphora path still reads from disk: a CA
# (certificate + key) for the local cert generator and a client cert/CA for
# [controller_worker] client_ca / [haproxy_amphora].
#
# Environment overrides:
#   OCTAVIA_VENV     venv directory   (default /work/bench-scratch/venv-octavia)
#   OCTAVIA_VERSION  octavia release  (default 19.0.0)
#   OCTAVIA_PYTHON   interpreter      (default python3.11)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${OCTAVIA_VENV:-/work/bench-scratch/venv-octavia}"
version="${OCTAVIA_VERSION:-19.0.0}"
python="${OCTAVIA_PYTHON:-python3.11}"
constraints="$here/octavia-constraints.txt"

want="octavia=$version uwsgi constraints=$(sha256sum "$constraints" | cut -d' ' -f1)"
stamp="$venv/.bench-stamp"

if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" && -x "$venv/bin/uwsgi" ]]; then
    echo "octavia_setup: $venv is up to date (octavia $version)"
else
    echo "octavia_setup: building $venv (octavia $version) ..."
    rm -f "$stamp"
    if [[ ! -x "$venv/bin/python" ]]; then
        "$python" -m venv "$venv"
    fi
    log="$venv/bench-setup.log"
    # uWSGI is built from source by pip: it needs a C compiler and the
    # interpreter's headers (pyenv and python3-dev both provide them).
    if ! { "$venv/bin/pip" install --upgrade pip &&
           "$venv/bin/pip" install -c "$constraints" "octavia==$version" uwsgi PyMySQL; } \
           > "$log" 2>&1; then
        tail -n 30 "$log" >&2
        echo "octavia_setup: pip install failed, full log in $log" >&2
        exit 1
    fi
    echo "$want" > "$stamp"
fi

ca_dir="$venv/bench-ca"
if [[ ! -s "$ca_dir/client.pem" ]]; then
    mkdir -p "$ca_dir"
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=octavia-bench-ca" \
        -keyout "$ca_dir/ca.key" -out "$ca_dir/ca.pem" 2>/dev/null
    cat "$ca_dir/ca.key" "$ca_dir/ca.pem" > "$ca_dir/client.pem"
    echo "octavia_setup: CA written to $ca_dir"
fi
