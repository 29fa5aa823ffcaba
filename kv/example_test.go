package kv_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/fsmeta/fsmeta/engines/memkv"
	"github.com/fsmeta/fsmeta/kv"
)

// Update runs a read-modify-write and retries it on conflicts; the closure
// touches nothing but the transaction.
func ExampleUpdate() {
	ctx := context.Background()
	db := memkv.New(memkv.Options{})
	defer db.Close()

	deposit := func(amount uint64) error {
		return kv.Update(ctx, db, func(ctx context.Context, tx kv.ReadWriteTxn) error {
			v, _, err := tx.Get(ctx, []byte("balance"))
			if err != nil {
				return err
			}
			var n uint64
			if len(v) == 8 {
				n = binary.BigEndian.Uint64(v)
			}
			tx.Set([]byte("balance"), binary.BigEndian.AppendUint64(nil, n+amount))
			return nil
		})
	}
	for _, a := range []uint64{10, 20, 12} {
		if err := deposit(a); err != nil {
			fmt.Println(err)
		}
	}
	err := kv.View(ctx, db, func(ctx context.Context, tx kv.ReadOnlyTxn) error {
		v, _, err := tx.Get(ctx, []byte("balance"))
		fmt.Println("balance:", binary.BigEndian.Uint64(v))
		return err
	})
	fmt.Println("error:", err)
	// Output:
	// balance: 42
	// error: <nil>
}

var errExists = errors.New("already exists")

// Transact returns a typed result from the attempt that committed; an
// error of the caller's own ends the loop unchanged.
func ExampleTransact() {
	ctx := context.Background()
	db := memkv.New(memkv.Options{})
	defer db.Close()

	create := func(name string) (int64, error) {
		return kv.Transact(ctx, db, func(ctx context.Context, tx kv.ReadWriteTxn) (int64, error) {
			key := []byte("name/" + name)
			if _, found, err := tx.Get(ctx, key); err != nil || found {
				if found {
					err = fmt.Errorf("create %s: %w", name, errExists)
				}
				return 0, err
			}
			// A counter bumped with an atomic add, which never conflicts.
			tx.Atomic(kv.AtomicAdd, []byte("count"), binary.LittleEndian.AppendUint64(nil, 1))
			tx.Set(key, []byte{})
			r, err := tx.GetRange(ctx, kv.FirstGreaterOrEqual([]byte("name/")), kv.FirstGreaterOrEqual([]byte("name0")), 0)
			return int64(len(r.KVs)), err
		})
	}
	for _, name := range []string{"a", "b", "a"} {
		n, err := create(name)
		fmt.Println(n, err, errors.Is(err, errExists))
	}
	// Output:
	// 1 <nil> false
	// 2 <nil> false
	// 0 create a: already exists true
}
