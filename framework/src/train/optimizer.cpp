#include "train/optimizer.hpp"

#include "prune/masks.hpp"

#include <algorithm>
#include <cmath>

namespace recprune::train {
namespace {

constexpr float kAdamBeta1 = 0.9f;
constexpr float kAdamBeta2 = 0.999f;
constexpr float kAdamEpsilon = 1e-8f;
constexpr float kAdagradEpsilon = 1e-10f;

}  // namespace

Optimizer::Optimizer(const grid::TrainingSettings& settings,
                     std::span<const recprune_tensor_t> tensors)
    : settings_(settings) {
    first_moment_.resize(tensors.size());
    second_moment_.resize(tensors.size());
    for (size_t t = 0; t < tensors.size(); ++t) {
        bool needs_first = settings_.optimizer != "sgd" || settings_.momentum > 0.0;
        if (needs_first) first_moment_[t].assign(tensors[t].element_count, 0.0f);
        if (settings_.optimizer == "adam") second_moment_[t].assign(tensors[t].element_count, 0.0f);
    }
}

void Optimizer::reset() {
    for (auto& state : first_moment_) std::fill(state.begin(), state.end(), 0.0f);
    for (auto& state : second_moment_) std::fill(state.begin(), state.end(), 0.0f);
    step_count_ = 0;
}

void Optimizer::update_range(uint32_t t, const recprune_tensor_t& tensor, uint64_t begin,
                             uint64_t end, const uint8_t* mask) {
    float* w = tensor.data;
    const float* g = tensor.grad;
    const float lr = static_cast<float>(settings_.lr);
    // Biases are not decayed: L2 on a bias shifts the output without limiting capacity.
    const float decay = tensor.role == RECPRUNE_TENSOR_ROLE_BIAS
                            ? 0.0f
                            : static_cast<float>(settings_.weight_decay);

    if (settings_.optimizer == "adam") {
        float* m = first_moment_[t].data();
        float* v = second_moment_[t].data();
        const float step_size = static_cast<float>(settings_.lr / bias_correction1_);
        const float v_scale = static_cast<float>(1.0 / bias_correction2_);
        for (uint64_t i = begin; i < end; ++i) {
            float grad = g[i] + decay * w[i];
            m[i] = kAdamBeta1 * m[i] + (1.0f - kAdamBeta1) * grad;
            v[i] = kAdamBeta2 * v[i] + (1.0f - kAdamBeta2) * grad * grad;
            w[i] -= step_size * m[i] / (std::sqrt(v[i] * v_scale) + kAdamEpsilon);
        }
    } else if (settings_.optimizer == "adagrad") {
        float* sum = first_moment_[t].data();
        for (uint64_t i = begin; i < end; ++i) {
            float grad = g[i] + decay * w[i];
            sum[i] += grad * grad;
            w[i] -= lr * grad / (std::sqrt(sum[i]) + kAdagradEpsilon);
        }
    } else if (!first_moment_[t].empty()) {
        float* velocity = first_moment_[t].data();
        const float momentum = static_cast<float>(settings_.momentum);
        for (uint64_t i = begin; i < end; ++i) {
            float grad = g[i] + decay * w[i];
            velocity[i] = momentum * velocity[i] + grad;
            w[i] -= lr * velocity[i];
        }
    } else {
        for (uint64_t i = begin; i < end; ++i) w[i] -= lr * (g[i] + decay * w[i]);
    }

    // Pruned weights and their state go back to zero after every update, only on the range
    // just updated, so an embedding step stays proportional to the rows it touched.
    if (mask == nullptr) return;
    float* m = first_moment_[t].empty() ? nullptr : first_moment_[t].data();
    float* v = second_moment_[t].empty() ? nullptr : second_moment_[t].data();
    for (uint64_t i = begin; i < end; ++i) {
        if (mask[i] != 0) continue;
        w[i] = 0.0f;
        if (m != nullptr) m[i] = 0.0f;
        if (v != nullptr) v[i] = 0.0f;
    }
}

void Optimizer::step(std::span<const recprune_tensor_t> tensors,
                     const std::function<std::span<const uint32_t>(uint32_t)>& touched_rows,
                     const prune::MaskSet* masks) {
    ++step_count_;
    // Bias correction uses the global step for every row, as lazy Adam does for sparse rows.
    bias_correction1_ = 1.0 - std::pow(static_cast<double>(kAdamBeta1),
                                       static_cast<double>(step_count_));
    bias_correction2_ = 1.0 - std::pow(static_cast<double>(kAdamBeta2),
                                       static_cast<double>(step_count_));

    for (uint32_t t = 0; t < tensors.size(); ++t) {
        const recprune_tensor_t& tensor = tensors[t];
        const uint8_t* mask = masks != nullptr ? masks->mask(t) : nullptr;
        if (tensor.role == RECPRUNE_TENSOR_ROLE_EMBEDDING && tensor.rank == 2) {
            const uint64_t width = tensor.shape[1];
            for (uint32_t row : touched_rows(t)) {
                update_range(t, tensor, uint64_t{row} * width, (uint64_t{row} + 1) * width, mask);
            }
        } else {
            update_range(t, tensor, 0, tensor.element_count, mask);
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
