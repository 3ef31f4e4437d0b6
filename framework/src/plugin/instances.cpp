#include "plugin/instances.hpp"

#include "core/errors.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string_view>

namespace recprune::plugin {
namespace {

// The quiet NaNs the host writes into an output buffer before a plugin fills it. A plugin that
// leaves a slot unwritten leaves this NaN there, which the checks after the call find. The
// payloads differ from the NaN that arithmetic produces (0x7fc00000 and 0xffc00000 on x86), so
// a slot that still contains these bits was, almost surely, never written.
constexpr uint32_t kUnwrittenLogitBits = 0x7fc0'5d1du;
constexpr uint64_t kUnwrittenScoreBits = 0x7ff8'0000'0000'5d1dull;

// All exponent bits and the quiet bit set: quiet NaNs, so no signal is raised reading them.
static_assert((kUnwrittenLogitBits & 0x7fc0'0000u) == 0x7fc0'0000u);
static_assert((kUnwrittenScoreBits & 0x7ff8'0000'0000'0000ull) == 0x7ff8'0000'0000'0000ull);

// "<library path> (<name>)", the place part of a message about a plugin.
std::string plugin_place(const PluginLibrary& library) {
    return library.path().string() + " (" + library.name() + ")";
}

// The message the SDK's boundary (detail::guard in recprune/sdk.hpp) sends for an exception
// that does not derive from std::exception. It names neither the plugin nor the call.
constexpr std::string_view kSdkUnknownExceptionMessage = "unknown exception in plugin";

}  // namespace

ErrorCapture::ErrorCapture() {
    sink_.host_data = &message_;
    sink_.set = [](void* data, const char* text) {
        *static_cast<std::string*>(data) = text != nullptr ? text : "";
    };
}

template <typename E>
void ErrorCapture::check(recprune_status_t status, const PluginLibrary& plugin,
                         const std::string& what) {
    if (status == RECPRUNE_STATUS_OK) return;
    std::string message = message_;
    if (message_.empty()) {
        message = what + " failed in " + kind_name(plugin.kind()) + " " + plugin.name() +
                  " with status " + std::to_string(status) +
                  " and no message; the plugin should report its reason";
    } else if (message_ == kSdkUnknownExceptionMessage) {
        message = what + " failed in " + kind_name(plugin.kind()) + " " + plugin.name() + " (" +
                  plugin.path().string() +
                  "): it threw an exception that does not derive from std::exception, so the "
                  "SDK had no message to pass on; throw std::runtime_error or another "
                  "std::exception subclass with the reason";
    }
    message_.clear();
    throw E(message);
}

template void ErrorCapture::check<CellError>(recprune_status_t, const PluginLibrary&,
                                             const std::string&);
template void ErrorCapture::check<DataError>(recprune_status_t, const PluginLibrary&,
                                             const std::string&);
template void ErrorCapture::check<ConfigError>(recprune_status_t, const PluginLibrary&,
                                               const std::string&);

// ---- datasets --------------------------------------------------------------------------------

DatasetInstance::DatasetInstance(std::shared_ptr<const PluginLibrary> library,
                                 const std::string& params_json)
    : library_(std::move(library)) {
    ErrorCapture error;
    error.check<ConfigError>(library_->dataset_api().create(library_->host(), params_json.c_str(),
                                                            &handle_, error.sink()),
                             *library_, "dataset create");
}

DatasetInstance::~DatasetInstance() {
    if (handle_ != nullptr) library_->dataset_api().destroy(handle_);
}

std::vector<std::string> DatasetInstance::sources() {
    ErrorCapture error;
    const char* text = nullptr;
    error.check<DataError>(library_->dataset_api().list_sources(handle_, &text, error.sink()),
                           *library_, "list_sources");
    std::vector<std::string> paths;
    boost::system::error_code ec;
    boost::json::value value = boost::json::parse(text != nullptr ? text : "[]", ec);
    if (ec || !value.is_array()) {
        throw PluginError("dataset " + library_->name() +
                          ": list_sources did not return a JSON array of paths; fix the plugin");
    }
    for (const auto& entry : value.as_array()) {
        if (entry.is_string()) paths.emplace_back(entry.as_string());
    }
    return paths;
}

const recprune_table_t& DatasetInstance::load() {
    ErrorCapture error;
    table_ = recprune_table_t{};
    error.check<DataError>(library_->dataset_api().load(handle_, &table_, error.sink()),
                           *library_, "dataset load");
    return table_;
}

// ---- models ----------------------------------------------------------------------------------

ModelInstance::ModelInstance(std::shared_ptr<const PluginLibrary> library,
                             const std::string& params_json, const std::string& schema_json,
                             uint64_t seed)
    : library_(std::move(library)) {
    ErrorCapture error;
    error.check<CellError>(library_->model_api().create(library_->host(), params_json.c_str(),
                                                        schema_json.c_str(), seed, &handle_,
                                                        error.sink()),
                           *library_, "model create");
    read_views();
}

ModelInstance::ModelInstance(std::shared_ptr<const PluginLibrary> library,
                             recprune_model_t handle)
    : library_(std::move(library)), handle_(handle) {
    read_views();
}

ModelInstance::~ModelInstance() {
    if (handle_ != nullptr) library_->model_api().destroy(handle_);
}

void ModelInstance::read_views() {
    ErrorCapture error;
    const recprune_tensor_t* tensors = nullptr;
    uint32_t count = 0;
    error.check<CellError>(library_->model_api().get_tensors(handle_, &tensors, &count,
                                                             error.sink()),
                           *library_, "get_tensors");
    tensors_.assign(tensors, tensors + count);
    const char* structure = nullptr;
    error.check<CellError>(library_->model_api().get_structure(handle_, &structure,
                                                               error.sink()),
                           *library_, "get_structure");
    structure_json_ = structure != nullptr ? structure : "{}";
}

void ModelInstance::forward(const recprune_batch_t& batch, bool training, float* logits) {
    const uint64_t rows = batch.row_count;
    std::fill_n(logits, rows, std::bit_cast<float>(kUnwrittenLogitBits));
    ErrorCapture error;
    error.check<CellError>(library_->model_api().forward(handle_, &batch, training ? 1 : 0,
                                                         logits, error.sink()),
                           *library_, "forward");

    // A NaN the model computed is left to the loss and prediction checks, whose messages fit a
    // training that diverged. Only the host's own NaN means a row the model never wrote.
    uint64_t unwritten = 0;
    uint64_t first = rows;
    for (uint64_t row = 0; row < rows; ++row) {
        if (std::bit_cast<uint32_t>(logits[row]) != kUnwrittenLogitBits) continue;
        if (unwritten++ == 0) first = row;
    }
    if (unwritten == 0) return;
    throw CellError("model broke the ABI contract: " + plugin_place(*library_) +
                    ": forward left " + std::to_string(unwritten) + " of " +
                    std::to_string(rows) + " logits unwritten, the first at row " +
                    std::to_string(first) + "; the model must write one logit per row of the "
                    "batch (row_count in all), so fix its forward function");
}

void ModelInstance::backward(const recprune_batch_t& batch, const float* logit_grads) {
    ErrorCapture error;
    error.check<CellError>(library_->model_api().backward(handle_, &batch, logit_grads,
                                                          error.sink()),
                           *library_, "backward");
}

std::span<const uint32_t> ModelInstance::touched_rows(uint32_t tensor_index) {
    ErrorCapture error;
    const uint32_t* rows = nullptr;
    uint64_t count = 0;
    error.check<CellError>(library_->model_api().touched_rows(handle_, tensor_index, &rows,
                                                              &count, error.sink()),
                           *library_, "touched_rows");
    return {rows, static_cast<size_t>(count)};
}

recprune_model_cost_t ModelInstance::cost() {
    ErrorCapture error;
    recprune_model_cost_t cost{};
    cost.struct_size = sizeof(cost);
    error.check<CellError>(library_->model_api().cost(handle_, &cost, error.sink()), *library_,
                           "cost");
    return cost;
}

bool ModelInstance::can_compact() const { return library_->model_api().compact != nullptr; }

std::unique_ptr<ModelInstance> ModelInstance::compact(const std::string& plan_json) {
    if (!can_compact()) {
        throw CellError("compaction failed: model " + library_->name() +
                        " has no compact function; use a model that supports compaction");
    }
    ErrorCapture error;
    recprune_model_t compacted = nullptr;
    error.check<CellError>(library_->model_api().compact(handle_, plan_json.c_str(),
                                                         &compacted, error.sink()),
                           *library_, "compact");
    return std::unique_ptr<ModelInstance>(new ModelInstance(library_, compacted));
}

bool ModelInstance::can_save() const { return library_->model_api().save != nullptr; }

void ModelInstance::save(const std::string& path) {
    ErrorCapture error;
    error.check<CellError>(library_->model_api().save(handle_, path.c_str(), error.sink()),
                           *library_, "save");
}

std::unique_ptr<ModelInstance> ModelInstance::load(std::shared_ptr<const PluginLibrary> library,
                                                   const std::string& path) {
    if (library->model_api().load == nullptr) {
        throw CellError("load failed: model " + library->name() + " has no load function, so " +
                        path + " cannot be read; use the plugin that wrote the file");
    }
    ErrorCapture error;
    recprune_model_t handle = nullptr;
    error.check<CellError>(library->model_api().load(library->host(), path.c_str(), &handle,
                                                     error.sink()),
                           *library, "load");
    return std::unique_ptr<ModelInstance>(new ModelInstance(std::move(library), handle));
}

void ModelInstance::copy_weights_from(const ModelInstance& other) {
    if (other.tensors_.size() != tensors_.size()) {
        throw CellError("copy of weights failed: model " + library_->name() + " has " +
                        std::to_string(tensors_.size()) + " tensors, the source " +
                        std::to_string(other.tensors_.size()) +
                        "; the model must build the same tensors for the same parameters");
    }
    for (size_t i = 0; i < tensors_.size(); ++i) {
        if (tensors_[i].element_count != other.tensors_[i].element_count) {
            throw CellError(std::string("copy of weights failed: tensor ") + tensors_[i].name +
                            " differs in size from the source; the model must build the same "
                            "tensors for the same parameters");
        }
        std::memcpy(tensors_[i].data, other.tensors_[i].data,
                    tensors_[i].element_count * sizeof(float));
    }
}

// ---- pruners ---------------------------------------------------------------------------------

PrunerInstance::PrunerInstance(std::shared_ptr<const PluginLibrary> library,
                               const std::string& params_json, uint64_t seed)
    : library_(std::move(library)) {
    ErrorCapture error;
    error.check<CellError>(library_->pruner_api().create(library_->host(), params_json.c_str(),
                                                         seed, &handle_, error.sink()),
                           *library_, "pruner create");
    info_.struct_size = sizeof(info_);
    error.check<CellError>(library_->pruner_api().get_info(handle_, &info_, error.sink()),
                           *library_, "get_info");
}

PrunerInstance::~PrunerInstance() {
    if (handle_ != nullptr) library_->pruner_api().destroy(handle_);
}

void PrunerInstance::score(const recprune_prune_context_t& context, std::span<double> scores,
                           std::span<const uint8_t> already_pruned) {
    std::fill(scores.begin(), scores.end(), std::bit_cast<double>(kUnwrittenScoreBits));
    ErrorCapture error;
    error.check<CellError>(library_->pruner_api().score(handle_, &context, scores.data(),
                                                        error.sink()),
                           *library_, "score");

    // Unwritten scores and NaN scores cannot be ranked either way, so both fail the cell here,
    // where the plugin is known.
    uint64_t not_a_number = 0;
    uint64_t first = scores.size();
    for (uint64_t unit = 0; unit < scores.size(); ++unit) {
        if (unit < already_pruned.size() && already_pruned[unit] != 0) {
            scores[unit] = std::numeric_limits<double>::infinity();
            continue;
        }
        if (!std::isnan(scores[unit])) continue;
        if (not_a_number++ == 0) first = unit;
    }
    if (not_a_number == 0) return;
    throw CellError("pruner broke the ABI contract: " + plugin_place(*library_) +
                    ": score left " + std::to_string(not_a_number) + " of " +
                    std::to_string(scores.size()) + " scores unwritten or wrote NaN there, the "
                    "first at unit " + std::to_string(first) + "; the pruner must write one "
                    "score that is not NaN per unit (unit_count in all), so fix its score "
                    "function or remove it from the grid");
}

bool PrunerInstance::has_regularizer() const {
    return info_.has_regularizer != 0 && library_->pruner_api().regularize != nullptr;
}

void PrunerInstance::regularize(std::span<const recprune_tensor_t> tensors,
                                const std::string& structure) {
    ErrorCapture error;
    error.check<CellError>(library_->pruner_api().regularize(
                               handle_, tensors.data(), static_cast<uint32_t>(tensors.size()),
                               structure.c_str(), error.sink()),
                           *library_, "regularize");
}

}  // namespace recprune::plugin
