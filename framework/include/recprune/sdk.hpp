// Header-only C++ SDK over the recprune C ABI.
//
// A plugin author subclasses recprune::Dataset, recprune::Model or recprune::Pruner and writes
// one RECPRUNE_REGISTER_PLUGIN line; this header writes the entry symbol, the descriptor and the
// C function table, and turns exceptions into status + message at the boundary.
#pragma once

#include "recprune/abi.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <concepts>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace recprune {

using json = nlohmann::json;

/// Exception a plugin throws to fail a call with a given status. Its message should follow the
/// shape "<what failed>: <where>: <why>; <what to do>".
class Error : public std::runtime_error {
public:
    Error(recprune_status_t status, const std::string& message)
        : std::runtime_error(message), status_(status) {}
    recprune_status_t status() const noexcept { return status_; }

private:
    recprune_status_t status_;
};

/// A bad parameter or argument.
struct InvalidArgument : Error {
    explicit InvalidArgument(const std::string& message)
        : Error(RECPRUNE_STATUS_INVALID_ARGUMENT, message) {}
};

/// Malformed or unreadable input data; the message names file:line and the field.
struct InvalidData : Error {
    explicit InvalidData(const std::string& message) : Error(RECPRUNE_STATUS_DATA_ERROR, message) {}
};

/// An optional operation this plugin does not implement.
struct NotSupported : Error {
    explicit NotSupported(const std::string& message)
        : Error(RECPRUNE_STATUS_NOT_SUPPORTED, message) {}
};

/// A NaN or infinite value.
struct NumericalError : Error {
    explicit NumericalError(const std::string& message)
        : Error(RECPRUNE_STATUS_NUMERICAL_ERROR, message) {}
};

/// The host's services as seen from a plugin. Cheap to copy; valid while the plugin's handles live.
class Host {
public:
    Host() = default;
    explicit Host(const recprune_host_t* host) : host_(host) {}

    bool log_enabled(recprune_log_level_t level) const {
        return host_ != nullptr && host_->log_enabled(host_->host_data, level) != 0;
    }
    void log(recprune_log_level_t level, const std::string& message) const {
        if (log_enabled(level)) host_->log(host_->host_data, level, message.c_str());
    }
    void debug(const std::string& message) const { log(RECPRUNE_LOG_LEVEL_DEBUG, message); }
    void info(const std::string& message) const { log(RECPRUNE_LOG_LEVEL_INFO, message); }
    void warn(const std::string& message) const { log(RECPRUNE_LOG_LEVEL_WARN, message); }
    const recprune_host_t* raw() const { return host_; }

private:
    const recprune_host_t* host_ = nullptr;
};

// ---------------------------------------------------------------------------------------------
// Datasets
// ---------------------------------------------------------------------------------------------

/// One raw column owned by the SDK; the C view points into these vectors.
struct Column {
    std::string name;
    recprune_column_type_t type = RECPRUNE_COLUMN_TYPE_CATEGORICAL;
    uint32_t roles = RECPRUNE_COLUMN_ROLE_FEATURE;
    std::vector<double> numeric;      ///< NUMERIC values, NaN for missing
    std::vector<uint64_t> keys;       ///< CATEGORICAL or MULTI_HOT raw keys
    std::vector<uint64_t> offsets;    ///< MULTI_HOT: row_count + 1 offsets into keys
};

/// A parsed dataset: columns of equal row count plus metadata.
struct Table {
    uint64_t row_count = 0;
    std::vector<Column> columns;
    json metadata = json::object();
};

/// Base class of dataset plugins. The constructor takes (const Host&, const json& params) and
/// must not read data; load() does.
class Dataset {
public:
    virtual ~Dataset() = default;
    /// Returns the absolute paths load() reads (for the fingerprint); empty for generated data.
    virtual std::vector<std::string> sources() const = 0;
    /// Parses the sources. Throws InvalidData naming file:line and field on bad input.
    virtual Table load() = 0;
};

// ---------------------------------------------------------------------------------------------
// Models
// ---------------------------------------------------------------------------------------------

