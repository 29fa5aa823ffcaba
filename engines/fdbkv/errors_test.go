package fdbkv

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/fsmeta/fsmeta/engines/memkv"
	"github.com/fsmeta/fsmeta/kv"
	"github.com/stretchr/testify/require"
)

func TestMapCode_Table(t *testing.T) {
	for _, tc := range []struct {
		code      int
		name      string
		want      error
		retryable bool
		maybe     bool
		text      string // more text the message must carry
	}{
		{1020, "not_committed", kv.ErrConflict, true, false, ""},
		{1007, "transaction_too_old", kv.ErrTooOld, true, false, ""},
		{1009, "future_version", kv.ErrFutureVersion, true, false, ""},
		{1037, "process_behind", kv.ErrUnavailable, true, false, ""},
		{1038, "database_locked", kv.ErrUnavailable, true, false, ""},
		{1042, "commit_proxy_memory_limit_exceeded", kv.ErrThrottled, true, false, ""},
		{1051, "batch_transaction_throttled", kv.ErrThrottled, true, false, ""},
		{1078, "grv_proxy_memory_limit_exceeded", kv.ErrThrottled, true, false, ""},
		{1213, "tag_throttled", kv.ErrThrottled, true, false, ""},
		{1223, "proxy_tag_throttled", kv.ErrThrottled, true, false, ""},
		{1021, "commit_unknown_result", kv.ErrMaybeCommitted, true, true, ""},
		{1039, "cluster_version_changed", kv.ErrMaybeCommitted, true, true, ""},
		{1031, "transaction_timed_out", kv.ErrTimeout, false, false, ""},
		{1025, "transaction_cancelled", kv.ErrCancelled, false, false, ""},
		{1101, "operation_cancelled", kv.ErrCancelled, false, false, ""},
		{2101, "transaction_too_large", kv.ErrTxnTooLarge, false, false, fmt.Sprint(kv.MaxTxnSize)},
		{2102, "key_too_large", kv.ErrKeyTooLarge, false, false, fmt.Sprint(kv.MaxKeySize)},
		{2103, "value_too_large", kv.ErrValueTooLarge, false, false, fmt.Sprint(kv.MaxValueSize)},
		{2004, "key_outside_legal_range", kv.ErrInvalid, false, false, ""},
		{2000, "client_invalid_operation", kv.ErrInvalid, false, false, ""},
		{2017, "used_during_commit", kv.ErrInvalid, false, false, ""},
		{1036, "accessed_unreadable", kv.ErrInvalid, false, false, ""},
		{1515, "no_cluster_file_found", kv.ErrInternal, false, false, ""},
		{1100, "broken_promise", kv.ErrInternal, false, false, ""},
		{4100, "internal_error", kv.ErrInternal, false, false, ""},
	} {
		t.Run(fmt.Sprintf("%d_%s", tc.code, tc.name), func(t *testing.T) {
			err := MapCode(tc.code, tc.name)
			require.Error(t, err)
			require.True(t, errors.Is(err, tc.want), "got %v, want %v", err, tc.want)
			require.Equal(t, tc.retryable, kv.Retryable(err), "Retryable(%v)", err)
			require.Equal(t, tc.maybe, kv.MaybeCommitted(err), "MaybeCommitted(%v)", err)
			for _, part := range []string{fmt.Sprint(tc.code), tc.name, tc.text} {
				require.True(t, strings.Contains(err.Error(), part), "error %q does not mention %q", err, part)
			}
		})
	}
}

// The mapping with the bindings' error as the cause keeps it reachable.
func TestMapCode_CauseIsKept(t *testing.T) {
	cause := errors.New("FoundationDB error code 1020 (not committed)")
	err := mapCode(1020, "", cause)
	require.ErrorIs(t, err, kv.ErrConflict)
	require.ErrorIs(t, err, cause)
	require.Equal(t, "kv: conflict: "+cause.Error(), err.Error())
}

// Through kv.Update, mapped errors are retried or not exactly as the same
// classes of error from any engine: conflicts are, limit errors are not,
// unknown results only for idempotent closures.
func TestMapCode_ThroughRetryLoop(t *testing.T) {
	db := memkv.New(memkv.Options{})
	t.Cleanup(func() { _ = db.Close() })
	fast := kv.WithRetryOptions(kv.RetryOptions{MaxRetries: 5, InitialBackoff: time.Microsecond, MaxBackoff: time.Microsecond})
	for _, tc := range []struct {
		code       int
		idempotent bool
		wantCalls  int
	}{
		{1020, false, 2}, {1007, false, 2}, {1213, false, 2}, {1038, false, 2},
		{1021, false, 1}, {1021, true, 2},
		{1031, false, 1}, {2102, false, 1}, {2004, false, 1}, {4100, false, 1},
	} {
		calls := 0
		opts := []kv.Option{fast}
		if tc.idempotent {
			opts = append(opts, kv.Idempotent())
		}
		err := kv.Update(context.Background(), db, func(context.Context, kv.ReadWriteTxn) error {
			calls++
			if calls == 1 {
				return MapCode(tc.code, "injected")
			}
			return nil
		}, opts...)
		require.Equal(t, tc.wantCalls, calls, "code %d idempotent=%v", tc.code, tc.idempotent)
		if tc.wantCalls == 1 {
			require.Error(t, err, "code %d", tc.code)
		} else {
			require.NoError(t, err, "code %d", tc.code)
		}
	}
}
