/* recprune plugin ABI, version 1.0.
 *
 * The only boundary between the host and a plugin. Everything here is plain C99: fixed-width
 * integers, UTF-8 `const char*` strings, opaque handles and function pointers, so a plugin built
 * with another compiler or standard library still loads.
 *
 * Compatibility rules (docs/abi.md has the full list):
 * - the host accepts a plugin whose major equals RECPRUNE_ABI_MAJOR and whose minor is at most
 *   RECPRUNE_ABI_MINOR;
 * - every struct starts with `struct_size`, and a reader touches only the fields that fit inside
 *   the size the writer declared, so structs grow by appending fields at the end;
 * - nothing is reordered or removed within a major version, and every enum ends with a
 *   `..._MAX = 0x7fff` value that pins its size to 32 bits.
 *
 * Ownership: memory is freed by the side that allocated it. Strings and arrays passed into a
 * function are borrowed for that call only unless the function says otherwise. Pointers that a
 * plugin returns stay valid as long as the documentation of that function says, never longer
 * than the handle they came from.
 *
 * Errors: every function that can fail returns a recprune_status_t and, on failure, should call
 * `error->set(error->host_data, message)` once with a one-line message in the shape
 * "<what failed>: <where>: <why, with the values>; <what to do>". A failure without a message is
 * reported by the host as such. No C++ exception may cross this boundary.
 */
#ifndef RECPRUNE_ABI_H
#define RECPRUNE_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RECPRUNE_ABI_MAJOR 1
#define RECPRUNE_ABI_MINOR 0

/** Name of the one symbol every plugin exports; its type is recprune_entry_fn. */
#define RECPRUNE_ENTRY_SYMBOL "recprune_plugin_entry"

#if defined(_WIN32)
#define RECPRUNE_EXPORT __declspec(dllexport)
#else
#define RECPRUNE_EXPORT __attribute__((visibility("default")))
#endif

/* ---------------------------------------------------------------------------------------------
 * Common types
 * ------------------------------------------------------------------------------------------- */

/** Result of every fallible ABI call. */
typedef enum recprune_status_t {
    RECPRUNE_STATUS_OK = 0,
    /** A parameter or argument is invalid (bad value, wrong shape). */
    RECPRUNE_STATUS_INVALID_ARGUMENT = 1,
    /** Input data is malformed or unreadable. */
    RECPRUNE_STATUS_DATA_ERROR = 2,
    /** The operation is not implemented by this plugin. */
    RECPRUNE_STATUS_NOT_SUPPORTED = 3,
    /** An allocation failed. */
    RECPRUNE_STATUS_OUT_OF_MEMORY = 4,
    /** A value became NaN or infinite. */
    RECPRUNE_STATUS_NUMERICAL_ERROR = 5,
    /** Any other failure. */
    RECPRUNE_STATUS_RUNTIME_ERROR = 6,
    RECPRUNE_STATUS_MAX = 0x7fff
} recprune_status_t;

/** What a plugin provides. */
typedef enum recprune_kind_t {
    RECPRUNE_KIND_DATASET = 1,
    RECPRUNE_KIND_MODEL = 2,
    RECPRUNE_KIND_PRUNER = 3,
    RECPRUNE_KIND_MAX = 0x7fff
} recprune_kind_t;

/** Log severity, lowest first. */
typedef enum recprune_log_level_t {
    RECPRUNE_LOG_LEVEL_TRACE = 0,
    RECPRUNE_LOG_LEVEL_DEBUG = 1,
    RECPRUNE_LOG_LEVEL_INFO = 2,
    RECPRUNE_LOG_LEVEL_WARN = 3,
    RECPRUNE_LOG_LEVEL_ERROR = 4,
    RECPRUNE_LOG_LEVEL_MAX = 0x7fff
} recprune_log_level_t;

/** Error sink passed to every fallible call. Owned by the host, valid for the call only. */
typedef struct recprune_error_s {
    void* host_data;
    /** Records `message` (borrowed, copied by the host). Calling it again replaces the message. */
    void (*set)(void* host_data, const char* message);
} recprune_error_t;

/** Services the host offers every plugin. Owned by the host; valid until the plugin's last
 * handle is destroyed. All functions may be called from any thread. */
typedef struct recprune_host_s {
    uint32_t struct_size;
    uint16_t abi_major;
    uint16_t abi_minor;
    void* host_data;
    /** Writes one log line under the component "plugin:<name>". `message` is borrowed. */
    void (*log)(void* host_data, recprune_log_level_t level, const char* message);
    /** Returns nonzero when `level` would be written, so a plugin can skip building a message. */
    int32_t (*log_enabled)(void* host_data, recprune_log_level_t level);
    /** Allocates `size` bytes aligned to `alignment` (a power of two); NULL on failure. */
    void* (*allocate)(void* host_data, size_t size, size_t alignment);
    /** Frees memory from `allocate`; NULL is ignored. */
    void (*deallocate)(void* host_data, void* pointer);
} recprune_host_t;