/// A parameter tensor with its gradient, owned by a Model. Storage never moves after creation.
class Tensor {
public:
    Tensor(std::string name, recprune_tensor_role_t role, std::vector<uint64_t> shape,
           uint32_t field = RECPRUNE_NO_FIELD)
        : name_(std::move(name)), role_(role), shape_(std::move(shape)), field_(field) {
        if (shape_.empty() || shape_.size() > 4) {
            throw InvalidArgument("invalid tensor: " + name_ + ": rank must be 1 to 4");
        }
        uint64_t count = 1;
        for (uint64_t extent : shape_) count *= extent;
        data_.assign(count, 0.0f);
        grad_.assign(count, 0.0f);
    }

    const std::string& name() const { return name_; }
    recprune_tensor_role_t role() const { return role_; }
    const std::vector<uint64_t>& shape() const { return shape_; }
    uint32_t field() const { return field_; }
    uint64_t size() const { return data_.size(); }
    float* data() { return data_.data(); }
    const float* data() const { return data_.data(); }
    float* grad() { return grad_.data(); }
    const float* grad() const { return grad_.data(); }
    /// Rows (axis 0) whose grad the last backward wrote; used for embedding tensors.
    std::vector<uint32_t>& touched_rows() { return touched_rows_; }

    /// Returns the C view; pointers stay valid while this tensor lives.
    recprune_tensor_t view() const {
        recprune_tensor_t v{};
        v.struct_size = sizeof(recprune_tensor_t);
        v.role = role_;
        v.name = name_.c_str();
        v.rank = static_cast<uint32_t>(shape_.size());
        v.field = field_;
        for (size_t axis = 0; axis < shape_.size(); ++axis) v.shape[axis] = shape_[axis];
        v.element_count = data_.size();
        v.data = const_cast<float*>(data_.data());
        v.grad = const_cast<float*>(grad_.data());
        return v;
    }

private:
    std::string name_;
    recprune_tensor_role_t role_;
    std::vector<uint64_t> shape_;
    uint32_t field_;
    std::vector<float> data_;
    std::vector<float> grad_;
    std::vector<uint32_t> touched_rows_;
};

namespace detail {

/// Tensor values that Model::add_tensor() may still allocate on this thread, or no limit.
/// nn::load_model_file() sets it to the values its file contains while it builds the model, so
/// that a damaged header cannot make the model allocate more than the file contains.
inline std::optional<uint64_t>& tensor_value_budget() {
    thread_local std::optional<uint64_t> budget;
    return budget;
}

}  // namespace detail

/// Base class of model plugins. The constructor takes (const Host&, const json& params,
/// const json& schema, uint64_t seed) and creates every tensor with add_tensor().
class Model {
public:
    virtual ~Model() = default;

    /// Computes one logit per row. With `training`, keeps what backward() needs.
    virtual void forward(const recprune_batch_t& batch, bool training, float* logits) = 0;
    /// Overwrites every grad from d(loss)/d(logit) of the last training forward pass.
    virtual void backward(const recprune_batch_t& batch, const float* logit_grads) = 0;
    /// Returns the structured groups (format in docs/abi.md).
    virtual json structure() const = 0;
    /// Returns parameter counts and FLOPs per sample.
    virtual recprune_model_cost_t cost() const = 0;
    /// Builds a physically smaller model from a compaction plan.
    virtual std::unique_ptr<Model> compact(const json& plan) const {
        (void)plan;
        throw NotSupported("compaction not supported by this model");
    }
    /// Writes architecture and weights to `path`.
    virtual void save(const std::string& path) const {
        (void)path;
        throw NotSupported("saving not supported by this model");
    }

    std::vector<std::unique_ptr<Tensor>>& tensors() { return tensors_; }
    const std::vector<std::unique_ptr<Tensor>>& tensors() const { return tensors_; }

protected:
    /// Creates a zero-initialised tensor owned by this model and returns it.
    Tensor& add_tensor(std::string name, recprune_tensor_role_t role,
                       std::vector<uint64_t> shape, uint32_t field = RECPRUNE_NO_FIELD) {
        if (auto& budget = detail::tensor_value_budget()) {
            uint64_t count = 1;
            for (uint64_t extent : shape) {
                count = extent != 0 && count > *budget / extent ? *budget + 1 : count * extent;
            }
            if (count > *budget) {
                throw InvalidData("the architecture needs more values for tensor " + name +
                                  " than the file has left (" + std::to_string(*budget) + ")");
            }
            *budget -= count;
        }
        tensors_.push_back(
            std::make_unique<Tensor>(std::move(name), role, std::move(shape), field));
        return *tensors_.back();
    }

private:
    std::vector<std::unique_ptr<Tensor>> tensors_;
};

