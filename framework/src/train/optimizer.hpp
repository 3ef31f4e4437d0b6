// Mask-aware optimizers (SGD with momentum, Adagrad, Adam) with L2 weight decay, applied by
// the host to every model's tensors. Embedding tensors get sparse updates: only the rows the
// last backward pass touched are updated, and their state only.
#pragma once

#include "grid/grid.hpp"
#include "recprune/abi.h"

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

namespace recprune::prune {
class MaskSet;
}

namespace recprune::train {

/// The update rule, resolved once from the settings: plain SGD keeps no state.
enum class OptimizerRule { Sgd, Momentum, Adagrad, Adam };

class Optimizer {
public:
    Optimizer(const grid::TrainingSettings& settings, std::span<const recprune_tensor_t> tensors);

    /// Updates every tensor from its grad. `touched_rows(t)` lists the rows of embedding tensor
    /// t that the batch touched. With `masks`, pruned weights and their optimizer state are set
    /// to zero after the update, so a pruned weight never grows back.
    void step(std::span<const recprune_tensor_t> tensors,
              const std::function<std::span<const uint32_t>(uint32_t)>& touched_rows,
              const prune::MaskSet* masks);

    /// Zeroes all state (moments, accumulators, step count).
    void reset();

    /// Zeroes the state at pruned positions; call after new masks are applied.
    void apply_masks(const prune::MaskSet& masks);

private:
    grid::TrainingSettings settings_;
    OptimizerRule rule_;
    std::vector<std::vector<float>> first_moment_;   // Adam m, SGD velocity, Adagrad sum of g^2
    std::vector<std::vector<float>> second_moment_;  // Adam v
    uint64_t step_count_ = 0;
};

}  // namespace recprune::train
