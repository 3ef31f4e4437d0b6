// A base for model plugins built from a ModelConfig: it keeps the config and the host, and
// writes the model file.
#pragma once

#include "recprune/nn/config.hpp"
#include "recprune/nn/model_file.hpp"
#include "recprune/nn/params.hpp"
#include "recprune/nn/tower.hpp"
#include "recprune/sdk.hpp"

#include <cstdint>
#include <string>
#include <utility>

namespace recprune::nn {

/// A model whose architecture is fully described by its ModelConfig, so that save() writes
/// the config with the tensors and load() rebuilds it from the file.
class ConfiguredModel : public Model {
public:
    void save(const std::string& path) const override {
        write_model_file(path, plugin_name_, config_, tensors());
    }

    const ModelConfig& config() const { return config_; }

protected:
    ConfiguredModel(std::string plugin_name, const Host& host, ModelConfig config)
        : plugin_name_(std::move(plugin_name)), host_(host), config_(std::move(config)) {}

    uint32_t field_count() const { return static_cast<uint32_t>(config_.schema.fields.size()); }
    uint32_t dense_count() const { return config_.schema.dense_count; }
    const FieldSpec& field_spec(uint32_t field) const { return config_.schema.fields[field]; }

    /// Returns a TensorFactory creating tensors in this model.
    TensorFactory tensor_factory() {
        return [this](std::string name, recprune_tensor_role_t role,
                      std::vector<uint64_t> shape) -> Tensor& {
            return add_tensor(std::move(name), role, std::move(shape));
        };
    }

    /// Returns a copy of the config for the model `plan` compacts this one into: removed
    /// fields and new vocabulary sizes; the caller rewrites the sizes in params.
    ModelConfig compacted_config(const CompactionPlan& plan) const {
        ModelConfig config = config_;
        config.removed_fields = plan.removed_fields();
        for (uint32_t f = 0; f < field_count(); ++f) {
            config.schema.fields[f].vocabulary_size =
                plan.new_vocabulary_size(f, config_.schema.fields[f].vocabulary_size);
        }
        return config;
    }

    std::string plugin_name_;
    Host host_;
    ModelConfig config_;
};

}  // namespace recprune::nn
