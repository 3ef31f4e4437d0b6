#include "train/optimizer.hpp"

#include "prune/masks.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

namespace recprune::train {
namespace {

constexpr float kAdamBeta1 = 0.9f;
constexpr float kAdamBeta2 = 0.999f;
constexpr float kAdamEpsilon = 1e-8f;
constexpr float kAdagradEpsilon = 1e-10f;

OptimizerRule rule_of(const grid::TrainingSettings& settings) {
    if (settings.optimizer == "adam") return OptimizerRule::Adam;
    if (settings.optimizer == "adagrad") return OptimizerRule::Adagrad;
    return settings.momentum > 0.0 ? OptimizerRule::Momentum : OptimizerRule::Sgd;
}

}  // namespace

Optimizer::Optimizer(const grid::TrainingSettings& settings,
                     std::span<const recprune_tensor_t> tensors)
    : settings_(settings), rule_(rule_of(settings)) {
    first_moment_.resize(tensors.size());
    second_moment_.resize(tensors.size());
    for (size_t t = 0; t < tensors.size(); ++t) {
        if (rule_ != OptimizerRule::Sgd) first_moment_[t].assign(tensors[t].element_count, 0.0f);
        if (rule_ == OptimizerRule::Adam) second_moment_[t].assign(tensors[t].element_count, 0.0f);
    }
}

void Optimizer::reset() {
    for (auto& state : first_moment_) std::fill(state.begin(), state.end(), 0.0f);
    for (auto& state : second_moment_) std::fill(state.begin(), state.end(), 0.0f);
    step_count_ = 0;
}

namespace {

/// The per-element state of one tensor's update: weights, grads and the optimizer's moments.
struct UpdateState {
    float* w;
    const float* g;
    float* m;  ///< Adam m, SGD velocity or Adagrad sum of squares; NULL when unused
    float* v;  ///< Adam v; NULL when unused
    float lr;
    float decay;
    float momentum;
    float adam_step_size;
    float adam_v_scale;
};

/// Updates elements [begin, end). A template on the rule, so the loop of a 16-wide embedding row
/// carries no dispatch and vectorises.
template <OptimizerRule rule>
inline void update_elements(const UpdateState& s, uint64_t begin, uint64_t end) {
    float* __restrict w = s.w;
    const float* __restrict g = s.g;
    float* __restrict m = s.m;
    float* __restrict v = s.v;
    for (uint64_t i = begin; i < end; ++i) {
        const float grad = g[i] + s.decay * w[i];
        if constexpr (rule == OptimizerRule::Adam) {
            m[i] = kAdamBeta1 * m[i] + (1.0f - kAdamBeta1) * grad;
            v[i] = kAdamBeta2 * v[i] + (1.0f - kAdamBeta2) * grad * grad;
            w[i] -= s.adam_step_size * m[i] / (std::sqrt(v[i] * s.adam_v_scale) + kAdamEpsilon);
        } else if constexpr (rule == OptimizerRule::Adagrad) {
            m[i] += grad * grad;
            w[i] -= s.lr * grad / (std::sqrt(m[i]) + kAdagradEpsilon);
        } else if constexpr (rule == OptimizerRule::Momentum) {
            m[i] = s.momentum * m[i] + grad;
            w[i] -= s.lr * m[i];
        } else {
            w[i] -= s.lr * grad;
        }
    }
}

/// Sets pruned weights of [begin, end) and their state back to zero.
inline void zero_pruned(const UpdateState& s, const uint8_t* mask, uint64_t begin, uint64_t end) {
    for (uint64_t i = begin; i < end; ++i) {
        if (mask[i] != 0) continue;
        s.w[i] = 0.0f;
        if (s.m != nullptr) s.m[i] = 0.0f;
        if (s.v != nullptr) s.v[i] = 0.0f;
    }
}

/// Rows between the update of a touched embedding row and the prefetch of its weights and
/// grad. Touched rows are scattered over tables larger than the cache, so each update would
/// otherwise wait on memory.
constexpr size_t kPrefetchRows = 8;

/// Updates one tensor: every element, or for an embedding table only its touched rows.
template <OptimizerRule rule>
void update_tensor(const UpdateState& s, const recprune_tensor_t& tensor,
                   std::span<const uint32_t> rows, bool sparse, const uint8_t* mask) {
    if (!sparse) {
        update_elements<rule>(s, 0, tensor.element_count);
        if (mask != nullptr) zero_pruned(s, mask, 0, tensor.element_count);
        return;
    }
    const uint64_t width = tensor.shape[1];
    for (size_t k = 0; k < rows.size(); ++k) {
        if (k + kPrefetchRows < rows.size()) {
            const uint64_t ahead = uint64_t{rows[k + kPrefetchRows]} * width;
            __builtin_prefetch(s.w + ahead, 1);
            __builtin_prefetch(s.g + ahead);
            if (s.m != nullptr) __builtin_prefetch(s.m + ahead, 1);
            if (s.v != nullptr) __builtin_prefetch(s.v + ahead, 1);
        }
        const uint64_t begin = uint64_t{rows[k]} * width;
        update_elements<rule>(s, begin, begin + width);
        // Only the rows just updated, so an embedding step stays proportional to the batch.
        if (mask != nullptr) zero_pruned(s, mask, begin, begin + width);
    }
}

}  // namespace

void Optimizer::step(std::span<const recprune_tensor_t> tensors,
                     const std::function<std::span<const uint32_t>(uint32_t)>& touched_rows,
                     const prune::MaskSet* masks) {
    ++step_count_;
    // Bias correction uses the global step for every row, as lazy Adam does for sparse rows.
    const double correction1 = 1.0 - std::pow(static_cast<double>(kAdamBeta1),
                                              static_cast<double>(step_count_));
    const double correction2 = 1.0 - std::pow(static_cast<double>(kAdamBeta2),
                                              static_cast<double>(step_count_));

    // The touched-row lists come through the plugin's ABI, so they are read here, on the
    // calling thread, before the tensors are updated in parallel.
    const auto count = static_cast<uint32_t>(tensors.size());
    std::vector<std::span<const uint32_t>> rows(count);
    std::vector<uint8_t> sparse(count, 0);
    for (uint32_t t = 0; t < count; ++t) {
        sparse[t] = tensors[t].role == RECPRUNE_TENSOR_ROLE_EMBEDDING && tensors[t].rank == 2;
        if (sparse[t]) rows[t] = touched_rows(t);
    }

    // Tensors are independent, so they update in parallel and the result does not depend on
    // the thread count. Nothing in the loop throws, so no exception can leave the region.
    // Known limit: touched rows are read again here, after the backward pass evicted most of
    // them. Updating each table right after its scatter needs a per-tensor hook in the ABI.
#pragma omp parallel for schedule(dynamic, 1) if (count > 1)
    for (uint32_t t = 0; t < count; ++t) {
        const recprune_tensor_t& tensor = tensors[t];
        UpdateState s{};
        s.w = tensor.data;
        s.g = tensor.grad;
        s.m = first_moment_[t].empty() ? nullptr : first_moment_[t].data();
        s.v = second_moment_[t].empty() ? nullptr : second_moment_[t].data();
        s.lr = static_cast<float>(settings_.lr);
        // Biases are not decayed: L2 on a bias shifts the output without limiting capacity.
        s.decay = tensor.role == RECPRUNE_TENSOR_ROLE_BIAS
                      ? 0.0f
                      : static_cast<float>(settings_.weight_decay);
        s.momentum = static_cast<float>(settings_.momentum);
        s.adam_step_size = static_cast<float>(settings_.lr / correction1);
        s.adam_v_scale = static_cast<float>(1.0 / correction2);
        const uint8_t* mask = masks != nullptr ? masks->mask(t) : nullptr;
        switch (rule_) {
            case OptimizerRule::Adam:
                update_tensor<OptimizerRule::Adam>(s, tensor, rows[t], sparse[t], mask);
                break;
            case OptimizerRule::Adagrad:
                update_tensor<OptimizerRule::Adagrad>(s, tensor, rows[t], sparse[t], mask);
                break;
            case OptimizerRule::Momentum:
                update_tensor<OptimizerRule::Momentum>(s, tensor, rows[t], sparse[t], mask);
                break;
            case OptimizerRule::Sgd:
                update_tensor<OptimizerRule::Sgd>(s, tensor, rows[t], sparse[t], mask);
                break;
        }
    }
}

void Optimizer::apply_masks(const prune::MaskSet& masks) {
    for (uint32_t t = 0; t < first_moment_.size(); ++t) {
        if (!first_moment_[t].empty()) masks.apply_to(t, first_moment_[t].data());
        if (!second_moment_[t].empty()) masks.apply_to(t, second_moment_[t].data());
    }
}

}  // namespace recprune::train
