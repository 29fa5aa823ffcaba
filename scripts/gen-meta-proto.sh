#!/bin/sh
# Installs the pinned protobuf generators and regenerates metarpc/metapb
# (the meta server's protocol). protoc comes from Debian (protobuf-compiler);
# the Go plugins from the module proxy at the versions matching go.mod.
set -eu
cd "$(dirname "$0")/.."

PROTOC_GEN_GO_VERSION=v1.36.12
PROTOC_GEN_GO_GRPC_VERSION=v1.6.2

if ! command -v protoc >/dev/null 2>&1; then
	apt-get update
	apt-get install -y --no-install-recommends protobuf-compiler
fi
go install "google.golang.org/protobuf/cmd/protoc-gen-go@${PROTOC_GEN_GO_VERSION}"
go install "google.golang.org/grpc/cmd/protoc-gen-go-grpc@${PROTOC_GEN_GO_GRPC_VERSION}"

PATH="$(go env GOPATH)/bin:$PATH"
export PATH
go generate ./metarpc/metapb
gofmt -l metarpc/metapb