// ---------------------------------------------------------------------------------------------
// Pruners
// ---------------------------------------------------------------------------------------------

/// What a Pruner is given when asked for scores; wraps recprune_prune_context_t.
class PruneContext {
public:
    explicit PruneContext(const recprune_prune_context_t& raw) : raw_(raw) {}

    recprune_granularity_t granularity() const {
        return static_cast<recprune_granularity_t>(raw_.granularity);
    }
    uint64_t seed() const { return raw_.seed; }
    uint64_t unit_count() const { return raw_.unit_count; }
    json units() const { return json::parse(raw_.units_json); }
    json structure() const { return json::parse(raw_.structure_json); }
    std::span<const recprune_tensor_t> tensors() const { return {raw_.tensors, raw_.tensor_count}; }
    /// Mask of tensor `index` (1 keep, 0 pruned), or nullptr when the tensor is not pruned.
    const uint8_t* mask(uint32_t index) const { return raw_.masks ? raw_.masks[index] : nullptr; }
    const recprune_data_view_t& train_data() const { return *raw_.train_data; }
    const recprune_prune_context_t& raw() const { return raw_; }

    /// Runs `batch_count` calibration batches and calls `visitor(tensors, count, batch)` after
    /// each backward pass.
    template <typename Visitor>
    void gradient_pass(uint32_t batch_count, Visitor&& visitor) const {
        auto trampoline = [](void* user, const recprune_tensor_t* tensors, uint32_t count,
                             const recprune_batch_t* batch) {
            (*static_cast<Visitor*>(user))(tensors, count, *batch);
        };
        call("gradient pass", [&](recprune_error_t* error) {
            return raw_.gradient_pass(raw_.host_data, batch_count, trampoline, &visitor, error);
        });
    }

    /// Returns the validation metric (higher is better) with `field` permuted, or unpermuted
    /// for RECPRUNE_NO_FIELD.
    double evaluate_permuted(uint32_t field, uint64_t permutation_seed) const {
        double value = 0.0;
        call("permuted evaluation", [&](recprune_error_t* error) {
            return raw_.evaluate_permuted(raw_.host_data, field, permutation_seed, &value, error);
        });
        return value;
    }

    /// Returns pooled embedding outputs [field_count, row_count, width] and sets `width`.
    std::vector<float> field_embeddings(uint64_t first_row, uint64_t row_count,
                                        uint32_t& width) const {
        uint32_t max_width = 0;
        for (const auto& tensor : tensors()) {
            if (tensor.role == RECPRUNE_TENSOR_ROLE_EMBEDDING && tensor.rank == 2) {
                max_width = std::max<uint32_t>(max_width, static_cast<uint32_t>(tensor.shape[1]));
            }
        }
        std::vector<float> out(static_cast<size_t>(raw_.train_data->field_count) * row_count *
                               max_width);
        call("field embeddings", [&](recprune_error_t* error) {
            return raw_.field_embeddings(raw_.host_data, first_row, row_count, out.data(), &width,
                                         error);
        });
        return out;
    }

private:
    template <typename Fn>
    void call(const char* what, Fn&& fn) const {
        std::string message;
        recprune_error_t error{&message, [](void* data, const char* text) {
                                   *static_cast<std::string*>(data) = text ? text : "";
                               }};
        recprune_status_t status = fn(&error);
        if (status != RECPRUNE_STATUS_OK) {
            throw Error(status, message.empty() ? std::string(what) + " failed" : message);
        }
    }

    const recprune_prune_context_t& raw_;
};

/// Base class of pruner plugins. The constructor takes (const Host&, const json& params,
/// uint64_t seed).
class Pruner {
public:
    virtual ~Pruner() = default;
    /// Declares granularity, per-tensor selection and whether a regularizer runs in training.
    virtual recprune_pruner_info_t info() const = 0;
    /// Writes one score per unit; lower scores are pruned first.
    virtual void score(const PruneContext& context, std::span<double> scores) = 0;
    /// Adds a penalty gradient to the grads (only called when info().has_regularizer).
    virtual void regularize(std::span<const recprune_tensor_t> tensors, const json& structure) {
        (void)tensors;
        (void)structure;
        throw NotSupported("this pruner has no regularizer");
    }
};

