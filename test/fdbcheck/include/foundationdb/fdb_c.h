/*
 * TYPE-CHECKING AID -- NOT FoundationDB, NEVER LINKED.
 *
 * This is fsmeta's own declaration-only stand-in for <foundationdb/fdb_c.h>.
 * It declares the subset of the FoundationDB C API (API version 730) that the
 * official Go bindings (github.com/apple/foundationdb/bindings/go/src/fdb)
 * call, written from FoundationDB's public C API documentation, so that
 * `go vet -tags fdb` can run cgo over the bindings and type-check
 * engines/fdbkv on machines without the FoundationDB client package.
 *
 * It contains no definitions: there is no library behind it, nothing links
 * against it (test/fdbcheck/run.sh only vets), and a successful type check
 * says nothing about whether fsmeta works against FoundationDB. Real builds
 * (`go build -tags fdb`) must use the header and libfdb_c installed by the
 * FoundationDB client package, never this file.
 *
 * Enumerations are declared with only the members the type check needs
 * (the Go bindings pass option, mutation and mode codes as numbers); their
 * full lists live in FoundationDB's generated fdb_c_options.g.h.
 */
#ifndef FSMETA_FDBCHECK_FDB_C_H
#define FSMETA_FDBCHECK_FDB_C_H

#ifndef FDB_API_VERSION
#error "define FDB_API_VERSION before including <foundationdb/fdb_c.h>"
#endif
#if FDB_API_VERSION != 730
#error "this type-checking header declares API version 730 only"
#endif

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef int fdb_error_t;
typedef int fdb_bool_t;

/* Opaque handles. */
typedef struct FDB_future FDBFuture;
typedef struct FDB_database FDBDatabase;
typedef struct FDB_tenant FDBTenant;
typedef struct FDB_transaction FDBTransaction;

/* Results, packed to 4 bytes as in the C API (the Go bindings read them with
 * fixed offsets: 12-byte FDBKey, 24-byte FDBKeyValue). */
#pragma pack(push, 4)
typedef struct {
	const uint8_t* key;
	int key_length;
} FDBKey;

typedef struct {
	const uint8_t* key;
	int key_length;
	const uint8_t* value;
	int value_length;
} FDBKeyValue;
#pragma pack(pop)

typedef enum { FDBCHECK_NETWORK_OPTION = 0 } FDBNetworkOption;
typedef enum { FDBCHECK_DATABASE_OPTION = 0 } FDBDatabaseOption;
typedef enum { FDBCHECK_TRANSACTION_OPTION = 0 } FDBTransactionOption;
typedef enum { FDBCHECK_MUTATION_TYPE = 0 } FDBMutationType;
/* Streaming modes are signed in the C API (want_all = -2, iterator = -1). */
typedef enum { FDBCHECK_STREAMING_MODE_WANT_ALL = -2, FDBCHECK_STREAMING_MODE_ITERATOR = -1 } FDBStreamingMode;
typedef enum { FDBCHECK_CONFLICT_RANGE_TYPE_READ = 0, FDBCHECK_CONFLICT_RANGE_TYPE_WRITE = 1 } FDBConflictRangeType;

typedef void (*FDBCallback)(FDBFuture* future, void* callback_parameter);

/* API version, errors, network. */
fdb_error_t fdb_select_api_version_impl(int runtime_version, int header_version);
int fdb_get_max_api_version(void);
const char* fdb_get_error(fdb_error_t code);
fdb_error_t fdb_network_set_option(FDBNetworkOption option, const uint8_t* value, int value_length);
fdb_error_t fdb_setup_network(void);
fdb_error_t fdb_run_network(void);
fdb_error_t fdb_stop_network(void);

/* Futures. */
void fdb_future_cancel(FDBFuture* f);
void fdb_future_release_memory(FDBFuture* f);
void fdb_future_destroy(FDBFuture* f);
fdb_error_t fdb_future_block_until_ready(FDBFuture* f);
fdb_bool_t fdb_future_is_ready(FDBFuture* f);
fdb_error_t fdb_future_set_callback(FDBFuture* f, FDBCallback callback, void* callback_parameter);
fdb_error_t fdb_future_get_error(FDBFuture* f);
fdb_error_t fdb_future_get_int64(FDBFuture* f, int64_t* out);
fdb_error_t fdb_future_get_key(FDBFuture* f, const uint8_t** out_key, int* out_key_length);
fdb_error_t fdb_future_get_value(FDBFuture* f, fdb_bool_t* out_present, const uint8_t** out_value, int* out_value_length);
fdb_error_t fdb_future_get_keyvalue_array(FDBFuture* f, const FDBKeyValue** out_kv, int* out_count, fdb_bool_t* out_more);
fdb_error_t fdb_future_get_key_array(FDBFuture* f, const FDBKey** out_key_array, int* out_count);
fdb_error_t fdb_future_get_string_array(FDBFuture* f, const char*** out_strings, int* out_count);