/* ---------------------------------------------------------------------------------------------
 * Datasets: a plugin parses files into raw columns; the host splits, builds vocabularies on the
 * training part, buckets numeric columns, caches and batches. So a dataset plugin only has to
 * read its format faithfully.
 * ------------------------------------------------------------------------------------------- */

typedef struct recprune_dataset_s* recprune_dataset_t;

typedef enum recprune_column_type_t {
    /** One raw key per row. */
    RECPRUNE_COLUMN_TYPE_CATEGORICAL = 1,
    /** Zero or more raw keys per row, in CSR form (`offsets` + `keys`). */
    RECPRUNE_COLUMN_TYPE_MULTI_HOT = 2,
    /** One double per row; NaN marks a missing value. */
    RECPRUNE_COLUMN_TYPE_NUMERIC = 3,
    RECPRUNE_COLUMN_TYPE_MAX = 0x7fff
} recprune_column_type_t;

/** Bit flags saying what a column is used for; a column may carry several. */
typedef enum recprune_column_role_t {
    /** An input feature of the model (a field). */
    RECPRUNE_COLUMN_ROLE_FEATURE = 1,
    /** The raw target (a rating, a click); numeric. */
    RECPRUNE_COLUMN_ROLE_LABEL = 2,
    /** The user id, for per-user splits, GAUC and top-K protocols. */
    RECPRUNE_COLUMN_ROLE_USER = 4,
    /** The item id, for top-K protocols. */
    RECPRUNE_COLUMN_ROLE_ITEM = 8,
    /** Event time in seconds; numeric; for time splits. */
    RECPRUNE_COLUMN_ROLE_TIMESTAMP = 16,
    RECPRUNE_COLUMN_ROLE_MAX = 0x7fff
} recprune_column_role_t;

/** Raw key that stands for an empty or missing categorical value. The host gives it a
 * vocabulary entry of its own ("missing") instead of dropping the row. */
#define RECPRUNE_MISSING_KEY UINT64_MAX

/** One raw column. Arrays are owned by the dataset handle and stay valid until it is destroyed. */
typedef struct recprune_column_s {
    uint32_t struct_size;
    /** recprune_column_type_t */
    uint32_t type;
    /** OR of recprune_column_role_t flags. */
    uint32_t roles;
    uint32_t reserved;
    /** Field name, unique within the table. */
    const char* name;
    /** NUMERIC: one value per row. */
    const double* numeric;
    /** CATEGORICAL: one key per row; MULTI_HOT: `value_count` keys. Keys are raw (an id as
     * parsed, or a 64-bit hash of the token); the host maps them to vocabulary indices. */
    const uint64_t* keys;
    /** MULTI_HOT: `row_count + 1` offsets into `keys`; NULL otherwise. */
    const uint64_t* offsets;
    /** MULTI_HOT: number of keys in total. */
    uint64_t value_count;
} recprune_column_t;

/** A parsed dataset. Owned by the dataset handle. */
typedef struct recprune_table_s {
    uint32_t struct_size;
    uint32_t column_count;
    uint64_t row_count;
    const recprune_column_t* columns;
    /** JSON object with facts about the data: at least {"task_hint": "...",
     * "positive_threshold": x} when the label is a rating, "skipped_lines": n when bad lines
     * were skipped, and for synthetic data "truth": {...}. */
    const char* metadata_json;
} recprune_table_t;

typedef struct recprune_dataset_api_s {
    uint32_t struct_size;
    /** Creates a dataset from its parameters (a JSON object already checked against the
     * schema, defaults filled in). Does not read data yet. `host` outlives the handle. */
    recprune_status_t (*create)(const recprune_host_t* host, const char* params_json,
                                recprune_dataset_t* out, recprune_error_t* error);
    /** Destroys the handle and every array it returned. NULL is ignored. */
    void (*destroy)(recprune_dataset_t dataset);
    /** Returns a JSON array of the absolute paths this dataset will read, for the content
     * fingerprint and the cache key. The string is owned by the handle. Synthetic data returns
     * "[]". Must not read the files. */
    recprune_status_t (*list_sources)(recprune_dataset_t dataset, const char** paths_json,
                                      recprune_error_t* error);
    /** Parses the sources and fills `table`. Data errors name file:line and the field. */
    recprune_status_t (*load)(recprune_dataset_t dataset, recprune_table_t* table,
                              recprune_error_t* error);
} recprune_dataset_api_t;