/// Returns a recprune_pruner_info_t with struct_size set.
inline recprune_pruner_info_t make_pruner_info(recprune_granularity_t granularity,
                                               bool per_tensor = false,
                                               bool has_regularizer = false) {
    recprune_pruner_info_t info{};
    info.struct_size = sizeof(info);
    info.granularity = granularity;
    info.per_tensor = per_tensor ? 1 : 0;
    info.has_regularizer = has_regularizer ? 1 : 0;
    return info;
}

// ---------------------------------------------------------------------------------------------
// The boundary: C functions generated for a plugin class
// ---------------------------------------------------------------------------------------------

namespace detail {

/// Runs `fn`, turning every exception into a status and a message for the host.
template <typename Fn>
recprune_status_t guard(recprune_error_t* error, Fn&& fn) noexcept {
    auto report = [error](const char* message) {
        if (error != nullptr && error->set != nullptr) error->set(error->host_data, message);
    };
    try {
        fn();
        return RECPRUNE_STATUS_OK;
    } catch (const Error& e) {
        report(e.what());
        return e.status();
    } catch (const nlohmann::json::exception& e) {
        report((std::string("invalid parameter: ") + e.what()).c_str());
        return RECPRUNE_STATUS_INVALID_ARGUMENT;
    } catch (const std::bad_alloc&) {
        report("out of memory in the plugin: an allocation failed; reduce the sizes its "
               "parameters set or the batch size, or free memory");
        return RECPRUNE_STATUS_OUT_OF_MEMORY;
    } catch (const std::exception& e) {
        report(e.what());
        return RECPRUNE_STATUS_RUNTIME_ERROR;
    } catch (...) {
        report("unknown exception in plugin");
        return RECPRUNE_STATUS_RUNTIME_ERROR;
    }
}

// Each handle is a heap object pairing the C++ instance with the C views the host reads.

template <typename T>
struct DatasetHandle {
    Host host;
    std::unique_ptr<T> impl;
    std::string sources_json;
    Table table;
    std::vector<recprune_column_t> column_views;
    std::string metadata_json;
};

template <typename T>
struct DatasetAdapter {
    using Handle = DatasetHandle<T>;
    static Handle* self(recprune_dataset_t d) { return reinterpret_cast<Handle*>(d); }

    static recprune_status_t create(const recprune_host_t* host, const char* params,
                                    recprune_dataset_t* out, recprune_error_t* error) {
        return guard(error, [&] {
            auto handle = std::make_unique<Handle>();
            handle->host = Host(host);
            handle->impl = std::make_unique<T>(handle->host, json::parse(params));
            *out = reinterpret_cast<recprune_dataset_t>(handle.release());
        });
    }
    static void destroy(recprune_dataset_t d) { delete self(d); }
    static recprune_status_t list_sources(recprune_dataset_t d, const char** out,
                                          recprune_error_t* error) {
        return guard(error, [&] {
            self(d)->sources_json = json(self(d)->impl->sources()).dump();
            *out = self(d)->sources_json.c_str();
        });
    }
    static recprune_status_t load(recprune_dataset_t d, recprune_table_t* out,
                                  recprune_error_t* error) {
        return guard(error, [&] {
            Handle& h = *self(d);
            h.table = h.impl->load();
            h.column_views.clear();
            for (const Column& column : h.table.columns) {
                recprune_column_t view{};
                view.struct_size = sizeof(view);
                view.type = column.type;
                view.roles = column.roles;
                view.name = column.name.c_str();
                view.numeric = column.numeric.empty() ? nullptr : column.numeric.data();
                view.keys = column.keys.empty() ? nullptr : column.keys.data();
                view.offsets = column.offsets.empty() ? nullptr : column.offsets.data();
                view.value_count = column.keys.size();
                h.column_views.push_back(view);
            }
            h.metadata_json = h.table.metadata.dump();
            *out = recprune_table_t{};
            out->struct_size = sizeof(recprune_table_t);
            out->column_count = static_cast<uint32_t>(h.column_views.size());
            out->row_count = h.table.row_count;
            out->columns = h.column_views.data();
            out->metadata_json = h.metadata_json.c_str();
        });
    }
    static const recprune_dataset_api_t* api() {
        static const recprune_dataset_api_t table{sizeof(recprune_dataset_api_t), &create,
                                                  &destroy, &list_sources, &load};
        return &table;
    }
};

struct ModelHandle {
    Host host;
    std::unique_ptr<Model> impl;
    std::vector<recprune_tensor_t> tensor_views;
    std::string structure_json;

