// Package kvpb holds the protocol of the fsmeta KV server: kv.proto and the
// Go code protoc generates from it. The generated files are committed;
// regenerate them with `go generate ./engines/customkv/kvpb` after
// installing the pinned generators with scripts/gen-proto.sh.
package kvpb

//go:generate protoc --proto_path=. --go_out=. --go_opt=paths=source_relative --go-grpc_out=. --go-grpc_opt=paths=source_relative kv.proto
