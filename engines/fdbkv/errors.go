package fdbkv

import (
	"fmt"

	"github.com/fsmeta/fsmeta/kv"
)

// FoundationDB error codes the mapping names (error_definitions.h).
const (
	codeOperationCancelled       = 1101 // operation_cancelled: a future was cancelled
	codeTransactionTooOld        = 1007 // transaction_too_old
	codeFutureVersion            = 1009 // future_version
	codeNotCommitted             = 1020 // not_committed: a read conflict
	codeCommitUnknownResult      = 1021 // commit_unknown_result
	codeTransactionCancelled     = 1025 // transaction_cancelled
	codeTransactionTimedOut      = 1031 // transaction_timed_out
	codeAccessedUnreadable       = 1036 // accessed_unreadable: a pending versionstamped write was read
	codeProcessBehind            = 1037 // process_behind
	codeDatabaseLocked           = 1038 // database_locked
	codeClusterVersionChanged    = 1039 // cluster_version_changed
	codeProxyMemoryLimitExceeded = 1042 // commit_proxy_memory_limit_exceeded (proxy_memory_limit_exceeded before 7.0)
	codeBatchTxnThrottled        = 1051 // batch_transaction_throttled
	codeGRVProxyMemoryLimit      = 1078 // grv_proxy_memory_limit_exceeded
	codeTagThrottled             = 1213 // tag_throttled
	codeProxyTagThrottled        = 1223 // proxy_tag_throttled
	codeTransactionTooLarge      = 2101 // transaction_too_large
	codeKeyTooLarge              = 2102 // key_too_large
	codeValueTooLarge            = 2103 // value_too_large
)

// MapCode maps a FoundationDB error code and its description (as
// fdb_get_error returns it) onto a kv error, so that errors.Is against the
// kv sentinels and kv.Retryable / kv.MaybeCommitted classify it:
//
//   - 1020 not_committed is kv.ErrConflict; 1007 transaction_too_old
//     kv.ErrTooOld; 1009 future_version kv.ErrFutureVersion; 1037
//     process_behind and 1038 database_locked kv.ErrUnavailable; 1042
//     commit_proxy_memory_limit_exceeded, 1051 batch_transaction_throttled,
//     1078 grv_proxy_memory_limit_exceeded, 1213 tag_throttled and 1223
//     proxy_tag_throttled kv.ErrThrottled. All are retryable and nothing was
//     committed, as in FoundationDB's retryable_not_committed predicate.
//   - 1021 commit_unknown_result and 1039 cluster_version_changed are
//     kv.ErrMaybeCommitted.
//   - 1031 transaction_timed_out is kv.ErrTimeout; 1025
//     transaction_cancelled and 1101 operation_cancelled kv.ErrCancelled.
//   - 2101, 2102 and 2103 are kv.ErrTxnTooLarge, kv.ErrKeyTooLarge and
//     kv.ErrValueTooLarge, with the limit in the text.
//   - Every other code is not retryable: client usage errors (2000-2999,
//     such as 2004 key_outside_legal_range) and 1036 accessed_unreadable are
//     kv.ErrInvalid, the rest kv.ErrInternal.
//
// The text of the result always carries the code and the description.
func MapCode(code int, msg string) error {
	return mapCode(code, fmt.Sprintf("FoundationDB error code %d (%s)", code, msg), nil)
}

// mapCode is MapCode with the native error as the cause instead of text
// (cause's own message then names the code), or with text and no cause.
func mapCode(code int, text string, cause error) *kv.Error {
	c, limit := classify(code)
	if limit != "" {
		if text != "" {
			text += ": "
		}
		text += limit
	}
	return &kv.Error{Code: c, Msg: text, Err: cause}
}

func classify(code int) (c kv.Code, limit string) {
	switch code {
	case codeNotCommitted:
		return kv.CodeConflict, ""
	case codeTransactionTooOld:
		return kv.CodeTooOld, ""
	case codeFutureVersion:
		return kv.CodeFutureVersion, ""
	case codeProcessBehind, codeDatabaseLocked:
		return kv.CodeUnavailable, ""
	case codeProxyMemoryLimitExceeded, codeBatchTxnThrottled, codeGRVProxyMemoryLimit, codeTagThrottled, codeProxyTagThrottled:
		return kv.CodeThrottled, ""
	case codeCommitUnknownResult, codeClusterVersionChanged:
		return kv.CodeMaybeCommitted, ""
	case codeTransactionTimedOut:
		return kv.CodeTimeout, ""
	case codeTransactionCancelled, codeOperationCancelled:
		return kv.CodeCancelled, ""
	case codeTransactionTooLarge:
		return kv.CodeTxnTooLarge, fmt.Sprintf("FoundationDB limits a transaction to %d bytes (mutations and conflict ranges)", kv.MaxTxnSize)
	case codeKeyTooLarge:
		return kv.CodeKeyTooLarge, fmt.Sprintf("FoundationDB limits keys to %d bytes", kv.MaxKeySize)
	case codeValueTooLarge:
		return kv.CodeValueTooLarge, fmt.Sprintf("FoundationDB limits values to %d bytes", kv.MaxValueSize)
	case codeAccessedUnreadable:
		return kv.CodeInvalid, ""
	}
	if code >= 2000 && code < 3000 {
		return kv.CodeInvalid, ""
	}
	return kv.CodeInternal, ""
}