    void refresh_views() {
        tensor_views.clear();
        for (const auto& tensor : impl->tensors()) tensor_views.push_back(tensor->view());
        structure_json = impl->structure().dump();
    }
};

template <typename T>
concept LoadableModel = requires(const Host& host, const std::string& path) {
    { T::load(host, path) } -> std::convertible_to<std::unique_ptr<Model>>;
};

template <typename T>
struct ModelAdapter {
    static ModelHandle* self(recprune_model_t m) { return reinterpret_cast<ModelHandle*>(m); }
    static recprune_model_t wrap(const Host& host, std::unique_ptr<Model> model) {
        auto handle = std::make_unique<ModelHandle>();
        handle->host = host;
        handle->impl = std::move(model);
        handle->refresh_views();
        return reinterpret_cast<recprune_model_t>(handle.release());
    }

    static recprune_status_t create(const recprune_host_t* host, const char* params,
                                    const char* schema, uint64_t seed, recprune_model_t* out,
                                    recprune_error_t* error) {
        return guard(error, [&] {
            Host h(host);
            *out = wrap(h, std::make_unique<T>(h, json::parse(params), json::parse(schema), seed));
        });
    }
    static void destroy(recprune_model_t m) { delete self(m); }
    static recprune_status_t get_tensors(recprune_model_t m, const recprune_tensor_t** tensors,
                                         uint32_t* count, recprune_error_t* error) {
        return guard(error, [&] {
            *tensors = self(m)->tensor_views.data();
            *count = static_cast<uint32_t>(self(m)->tensor_views.size());
        });
    }
    static recprune_status_t get_structure(recprune_model_t m, const char** out,
                                           recprune_error_t* error) {
        return guard(error, [&] { *out = self(m)->structure_json.c_str(); });
    }
    static recprune_status_t forward(recprune_model_t m, const recprune_batch_t* batch,
                                     int32_t training, float* logits, recprune_error_t* error) {
        return guard(error, [&] { self(m)->impl->forward(*batch, training != 0, logits); });
    }
    static recprune_status_t backward(recprune_model_t m, const recprune_batch_t* batch,
                                      const float* logit_grads, recprune_error_t* error) {
        return guard(error, [&] { self(m)->impl->backward(*batch, logit_grads); });
    }
    static recprune_status_t touched_rows(recprune_model_t m, uint32_t tensor_index,
                                          const uint32_t** rows, uint64_t* count,
                                          recprune_error_t* error) {
        return guard(error, [&] {
            auto& tensors = self(m)->impl->tensors();
            if (tensor_index >= tensors.size()) {
                throw InvalidArgument("invalid tensor index " + std::to_string(tensor_index));
            }
            auto& touched = tensors[tensor_index]->touched_rows();
            *rows = touched.data();
            *count = touched.size();
        });
    }
    static recprune_status_t cost(recprune_model_t m, recprune_model_cost_t* out,
                                  recprune_error_t* error) {
        return guard(error, [&] {
            *out = self(m)->impl->cost();
            out->struct_size = sizeof(recprune_model_cost_t);
        });
    }
    static recprune_status_t compact(recprune_model_t m, const char* plan, recprune_model_t* out,
                                     recprune_error_t* error) {
        return guard(error, [&] {
            *out = wrap(self(m)->host, self(m)->impl->compact(json::parse(plan)));
        });
    }
    static recprune_status_t save(recprune_model_t m, const char* path, recprune_error_t* error) {
        return guard(error, [&] { self(m)->impl->save(path); });
    }
    static recprune_status_t load(const recprune_host_t* host, const char* path,
                                  recprune_model_t* out, recprune_error_t* error) {
        return guard(error, [&] {
            Host h(host);
            if constexpr (LoadableModel<T>) {
                *out = wrap(h, T::load(h, path));
            } else {
                throw NotSupported("loading not supported by this model");
            }
        });
    }
    static const recprune_model_api_t* api() {
        static const recprune_model_api_t table{
            sizeof(recprune_model_api_t), &create, &destroy, &get_tensors, &get_structure,
            &forward, &backward, &touched_rows, &cost, &compact, &save, &load};
        return &table;
    }
};

template <typename T>
struct PrunerHandle {
    Host host;
    std::unique_ptr<T> impl;
};

template <typename T>
struct PrunerAdapter {
    using Handle = PrunerHandle<T>;
    static Handle* self(recprune_pruner_t p) { return reinterpret_cast<Handle*>(p); }

