// RAII wrappers over plugin handles. Each holds a shared_ptr to its PluginLibrary, declared
// before the handle so that the handle is destroyed first and the library unloaded last.
// A failed call throws CellError (or the type given) with the plugin's own message.
#pragma once

#include "plugin/plugin_library.hpp"

#include <memory>
#include <span>
#include <string>
#include <vector>

namespace recprune::plugin {

/// Collects the message a plugin sets through recprune_error_t during one call.
class ErrorCapture {
public:
    ErrorCapture();
    recprune_error_t* sink() { return &sink_; }
    /// Throws E(prefix + message) unless status is OK; names the plugin when it gave no message.
    template <typename E>
    void check(recprune_status_t status, const PluginLibrary& plugin, const std::string& what);

private:
    std::string message_;
    recprune_error_t sink_{};
};

class DatasetInstance {
public:
    DatasetInstance(std::shared_ptr<const PluginLibrary> library, const std::string& params_json);
    ~DatasetInstance();
    DatasetInstance(const DatasetInstance&) = delete;
    DatasetInstance& operator=(const DatasetInstance&) = delete;

    std::vector<std::string> sources();
    /// Parses the data; the table is owned by this instance. Throws DataError.
    const recprune_table_t& load();
    const PluginLibrary& library() const { return *library_; }

private:
    std::shared_ptr<const PluginLibrary> library_;
    recprune_dataset_t handle_ = nullptr;
    recprune_table_t table_{};
};

class ModelInstance {
public:
    ModelInstance(std::shared_ptr<const PluginLibrary> library, const std::string& params_json,
                  const std::string& schema_json, uint64_t seed);
    ~ModelInstance();
    ModelInstance(const ModelInstance&) = delete;
    ModelInstance& operator=(const ModelInstance&) = delete;

    std::span<const recprune_tensor_t> tensors() const { return tensors_; }
    const std::string& structure_json() const { return structure_json_; }
    void forward(const recprune_batch_t& batch, bool training, float* logits);
    void backward(const recprune_batch_t& batch, const float* logit_grads);
    std::span<const uint32_t> touched_rows(uint32_t tensor_index);
    recprune_model_cost_t cost();
    bool can_compact() const;
    /// Returns the compacted model; throws CellError when the plugin fails or cannot compact.
    std::unique_ptr<ModelInstance> compact(const std::string& plan_json);
    bool can_save() const;
    void save(const std::string& path);
    /// Reads a model file that `save` of the same plugin wrote; throws CellError when the
    /// plugin has no load function or rejects the file.
    static std::unique_ptr<ModelInstance> load(std::shared_ptr<const PluginLibrary> library,
                                               const std::string& path);
    /// Copies every tensor's data from `other`, which must have the same tensors.
    void copy_weights_from(const ModelInstance& other);
    const PluginLibrary& library() const { return *library_; }

private:
    ModelInstance(std::shared_ptr<const PluginLibrary> library, recprune_model_t handle);
    void read_views();

    std::shared_ptr<const PluginLibrary> library_;
    recprune_model_t handle_ = nullptr;
    std::vector<recprune_tensor_t> tensors_;
    std::string structure_json_;
};

class PrunerInstance {
public:
    PrunerInstance(std::shared_ptr<const PluginLibrary> library, const std::string& params_json,
                   uint64_t seed);
    ~PrunerInstance();
    PrunerInstance(const PrunerInstance&) = delete;
    PrunerInstance& operator=(const PrunerInstance&) = delete;

    const recprune_pruner_info_t& info() const { return info_; }
    /// Calls the plugin's score and throws CellError when a unit is left unwritten or NaN.
    /// Units flagged in `already_pruned` (one flag per unit, or empty) are not checked, because
    /// the ABI lets a pruner give them any score. They get +infinity instead.
    void score(const recprune_prune_context_t& context, std::span<double> scores,
               std::span<const uint8_t> already_pruned = {});
    bool has_regularizer() const;
    void regularize(std::span<const recprune_tensor_t> tensors, const std::string& structure);
    const PluginLibrary& library() const { return *library_; }

private:
    std::shared_ptr<const PluginLibrary> library_;
    recprune_pruner_t handle_ = nullptr;
    recprune_pruner_info_t info_{};
};

}  // namespace recprune::plugin
