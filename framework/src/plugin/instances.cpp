#include "plugin/instances.hpp"

#include "core/errors.hpp"

#include <cstring>
#include <string_view>

namespace recprune::plugin {
namespace {

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
    ErrorCapture error;
    error.check<CellError>(library_->model_api().forward(handle_, &batch, training ? 1 : 0,
                                                         logits, error.sink()),
                           *library_, "forward");
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

void PrunerInstance::score(const recprune_prune_context_t& context, std::span<double> scores) {
    ErrorCapture error;
    error.check<CellError>(library_->pruner_api().score(handle_, &context, scores.data(),
                                                        error.sink()),
                           *library_, "score");
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
