// The tensors of a stack of dense layers named "<prefix>.<l>.weight" / "<prefix>.<l>.bias":
// creation, the neuron families of the structure JSON, and the copies a compaction makes.
#pragma once

#include "recprune/nn/compaction.hpp"
#include "recprune/nn/random.hpp"
#include "recprune/nn/structure.hpp"
#include "recprune/sdk.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace recprune::nn {

/// Creates a tensor owned by the model (Model::add_tensor is protected, so models pass it in).
using TensorFactory =
    std::function<Tensor&(std::string name, recprune_tensor_role_t role, std::vector<uint64_t>)>;

/// The (weight, bias) pairs of a stack of dense layers.
struct Tower {
    std::string prefix;
    std::vector<std::pair<Tensor*, Tensor*>> layers;

    std::string layer_name(size_t l) const { return prefix + "." + std::to_string(l); }
    uint32_t width(size_t l) const {
        return static_cast<uint32_t>(layers[l].first->shape()[0]);
    }

    /// Creates layers of `sizes` outputs on `inputs` inputs, weights initialised by
    /// `dense_init` (see init_dense_weight) and biases zero.
    static Tower create(const TensorFactory& add, const std::string& prefix, uint64_t inputs,
                        const std::vector<int64_t>& sizes, const std::string& dense_init,
                        uint64_t seed) {
        Tower tower;
        tower.prefix = prefix;
        for (size_t l = 0; l < sizes.size(); ++l) {
            const auto outputs = static_cast<uint64_t>(sizes[l]);
            const std::string name = tower.layer_name(l);
            Tensor& weight = add(name + ".weight", RECPRUNE_TENSOR_ROLE_DENSE_WEIGHT,
                                 {outputs, inputs});
            Tensor& bias = add(name + ".bias", RECPRUNE_TENSOR_ROLE_BIAS, {outputs});
            init_dense_weight({weight.data(), weight.size()}, outputs, inputs, dense_init,
                              derive_seed(seed, weight.name()));
            tower.layers.emplace_back(&weight, &bias);
            inputs = outputs;
        }
        return tower;
    }

    /// Returns the neuron families of the first `hidden` layers: neuron j of layer l couples
    /// row j of its weight, entry j of its bias and column j of the next layer's weight (for
    /// the last of them, column next_offset + j of `next_weight` when the tower feeds another
    /// layer).
    json neuron_families(size_t hidden, const std::string& next_weight = "",
                         uint64_t next_offset = 0) const {
        json families = json::array();
        for (size_t l = 0; l < hidden; ++l) {
            json slices = {unit_slice(layers[l].first->name(), 0, 0),
                           unit_slice(layers[l].second->name(), 0, 0)};
            if (l + 1 < layers.size()) {
                slices.push_back(unit_slice(layers[l + 1].first->name(), 1, 0));
            } else if (!next_weight.empty()) {
                slices.push_back(unit_slice(next_weight, 1, next_offset));
            }
            families.push_back(
                {{"layer", layer_name(l)}, {"count", width(l)}, {"slices", slices}});
        }
        return families;
    }

    /// Returns the sizes of the first `hidden` layers by name, for CompactionPlan.
    std::map<std::string, uint32_t> layer_sizes(size_t hidden) const {
        std::map<std::string, uint32_t> sizes;
        for (size_t l = 0; l < hidden; ++l) sizes[layer_name(l)] = width(l);
        return sizes;
    }

    /// Returns the kept outputs of each layer under `plan`: the plan's list for the first
    /// `hidden` layers, all outputs for the others.
    std::vector<std::vector<uint32_t>> kept_outputs(const CompactionPlan& plan,
                                                    size_t hidden) const {
        std::vector<std::vector<uint32_t>> kept;
        for (size_t l = 0; l < layers.size(); ++l) {
            kept.push_back(l < hidden ? plan.kept_neurons(layer_name(l), width(l))
                                      : iota_indices(width(l)));
        }
        return kept;
    }

    /// Copies into `to` the kept rows `kept[l]` of each layer and, as columns, the kept rows of
    /// the layer below (`input_columns` for the first layer).
    void copy_into(Tower& to, const std::vector<uint32_t>& input_columns,
                   const std::vector<std::vector<uint32_t>>& kept) const {
        const std::vector<uint32_t>* columns = &input_columns;
        for (size_t l = 0; l < layers.size(); ++l) {
            copy_matrix(*layers[l].first, *to.layers[l].first, kept[l], *columns);
            copy_matrix(*layers[l].second, *to.layers[l].second, kept[l], {});
            columns = &kept[l];
        }
    }

    /// FLOPs per sample of the dense tower: a multiply-add per weight and an add per bias.
    double flops() const {
        double total = 0.0;
        for (const auto& [weight, bias] : layers) {
            total += 2.0 * static_cast<double>(weight->size()) + static_cast<double>(bias->size());
        }
        return total;
    }

    /// Cost of a tower after masks, with the outputs of its last layer that carry values.
    struct MaskedCost {
        double flops = 0.0;
        std::vector<bool> live_outputs;
    };

    /// FLOPs per sample after masks, counting only work whose operands can be nonzero: a
    /// multiply-add per nonzero weight on a live input, and a bias add per live output. An
    /// output is live when such a weight or its bias is nonzero. The outputs of layers from
    /// `hidden` on have no neuron family, so they are always live. `live_inputs` says which inputs
    /// of the first layer carry values. For masks that remove whole units this is the dense
    /// FLOPs of the compacted tower (a test checks it for every model).
    MaskedCost after_masks(std::vector<bool> live_inputs, size_t hidden) const {
        MaskedCost cost;
        for (size_t l = 0; l < layers.size(); ++l) {
            const Tensor& weight = *layers[l].first;
            const Tensor& bias = *layers[l].second;
            const uint64_t outputs = weight.shape()[0];
            const uint64_t inputs = weight.shape()[1];
            std::vector<bool> live_outputs(outputs, l >= hidden);
            for (uint64_t j = 0; j < outputs; ++j) {
                const float* row = weight.data() + j * inputs;
                for (uint64_t i = 0; i < inputs; ++i) {
                    if (live_inputs[i] && row[i] != 0.0f) {
                        cost.flops += 2.0;
                        live_outputs[j] = true;
                    }
                }
                if (bias.data()[j] != 0.0f) live_outputs[j] = true;
                if (live_outputs[j]) cost.flops += 1.0;
            }
            live_inputs = std::move(live_outputs);
        }
        cost.live_outputs = std::move(live_inputs);
        return cost;
    }
};

}  // namespace recprune::nn
