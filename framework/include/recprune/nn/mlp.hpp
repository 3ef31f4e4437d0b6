// A multilayer perceptron of DenseLayers with ReLU on the hidden layers and optional dropout
// after each ReLU. In bf16 the input is rounded to bf16 once, hidden activations stay bf16 and
// the output is f32; gradients leave the MLP in f32.
#pragma once

#include "recprune/nn/buffer.hpp"
#include "recprune/nn/compute.hpp"
#include "recprune/nn/dense.hpp"
#include "recprune/nn/random.hpp"
#include "recprune/sdk.hpp"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace recprune::nn {

/// A stack of dense layers. Not thread-safe (see DenseLayer).
class Mlp {
public:
    /// `layers` are (weight, bias) pairs, weight [outputs, inputs], in order. Every layer but
    /// the last has ReLU; the last has it when `final_relu`. `dropout` is the probability of
    /// zeroing each ReLU output in training. With `propagate_input`, backward() also returns
    /// the gradient of the input.
    Mlp(Compute& compute, const std::vector<std::pair<Tensor*, Tensor*>>& layers,
        bool final_relu, double dropout, uint64_t seed, bool propagate_input)
        : compute_(&compute), dropout_(static_cast<float>(dropout)), seed_(seed) {
        if (layers.empty()) throw InvalidArgument("invalid MLP: no layers; give at least one");
        const bool bf16 = compute.precision() == Precision::Bf16;
        const DataType compute_type = bf16 ? DataType::bf16 : DataType::f32;
        for (size_t l = 0; l < layers.size(); ++l) {
            const bool last = l + 1 == layers.size();
            DenseTypes types;
            types.compute = compute_type;
            types.src = compute_type;
            types.dst = last ? DataType::f32 : compute_type;
            types.diff_src = l == 0 ? DataType::f32 : compute_type;
            const bool propagate = l > 0 || propagate_input;
            layers_.emplace_back(compute, *layers[l].first, *layers[l].second,
                                 !last || final_relu, types, propagate);
            if (l > 0 && layers_[l].inputs() != layers_[l - 1].outputs()) {
                throw InvalidArgument("invalid MLP: " + layers[l].first->name() + " takes " +
                                      std::to_string(layers_[l].inputs()) + " inputs but " +
                                      layers[l - 1].first->name() + " gives " +
                                      std::to_string(layers_[l - 1].outputs()) +
                                      "; chain matching sizes");
            }
        }
        activations_.resize(layers_.size());
        gradients_.resize(layers_.size());
        dropout_masks_.resize(layers_.size());
    }

    int64_t input_width() const { return layers_.front().inputs(); }
    int64_t output_width() const { return layers_.back().outputs(); }
    size_t size() const { return layers_.size(); }
    DenseLayer& layer(size_t l) { return layers_[l]; }

    /// Runs the MLP on input [rows, input_width()] (f32) and returns the f32 output
    /// [rows, output_width()], valid until the next call. With `training`, applies dropout
    /// and keeps what backward() needs.
    const float* forward(const float* input, int64_t rows, bool training) {
        rows_ = rows;
        const void* src = input;
        if (layers_[0].types().src == DataType::bf16) {
            input_copy_.resize(rows * input_width(), DataType::bf16);
            input_converter_.run(*compute_, input, DataType::f32, input_copy_.data(),
                                 DataType::bf16, rows * input_width());
            src = input_copy_.data();
        } else {
            input_ = input;
        }
        for (size_t l = 0; l < layers_.size(); ++l) {
            DenseLayer& layer = layers_[l];
            activations_[l].resize(rows * layer.outputs(), layer.types().dst);
            layer.forward(src, activations_[l].data(), rows, training);
            if (training && dropout_ > 0.0f && layer.relu()) apply_dropout(l, rows);
            src = activations_[l].data();
        }
        ++forward_calls_;
        return activations_.back().f32();
    }

    /// Back-propagates d_output [rows, output_width()] (f32) through the last training forward
    /// call; overwrites every layer's grads and, when the MLP propagates its input, writes
    /// d_input [rows, input_width()] (f32).
    void backward(const float* d_output, float* d_input) {
        const int64_t rows = rows_;
        const size_t last = layers_.size() - 1;
        gradients_[last].resize(rows * output_width(), DataType::f32);
        convert(d_output, DataType::f32, gradients_[last].data(), DataType::f32,
                rows * output_width());
        for (size_t l = last + 1; l-- > 0;) {
            DenseLayer& layer = layers_[l];
            if (dropout_ > 0.0f && layer.relu()) scale_by_mask(l, rows);
            const void* src = l > 0 ? activations_[l - 1].data() : layer_input();
            void* diff_src = nullptr;
            if (l > 0) {
                gradients_[l - 1].resize(rows * layer.inputs(), layer.types().diff_src);
                diff_src = gradients_[l - 1].data();
            } else {
                diff_src = d_input;
            }
            layer.backward(src, activations_[l].data(), gradients_[l].data(), diff_src, rows);
        }
    }

private:
    const void* layer_input() const {
        return layers_[0].types().src == DataType::bf16 ? input_copy_.data() : input_;
    }

    /// Zeroes each output of layer l with probability p and scales the others by 1 / (1 - p)
    /// (inverted dropout), recording the mask for backward().
    void apply_dropout(size_t l, int64_t rows) {
        const int64_t count = rows * layers_[l].outputs();
        std::vector<uint8_t>& mask = dropout_masks_[l];
        mask.resize(static_cast<size_t>(count));
        Rng rng(derive_seed(seed_ + forward_calls_, "dropout." + std::to_string(l)));
        const auto threshold = static_cast<uint64_t>(static_cast<double>(dropout_) * 0x1.0p32);
        for (int64_t i = 0; i < count; i += 2) {
            const uint64_t bits = rng.next();
            mask[i] = (bits & 0xffffffffu) >= threshold;
            if (i + 1 < count) mask[i + 1] = (bits >> 32) >= threshold;
        }
        scale_by_mask_values(activations_[l], mask, count);
    }

    void scale_by_mask(size_t l, int64_t rows) {
        scale_by_mask_values(gradients_[l], dropout_masks_[l], rows * layers_[l].outputs());
    }

    void scale_by_mask_values(Buffer& buffer, const std::vector<uint8_t>& mask, int64_t count) {
        const float scale = 1.0f / (1.0f - dropout_);
        if (buffer.type() == DataType::f32) {
            float* values = buffer.f32();
            for (int64_t i = 0; i < count; ++i) values[i] = mask[i] ? values[i] * scale : 0.0f;
            return;
        }
        auto* values = static_cast<uint16_t*>(buffer.data());
        for (int64_t i = 0; i < count; ++i) {
            values[i] = mask[i] ? to_bf16(from_bf16(values[i]) * scale) : uint16_t{0};
        }
    }

    Compute* compute_;
    std::vector<DenseLayer> layers_;
    float dropout_;
    uint64_t seed_;
    uint64_t forward_calls_ = 0;
    int64_t rows_ = 0;
    const float* input_ = nullptr;        ///< f32 input of the last forward call (not owned)
    Buffer input_copy_;                   ///< bf16 rounding of the input
    Converter input_converter_;
    std::vector<Buffer> activations_;     ///< per layer output
    std::vector<Buffer> gradients_;       ///< per layer gradient of the output
    std::vector<std::vector<uint8_t>> dropout_masks_;
};

}  // namespace recprune::nn
