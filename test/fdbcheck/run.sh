#!/usr/bin/env bash
# Type-checks the FoundationDB engine (build tag fdb) on machines without
# FoundationDB: cgo compiles the bindings' C preambles against the
# declaration-only header in include/ (a type-checking aid, not FoundationDB)
# and go vet type-checks engines/fdbkv and engines/hybrid with the tag.
# Nothing is linked or run: a pass says the Go code compiles against the
# C API the bindings use, nothing about behaviour against a cluster.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/../.."
# -Werror=implicit-function-declaration: a C function the preambles call but
# the header does not declare fails the check instead of warning.
CGO_ENABLED=1 \
CGO_CFLAGS="-I$here/include -Werror=implicit-function-declaration" \
  go vet -tags fdb ./engines/fdbkv/... ./engines/hybrid/...
echo "fdbcheck: engines/fdbkv and engines/hybrid type-check with -tags fdb (declaration-only header, nothing linked)"