/* Databases and tenants. */
fdb_error_t fdb_create_database(const char* cluster_file_path, FDBDatabase** out_database);
fdb_error_t fdb_create_database_from_connection_string(const char* connection_string, FDBDatabase** out_database);
void fdb_database_destroy(FDBDatabase* d);
fdb_error_t fdb_database_set_option(FDBDatabase* d, FDBDatabaseOption option, const uint8_t* value, int value_length);
fdb_error_t fdb_database_open_tenant(FDBDatabase* d, const uint8_t* tenant_name, int tenant_name_length, FDBTenant** out_tenant);
fdb_error_t fdb_database_create_transaction(FDBDatabase* d, FDBTransaction** out_transaction);
FDBFuture* fdb_database_reboot_worker(FDBDatabase* d, const uint8_t* address, int address_length, fdb_bool_t check, int duration);
FDBFuture* fdb_database_get_client_status(FDBDatabase* d);
fdb_error_t fdb_tenant_create_transaction(FDBTenant* tenant, FDBTransaction** out_transaction);
void fdb_tenant_destroy(FDBTenant* tenant);

/* Transactions. */
void fdb_transaction_destroy(FDBTransaction* tr);
void fdb_transaction_cancel(FDBTransaction* tr);
void fdb_transaction_reset(FDBTransaction* tr);
fdb_error_t fdb_transaction_set_option(FDBTransaction* tr, FDBTransactionOption option, const uint8_t* value, int value_length);
void fdb_transaction_set_read_version(FDBTransaction* tr, int64_t version);
FDBFuture* fdb_transaction_get_read_version(FDBTransaction* tr);
FDBFuture* fdb_transaction_get(FDBTransaction* tr, const uint8_t* key_name, int key_name_length, fdb_bool_t snapshot);
FDBFuture* fdb_transaction_get_key(FDBTransaction* tr, const uint8_t* key_name, int key_name_length, fdb_bool_t or_equal, int offset, fdb_bool_t snapshot);
FDBFuture* fdb_transaction_get_addresses_for_key(FDBTransaction* tr, const uint8_t* key_name, int key_name_length);
FDBFuture* fdb_transaction_get_range(FDBTransaction* tr,
                                     const uint8_t* begin_key_name, int begin_key_name_length, fdb_bool_t begin_or_equal, int begin_offset,
                                     const uint8_t* end_key_name, int end_key_name_length, fdb_bool_t end_or_equal, int end_offset,
                                     int limit, int target_bytes, FDBStreamingMode mode, int iteration,
                                     fdb_bool_t snapshot, fdb_bool_t reverse);
FDBFuture* fdb_transaction_get_estimated_range_size_bytes(FDBTransaction* tr, const uint8_t* begin_key_name, int begin_key_name_length,
                                                          const uint8_t* end_key_name, int end_key_name_length);
FDBFuture* fdb_transaction_get_range_split_points(FDBTransaction* tr, const uint8_t* begin_key_name, int begin_key_name_length,
                                                  const uint8_t* end_key_name, int end_key_name_length, int64_t chunk_size);
void fdb_transaction_set(FDBTransaction* tr, const uint8_t* key_name, int key_name_length, const uint8_t* value, int value_length);
void fdb_transaction_atomic_op(FDBTransaction* tr, const uint8_t* key_name, int key_name_length, const uint8_t* param, int param_length,
                               FDBMutationType operation_type);
void fdb_transaction_clear(FDBTransaction* tr, const uint8_t* key_name, int key_name_length);
void fdb_transaction_clear_range(FDBTransaction* tr, const uint8_t* begin_key_name, int begin_key_name_length,
                                 const uint8_t* end_key_name, int end_key_name_length);
FDBFuture* fdb_transaction_watch(FDBTransaction* tr, const uint8_t* key_name, int key_name_length);
FDBFuture* fdb_transaction_commit(FDBTransaction* tr);
fdb_error_t fdb_transaction_get_committed_version(FDBTransaction* tr, int64_t* out_version);
FDBFuture* fdb_transaction_get_approximate_size(FDBTransaction* tr);
FDBFuture* fdb_transaction_get_versionstamp(FDBTransaction* tr);
FDBFuture* fdb_transaction_on_error(FDBTransaction* tr, fdb_error_t error);
fdb_error_t fdb_transaction_add_conflict_range(FDBTransaction* tr, const uint8_t* begin_key_name, int begin_key_name_length,
                                               const uint8_t* end_key_name, int end_key_name_length, FDBConflictRangeType type);

#ifdef __cplusplus
}
#endif

#endif /* FSMETA_FDBCHECK_FDB_C_H */