/* ---------------------------------------------------------------------------------------------
 * Models: the host owns the training loop, the loss, the optimizer and the masks; a model runs
 * forward and backward passes on batches and exposes its parameters as tensors.
 * ------------------------------------------------------------------------------------------- */

typedef struct recprune_model_s* recprune_model_t;

typedef enum recprune_tensor_role_t {
    /** An embedding table: rows are feature values of one field, columns are dimensions. */
    RECPRUNE_TENSOR_ROLE_EMBEDDING = 1,
    /** A dense weight matrix, stored row-major as [outputs, inputs]. */
    RECPRUNE_TENSOR_ROLE_DENSE_WEIGHT = 2,
    RECPRUNE_TENSOR_ROLE_BIAS = 3,
    /** Any other trained state (not pruned). */
    RECPRUNE_TENSOR_ROLE_OTHER = 4,
    RECPRUNE_TENSOR_ROLE_MAX = 0x7fff
} recprune_tensor_role_t;

#define RECPRUNE_NO_FIELD UINT32_MAX

/** A parameter tensor, f32, row-major. `data` and `grad` are owned by the model and stay at
 * the same address for the model's life, so the host may keep the pointers. */
typedef struct recprune_tensor_s {
    uint32_t struct_size;
    /** recprune_tensor_role_t */
    uint32_t role;
    /** Unique name, such as "embedding.user" or "mlp.0.weight". */
    const char* name;
    uint32_t rank;
    /** For EMBEDDING tensors, the field index in the batch; RECPRUNE_NO_FIELD otherwise. */
    uint32_t field;
    uint64_t shape[4];
    uint64_t element_count;
    float* data;
    /** Gradient of the batch loss, written by `backward`. For EMBEDDING tensors only the rows
     * listed by `touched_rows` are valid after a backward pass (sparse update). */
    float* grad;
} recprune_tensor_t;

/** A batch of rows, every field already mapped to vocabulary indices. Owned by the host,
 * valid for the call only. */
typedef struct recprune_batch_s {
    uint32_t struct_size;
    uint32_t field_count;
    uint64_t row_count;
    /** Per field: vocabulary indices; one per row, or `offsets[field][row_count]` in all for a
     * multi-hot field. Index 0 is the out-of-vocabulary row. */
    const uint32_t* const* ids;
    /** Per field: NULL for single-valued fields, else `row_count + 1` offsets into `ids`. */
    const uint64_t* const* offsets;
    /** Row-major [row_count, dense_count] numeric inputs, or NULL when dense_count is 0. */
    const float* dense;
    uint32_t dense_count;
    uint32_t reserved;
    /** Targets (0/1 for CTR and top-K, the rating for regression); NULL at inference. */
    const float* labels;
} recprune_batch_t;

/** Size and cost of a model. */
typedef struct recprune_model_cost_s {
    uint32_t struct_size;
    uint32_t reserved;
    /** Parameters in all tensors, zero or not. */
    uint64_t parameter_count;
    /** Parameters that are not zero. */
    uint64_t nonzero_parameter_count;
    /** Multiply-adds x 2 for one sample with every weight present. */
    double flops_per_sample_dense;
    /** The same after masks: only work whose operands can be nonzero, so nonzero weights on
     *  live inputs and the units still live (for the built-in models, docs/models.md "Cost"). */
    double flops_per_sample_nonzero;
} recprune_model_cost_t;

