// Helpers for a model's structure JSON (the slices each field, embedding dimension and hidden
// neuron couples; docs/abi.md "Model structure") and for its cost figures.
#pragma once

#include "recprune/sdk.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace recprune::nn {

/// A field slice: indices [start, start + width) of `tensor` along `axis`.
inline json field_slice(const std::string& tensor, uint32_t axis, uint64_t start,
                        uint64_t width) {
    return {{"tensor", tensor}, {"axis", axis}, {"start", start}, {"width", width}};
}

/// The whole table of an embedding tensor as a field slice.
inline json whole_table_slice(const Tensor& table) {
    return field_slice(table.name(), 0, 0, table.shape()[0]);
}

/// A regular slice of a family: unit u covers [start + u*step, start + u*step + width) of
/// `tensor` along `axis`.
inline json unit_slice(const std::string& tensor, uint32_t axis, uint64_t start, uint64_t step = 1,
                       uint64_t width = 1) {
    return {{"tensor", tensor}, {"axis", axis}, {"start", start}, {"step", step}, {"width", width}};
}

/// Returns the number of nonzero values of `tensor`.
inline uint64_t count_nonzero(const Tensor& tensor) {
    uint64_t count = 0;
    for (uint64_t i = 0; i < tensor.size(); ++i) count += tensor.data()[i] != 0.0f ? 1 : 0;
    return count;
}

/// Returns true when some value of `tensor` is nonzero.
inline bool any_nonzero(const Tensor& tensor) {
    for (uint64_t i = 0; i < tensor.size(); ++i) {
        if (tensor.data()[i] != 0.0f) return true;
    }
    return false;
}

/// Returns, per column of a [rows, columns] tensor, whether some value in it is nonzero.
inline std::vector<bool> nonzero_columns(const Tensor& tensor) {
    const uint64_t columns = tensor.shape().size() > 1 ? tensor.shape()[1] : 1;
    std::vector<bool> nonzero(columns, false);
    for (uint64_t i = 0; i < tensor.size(); ++i) {
        if (tensor.data()[i] != 0.0f) nonzero[i % columns] = true;
    }
    return nonzero;
}

/// Returns a cost with the parameter counts of `tensors` filled in and zero FLOPs.
inline recprune_model_cost_t parameter_cost(const std::vector<std::unique_ptr<Tensor>>& tensors) {
    recprune_model_cost_t cost{};
    cost.struct_size = sizeof(cost);
    for (const auto& tensor : tensors) {
        cost.parameter_count += tensor->size();
        cost.nonzero_parameter_count += count_nonzero(*tensor);
    }
    return cost;
}

}  // namespace recprune::nn