    static recprune_status_t create(const recprune_host_t* host, const char* params,
                                    uint64_t seed, recprune_pruner_t* out,
                                    recprune_error_t* error) {
        return guard(error, [&] {
            auto handle = std::make_unique<Handle>();
            handle->host = Host(host);
            handle->impl = std::make_unique<T>(handle->host, json::parse(params), seed);
            *out = reinterpret_cast<recprune_pruner_t>(handle.release());
        });
    }
    static void destroy(recprune_pruner_t p) { delete self(p); }
    static recprune_status_t get_info(recprune_pruner_t p, recprune_pruner_info_t* out,
                                      recprune_error_t* error) {
        return guard(error, [&] {
            *out = self(p)->impl->info();
            out->struct_size = sizeof(recprune_pruner_info_t);
        });
    }
    static recprune_status_t score(recprune_pruner_t p, const recprune_prune_context_t* context,
                                   double* scores, recprune_error_t* error) {
        return guard(error, [&] {
            self(p)->impl->score(PruneContext(*context),
                                 std::span<double>(scores, context->unit_count));
        });
    }
    static recprune_status_t regularize(recprune_pruner_t p, const recprune_tensor_t* tensors,
                                        uint32_t count, const char* structure,
                                        recprune_error_t* error) {
        return guard(error, [&] {
            self(p)->impl->regularize(std::span<const recprune_tensor_t>(tensors, count),
                                      json::parse(structure));
        });
    }
    static const recprune_pruner_api_t* api() {
        static const recprune_pruner_api_t table{sizeof(recprune_pruner_api_t), &create,
                                                 &destroy, &get_info, &score, &regularize};
        return &table;
    }
};

/// Fills a descriptor for plugin class T; the kind follows from T's base class.
template <typename T>
recprune_plugin_descriptor_t make_descriptor(const char* name, const char* version,
                                             const char* description, const char* schema) {
    recprune_plugin_descriptor_t d{};
    d.struct_size = sizeof(d);
    d.abi_major = RECPRUNE_ABI_MAJOR;
    d.abi_minor = RECPRUNE_ABI_MINOR;
    d.name = name;
    d.version = version;
    d.description = description;
    d.parameter_schema_json = schema;
    if constexpr (std::is_base_of_v<Dataset, T>) {
        d.kind = RECPRUNE_KIND_DATASET;
        d.dataset = DatasetAdapter<T>::api();
    } else if constexpr (std::is_base_of_v<Model, T>) {
        d.kind = RECPRUNE_KIND_MODEL;
        d.model = ModelAdapter<T>::api();
    } else {
        static_assert(std::is_base_of_v<Pruner, T>,
                      "a plugin class derives from recprune::Dataset, Model or Pruner");
        d.kind = RECPRUNE_KIND_PRUNER;
        d.pruner = PrunerAdapter<T>::api();
    }
    return d;
}

}  // namespace detail
}  // namespace recprune

/// Registers plugin class CLASS under NAME. SCHEMA is a JSON text (see abi.h). Use once per
/// shared library, at namespace scope.
#define RECPRUNE_REGISTER_PLUGIN(CLASS, NAME, VERSION, DESCRIPTION, SCHEMA)                     \
    extern "C" RECPRUNE_EXPORT const recprune_plugin_descriptor_t* recprune_plugin_entry(      \
        uint16_t host_abi_major, uint16_t host_abi_minor) {                                    \
        (void)host_abi_major;                                                                  \
        (void)host_abi_minor;                                                                  \
        static const recprune_plugin_descriptor_t descriptor =                                 \
            ::recprune::detail::make_descriptor<CLASS>(NAME, VERSION, DESCRIPTION, SCHEMA);    \
        return &descriptor;                                                                    \
    }