typedef struct recprune_model_api_s {
    uint32_t struct_size;
    /** Creates a model. `schema_json` describes the data: {"task": "ctr"|"rating"|"topk",
     * "fields": [{"name", "vocabulary_size", "multi_hot", "roles": [...]}], "dense_count": n}.
     * The random initialisation derives from `seed` only. */
    recprune_status_t (*create)(const recprune_host_t* host, const char* params_json,
                                const char* schema_json, uint64_t seed, recprune_model_t* out,
                                recprune_error_t* error);
    void (*destroy)(recprune_model_t model);
    /** Returns the tensors; the array is owned by the model and fixed for its life. */
    recprune_status_t (*get_tensors)(recprune_model_t model, const recprune_tensor_t** tensors,
                                     uint32_t* count, recprune_error_t* error);
    /** Returns the structured groups as JSON (owned by the model): which tensor slices each
     * field, embedding dimension and hidden neuron couples. docs/abi.md gives the format. */
    recprune_status_t (*get_structure)(recprune_model_t model, const char** structure_json,
                                       recprune_error_t* error);
    /** Computes one logit per row into `logits` (host-owned, `row_count` floats). With
     * `training` nonzero, keeps what backward needs and applies dropout. */
    recprune_status_t (*forward)(recprune_model_t model, const recprune_batch_t* batch,
                                 int32_t training, float* logits, recprune_error_t* error);
    /** Back-propagates d(loss)/d(logit) for the batch of the last training forward call and
     * overwrites every `grad` (embedding grads on touched rows only). */
    recprune_status_t (*backward)(recprune_model_t model, const recprune_batch_t* batch,
                                  const float* logit_grads, recprune_error_t* error);
    /** Lists the rows of embedding tensor `tensor_index` whose grad the last backward wrote;
     * the array is owned by the model and valid until the next backward. */
    recprune_status_t (*touched_rows)(recprune_model_t model, uint32_t tensor_index,
                                      const uint32_t** rows, uint64_t* count,
                                      recprune_error_t* error);
    recprune_status_t (*cost)(recprune_model_t model, recprune_model_cost_t* cost,
                              recprune_error_t* error);
    /** Builds a physically smaller model from a compaction plan (JSON: removed fields, kept
     * embedding dimensions, kept neurons per layer, row remap per field). Optional: NULL when
     * the model cannot compact. The new model is independent of the old one. */
    recprune_status_t (*compact)(recprune_model_t model, const char* plan_json,
                                 recprune_model_t* out, recprune_error_t* error);
    /** Writes the architecture and weights to `path`. Optional. */
    recprune_status_t (*save)(recprune_model_t model, const char* path, recprune_error_t* error);
    /** Reads a model written by `save`. Optional. */
    recprune_status_t (*load)(const recprune_host_t* host, const char* path,
                              recprune_model_t* out, recprune_error_t* error);
} recprune_model_api_t;

/* ---------------------------------------------------------------------------------------------
 * Pruners: a pruner scores units at a granularity it declares; the host selects the units to
 * remove for the target, applies masks and keeps them through training.
 * ------------------------------------------------------------------------------------------- */

typedef struct recprune_pruner_s* recprune_pruner_t;

typedef enum recprune_granularity_t {
    /** Single weights of EMBEDDING and DENSE_WEIGHT tensors (unstructured). */
    RECPRUNE_GRANULARITY_WEIGHT = 1,
    /** Hidden neurons of dense layers, with every slice they couple. */
    RECPRUNE_GRANULARITY_NEURON = 2,
    /** Embedding rows (feature values); a removed row falls back to the field's
     * out-of-vocabulary row. */
    RECPRUNE_GRANULARITY_EMBEDDING_ROW = 3,
    /** Embedding dimensions, shared by all fields. */
    RECPRUNE_GRANULARITY_EMBEDDING_DIM = 4,
    /** Input fields (whole features). */
    RECPRUNE_GRANULARITY_FIELD = 5,
    RECPRUNE_GRANULARITY_MAX = 0x7fff
} recprune_granularity_t;

/** Read-only view of the training data as the model sees it. Owned by the host, valid for the
 * duration of the `score` call. */
typedef struct recprune_data_view_s {
    uint32_t struct_size;
    uint32_t field_count;
    uint64_t row_count;
    const uint32_t* const* ids;
    const uint64_t* const* offsets;
    /** Per field: number of vocabulary rows (including the out-of-vocabulary row 0). */
    const uint32_t* vocabulary_sizes;
    const char* const* field_names;
    const float* labels;
} recprune_data_view_t;

/** Called once per calibration batch after its backward pass; tensors' `grad` are valid. */
typedef void (*recprune_gradient_visitor_fn)(void* user_data, const recprune_tensor_t* tensors,
                                             uint32_t tensor_count, const recprune_batch_t* batch);

/** What the host tells a pruner when it asks for scores. Owned by the host, valid for the
 * call. The service functions may be called only during that call, from the calling thread. */
