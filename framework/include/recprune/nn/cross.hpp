// The cross network of DCN (Wang et al., "Deep & Cross Network for Ad Click Predictions",
// ADKDD 2017, eq. 3): x_{l+1} = x_0 (x_l . w_l) + b_l + x_l, with w_l and b_l of the input
// width n, so each layer adds one degree of feature crossing with O(n) parameters.
#pragma once

#include "recprune/sdk.hpp"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace recprune::nn {

/// Cross layers bound to weights [1, n] and biases [n] owned by a model. Not thread-safe.
class CrossNetwork {
public:
    explicit CrossNetwork(std::vector<std::pair<Tensor*, Tensor*>> layers, uint32_t width)
        : layers_(std::move(layers)), width_(width) {
        for (const auto& [weight, bias] : layers_) {
            if (weight->size() != width || bias->size() != width) {
                throw InvalidArgument("invalid cross layer: " + weight->name() + " and " +
                                      bias->name() + " must have " + std::to_string(width) +
                                      " values, the input width; rebuild the model");
            }
        }
    }

    size_t size() const { return layers_.size(); }

    /// Runs the layers on x0 [rows, n] (kept, not copied, until backward()) and returns
    /// x_L [rows, n], valid until the next call.
    const float* forward(const float* x0, int64_t rows) {
        rows_ = rows;
        x0_ = x0;
        const size_t n = width_;
        outputs_.resize(layers_.size());
        dots_.resize(layers_.size());
        const float* x = x0;
        for (size_t l = 0; l < layers_.size(); ++l) {
            outputs_[l].resize(static_cast<size_t>(rows) * n);
            dots_[l].resize(static_cast<size_t>(rows));
            const float* w = layers_[l].first->data();
            const float* b = layers_[l].second->data();
            float* next = outputs_[l].data();
#pragma omp parallel for schedule(static) if (rows * n >= (1 << 14))
            for (int64_t row = 0; row < rows; ++row) {
                const float* xl = x + row * n;
                const float* first = x0 + row * n;
                float dot = 0.0f;
                for (size_t i = 0; i < n; ++i) dot += xl[i] * w[i];
                dots_[l][row] = dot;
                float* out = next + row * n;
                for (size_t i = 0; i < n; ++i) out[i] = first[i] * dot + b[i] + xl[i];
            }
            x = next;
        }
        return layers_.empty() ? x0 : outputs_.back().data();
    }

    /// Back-propagates d_out = dL/dx_L [rows, n] through the last forward() call: overwrites
    /// the layers' grads and adds dL/dx_0 into d_x0 [rows, n].
    void backward(const float* d_out, float* d_x0) {
        const int64_t rows = rows_;
        const size_t n = width_;
        std::vector<float> grad(d_out, d_out + rows * n);
        std::vector<float> previous(static_cast<size_t>(rows) * n);
        std::vector<float> dot_grads(static_cast<size_t>(rows));
        for (size_t l = layers_.size(); l-- > 0;) {
            const float* xl = l == 0 ? x0_ : outputs_[l - 1].data();
            const float* w = layers_[l].first->data();
            float* w_grad = layers_[l].first->grad();
            float* b_grad = layers_[l].second->grad();

            // Per row: d(dot) = g . x0, then dL/dx_l = g + d(dot) w and dL/dx0 += g dot.
#pragma omp parallel for schedule(static) if (rows * n >= (1 << 14))
            for (int64_t row = 0; row < rows; ++row) {
                const float* g = grad.data() + row * n;
                const float* first = x0_ + row * n;
                float dot_grad = 0.0f;
                for (size_t i = 0; i < n; ++i) dot_grad += g[i] * first[i];
                dot_grads[row] = dot_grad;
                const float dot = dots_[l][row];
                float* prev = previous.data() + row * n;
                float* dx0 = d_x0 + row * n;
                for (size_t i = 0; i < n; ++i) {
                    prev[i] = g[i] + dot_grad * w[i];
                    dx0[i] += g[i] * dot;
                }
            }
            // Reductions over rows run in row order, so the grads do not depend on threads.
            for (size_t i = 0; i < n; ++i) {
                w_grad[i] = 0.0f;
                b_grad[i] = 0.0f;
            }
            for (int64_t row = 0; row < rows; ++row) {
                const float* g = grad.data() + row * n;
                const float* x = xl + row * n;
                for (size_t i = 0; i < n; ++i) {
                    w_grad[i] += dot_grads[row] * x[i];
                    b_grad[i] += g[i];
                }
            }
            grad.swap(previous);
        }
        for (int64_t i = 0; i < rows * static_cast<int64_t>(n); ++i) d_x0[i] += grad[i];
    }

    /// FLOPs per sample: per layer a dot product (2n) and a multiply and two adds per value.
    double flops() const { return static_cast<double>(layers_.size()) * 5.0 * width_; }

private:
    std::vector<std::pair<Tensor*, Tensor*>> layers_;
    uint32_t width_;
    int64_t rows_ = 0;
    const float* x0_ = nullptr;
    std::vector<std::vector<float>> outputs_;  ///< x_1 .. x_L
    std::vector<std::vector<float>> dots_;     ///< x_l . w_l per row
};

}  // namespace recprune::nn
