// Sparsity bookkeeping: how much of a model is pruned, with the denominator of every figure
// named, measured from the masks after they are in place.
#pragma once

#include "prune/masks.hpp"

#include "recprune/abi.h"

#include <boost/json.hpp>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace recprune::prune {

/// Element counts over one set of tensors.
struct SparsityCounts {
    uint64_t total = 0;
    /// Elements the masks prune.
    uint64_t pruned = 0;
    /// Elements whose value is 0.0, pruned or not.
    uint64_t zero = 0;

    /// Returns pruned / total, or NaN when there are no elements.
    double sparsity() const;
    /// Returns {"sparsity": x | null, "pruned", "zero", "total"}.
    boost::json::object to_json() const;
};

/// Sparsity of one tensor.
struct TensorSparsity {
    std::string name;
    uint32_t role = 0;
    SparsityCounts counts;
};

/// Sparsity of a model under a mask set. Each figure names its denominator: dense weight
/// matrices, embedding tables, the two together (the prunable weights, biases excluded), and
/// all parameters (biases and other trained state included).
struct SparsityReport {
    SparsityCounts dense_weights;
    SparsityCounts embeddings;
    SparsityCounts prunable_weights;
    SparsityCounts all_parameters;
    /// Parameters that are neither pruned nor 0.0, biases included.
    uint64_t nonzero_parameter_count = 0;
    std::vector<TensorSparsity> tensors;

    /// Returns {"dense_weights", "embeddings", "prunable_weights", "all_parameters" (each as
    /// SparsityCounts::to_json), "nonzero_parameter_count", "tensors": [{"name", "role", ...}]}.
    boost::json::object to_json() const;
};

/// Measures sparsity from `masks` and the tensors' values. Call it after the masks are applied;
/// the pruned counts come from the masks and do not depend on it, the zero counts do.
/// @throws std::invalid_argument when `masks` was made for a different set of tensors.
SparsityReport measure_sparsity(std::span<const recprune_tensor_t> tensors, const MaskSet& masks);

/// Returns the grid name of a tensor role: "embedding", "dense_weight", "bias" or "other".
std::string role_name(uint32_t role);

}  // namespace recprune::prune
