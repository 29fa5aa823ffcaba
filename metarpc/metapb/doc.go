// Package metapb holds the protocol of the fsmeta meta server: meta.proto
// and the Go code protoc generates from it. The generated files are
// committed; regenerate them with `go generate ./metarpc/metapb` after
// installing the pinned generators with scripts/gen-meta-proto.sh.
package metapb

//go:generate protoc --proto_path=. --go_out=. --go_opt=paths=source_relative --go-grpc_out=. --go-grpc_opt=paths=source_relative meta.proto