typedef struct recprune_prune_context_s {
    uint32_t struct_size;
    /** recprune_granularity_t of the scores requested. */
    uint32_t granularity;
    uint64_t seed;
    /** Number of scores to write: one per unit, in the order `units_json` describes. */
    uint64_t unit_count;
    /** JSON describing the units in score order, e.g. for WEIGHT the prunable tensors with
     * their offsets in the score array. docs/abi.md gives the format per granularity. */
    const char* units_json;
    const recprune_tensor_t* tensors;
    uint32_t tensor_count;
    uint32_t reserved;
    /** Per tensor: 1 where the weight is kept, 0 where pruned; NULL for unpruned tensors. */
    const uint8_t* const* masks;
    /** The model's structure JSON (see recprune_model_api_t.get_structure). */
    const char* structure_json;
    const recprune_data_view_t* train_data;
    void* host_data;
    /** Runs forward and backward on `batch_count` training batches and calls `visitor` after
     * each; the model's grads are left as the last batch made them. */
    recprune_status_t (*gradient_pass)(void* host_data, uint32_t batch_count,
                                       recprune_gradient_visitor_fn visitor, void* user_data,
                                       recprune_error_t* error);
    /** Evaluates the validation metric with the ids of `field` shuffled across rows (a
     * permutation drawn from `permutation_seed`); `field` = RECPRUNE_NO_FIELD evaluates as is.
     * Higher `*value` is better (the host negates loss-like metrics). */
    recprune_status_t (*evaluate_permuted)(void* host_data, uint32_t field,
                                           uint64_t permutation_seed, double* value,
                                           recprune_error_t* error);
    /** Computes each field's pooled embedding output for training rows [first_row,
     * first_row + row_count): `out` is [field_count, row_count, width] where width is the
     * widest embedding; fields with no embedding tensor are left zero. Host-owned `out`. */
    recprune_status_t (*field_embeddings)(void* host_data, uint64_t first_row,
                                          uint64_t row_count, float* out, uint32_t* width,
                                          recprune_error_t* error);
} recprune_prune_context_t;

/** What a pruner declares after creation. */
typedef struct recprune_pruner_info_s {
    uint32_t struct_size;
    /** recprune_granularity_t it scores. */
    uint32_t granularity;
    /** Nonzero to select per tensor (each prunable tensor reaches the target), zero for one
     * global ranking. Only meaningful for WEIGHT. */
    uint32_t per_tensor;
    /** Nonzero when `regularize` should be called after every training backward pass. */
    uint32_t has_regularizer;
} recprune_pruner_info_t;

typedef struct recprune_pruner_api_s {
    uint32_t struct_size;
    recprune_status_t (*create)(const recprune_host_t* host, const char* params_json,
                                uint64_t seed, recprune_pruner_t* out, recprune_error_t* error);
    void (*destroy)(recprune_pruner_t pruner);
    recprune_status_t (*get_info)(recprune_pruner_t pruner, recprune_pruner_info_t* info,
                                  recprune_error_t* error);
    /** Writes `context->unit_count` scores into `scores` (host-owned). Lower scores are pruned
     * first; units already pruned may get any score, the host keeps them pruned. */
    recprune_status_t (*score)(recprune_pruner_t pruner, const recprune_prune_context_t* context,
                               double* scores, recprune_error_t* error);
    /** Adds the gradient of a penalty (L1, group lasso) to the model's grads. Optional. */
    recprune_status_t (*regularize)(recprune_pruner_t pruner, const recprune_tensor_t* tensors,
                                    uint32_t tensor_count, const char* structure_json,
                                    recprune_error_t* error);
} recprune_pruner_api_t;

/* ---------------------------------------------------------------------------------------------
 * The plugin descriptor and the entry symbol
 * ------------------------------------------------------------------------------------------- */

/** Describes a plugin. Returned by the entry symbol; static storage in the plugin. */
typedef struct recprune_plugin_descriptor_s {
    uint32_t struct_size;
    uint16_t abi_major;
    uint16_t abi_minor;
    /** recprune_kind_t */
    uint32_t kind;
    uint32_t reserved;
    /** Lower-case name used in grids, unique among loaded plugins of all kinds. */
    const char* name;
    /** Semantic version of the plugin itself, such as "1.2.0". */
    const char* version;
    /** One line saying what the plugin does. */
    const char* description;
    /** JSON object: {"parameters": {NAME: {"type": "integer"|"number"|"string"|"boolean"|
     * "array"|"object", "default": v, "minimum": x, "maximum": x, "enum": [...],
     * "items": {"type": ...}, "help": "..."}}}. */
    const char* parameter_schema_json;
    /** Exactly one of these is non-NULL, matching `kind`. */
    const recprune_dataset_api_t* dataset;
    const recprune_model_api_t* model;
    const recprune_pruner_api_t* pruner;
} recprune_plugin_descriptor_t;

/** Type of the entry symbol. Takes the host's ABI version so a plugin may adapt; returns a
 * descriptor in static storage, or NULL when the plugin cannot serve this host. */
typedef const recprune_plugin_descriptor_t* (*recprune_entry_fn)(uint16_t host_abi_major,
                                                                 uint16_t host_abi_minor);

#ifdef __cplusplus
}
#endif

#endif /* RECPRUNE_ABI_H */
