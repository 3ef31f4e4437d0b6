// A fully connected layer y = x W^T + b (optionally ReLU) on oneDNN inner products, with the
// weight stored [outputs, inputs] row-major (oneDNN's plain "oi" layout) and activations in the
// plain "nc" layout, so masks and tensors need no reordering for training.
//
// Forward, backward-data and backward-weights primitives are created once per batch size and
// reused. ReLU is fused into the forward primitive as a post-op; its backward pass is a oneDNN
// eltwise primitive reading the layer's output. A forward pass without training runs an
// inference primitive on a copy of the weights in the layout oneDNN picks for it. Every
// primitive runs with a scratchpad owned by the layer, so a layer may run on a thread other
// than the one that created it.
#pragma once

#include "recprune/nn/buffer.hpp"
#include "recprune/nn/compute.hpp"
#include "recprune/sdk.hpp"

#include <oneapi/dnnl/dnnl.hpp>

#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace recprune::nn {

/// Data types of one dense layer. `compute` is the type of the weight copy and of the
/// gradients fed to the inner products (bf16 or f32); master weights and their gradients are
/// always f32.
struct DenseTypes {
    DataType compute = DataType::f32;
    DataType src = DataType::f32;
    DataType dst = DataType::f32;
    /// Type of the gradient written for the input (when the layer propagates one).
    DataType diff_src = DataType::f32;
};

/// One dense layer bound to a weight [outputs, inputs] and a bias [outputs] owned by a model.
/// Not thread-safe: one thread at a time, and the model's Compute is used from that thread.
class DenseLayer {
public:
    DenseLayer(Compute& compute, Tensor& weight, Tensor& bias, bool relu, DenseTypes types,
               bool propagate)
        : compute_(&compute), weight_(&weight), bias_(&bias), relu_(relu), types_(types),
          propagate_(propagate), outputs_(static_cast<int64_t>(weight.shape().at(0))),
          inputs_(static_cast<int64_t>(weight.shape().at(1))) {
        if (bias.size() != static_cast<uint64_t>(outputs_)) {
            throw InvalidArgument("invalid dense layer: " + bias.name() + " has " +
                                  std::to_string(bias.size()) + " values for " +
                                  std::to_string(outputs_) + " outputs of " + weight.name() +
                                  "; give one bias per output");
        }
    }

    int64_t inputs() const { return inputs_; }
    int64_t outputs() const { return outputs_; }
    bool relu() const { return relu_; }
    const DenseTypes& types() const { return types_; }

    /// Computes dst [rows, outputs] from src [rows, inputs] in the layer's data types. In
    /// bf16 the f32 weights are first rounded into the layer's bf16 copy. Without `training`
    /// the pass runs forward_inference() instead, and backward() has nothing to go back
    /// through.
    void forward(const void* src, void* dst, int64_t rows, bool training = true) {
        if (!training) {
            forward_inference(src, dst, rows);
            return;
        }
        Primitives& p = primitives(rows);
        void* weights = weight_->data();
        if (types_.compute == DataType::bf16) {
            weight_copy_.resize(outputs_ * inputs_, DataType::bf16);
            weight_converter_.run(*compute_, weight_->data(), DataType::f32,
                                  weight_copy_.data(), DataType::bf16, outputs_ * inputs_);
            weights = weight_copy_.data();
        }
        p.src.set_data_handle(const_cast<void*>(src));
        p.weights.set_data_handle(weights);
        p.bias.set_data_handle(bias_->data());
        p.dst.set_data_handle(dst);
        p.forward.execute(compute_->stream(), {{DNNL_ARG_SRC, p.src},
                                               {DNNL_ARG_WEIGHTS, p.weights},
                                               {DNNL_ARG_BIAS, p.bias},
                                               {DNNL_ARG_DST, p.dst},
                                               {DNNL_ARG_SCRATCHPAD, p.forward_scratchpad}});
    }

    /// Back-propagates diff_dst [rows, outputs] (type dst; overwritten with the gradient before
    /// ReLU) through the last forward call on the same src and dst. Overwrites the weight and
    /// bias grads and, when the layer propagates, writes diff_src [rows, inputs].
    void backward(const void* src, const void* dst, void* diff_dst, void* diff_src,
                  int64_t rows) {
        Primitives& p = primitives(rows);
        if (relu_) {
            p.dst.set_data_handle(const_cast<void*>(dst));
            p.relu_diff.set_data_handle(diff_dst);
            p.relu_backward.execute(compute_->stream(),
                                    {{DNNL_ARG_DST, p.dst},
                                     {DNNL_ARG_DIFF_DST, p.relu_diff},
                                     {DNNL_ARG_DIFF_SRC, p.relu_diff},
                                     {DNNL_ARG_SCRATCHPAD, p.relu_scratchpad}});
        }
        // The inner products read the gradient in the compute type; an f32 output of a bf16
        // layer (the last layer of a tower) is rounded here.
        void* gradient = diff_dst;
        if (types_.dst != types_.compute) {
            diff_copy_.resize(rows * outputs_, types_.compute);
            diff_converter_.run(*compute_, diff_dst, types_.dst, diff_copy_.data(),
                                types_.compute, rows * outputs_);
            gradient = diff_copy_.data();
        }
        p.src.set_data_handle(const_cast<void*>(src));
        p.diff_dst.set_data_handle(gradient);
        p.diff_weights.set_data_handle(weight_->grad());
        p.diff_bias.set_data_handle(bias_->grad());
        p.backward_weights.execute(compute_->stream(),
                                   {{DNNL_ARG_SRC, p.src},
                                    {DNNL_ARG_DIFF_DST, p.diff_dst},
                                    {DNNL_ARG_DIFF_WEIGHTS, p.diff_weights},
                                    {DNNL_ARG_DIFF_BIAS, p.diff_bias},
                                    {DNNL_ARG_SCRATCHPAD, p.backward_weights_scratchpad}});
        if (propagate_) {
            // The weights did not change since forward, so the bf16 copy is still current.
            void* weights = types_.compute == DataType::bf16 ? weight_copy_.data()
                                                             : static_cast<void*>(weight_->data());
            p.weights.set_data_handle(weights);
            p.diff_src.set_data_handle(diff_src);
            p.backward_data.execute(compute_->stream(),
                                    {{DNNL_ARG_DIFF_DST, p.diff_dst},
                                     {DNNL_ARG_WEIGHTS, p.weights},
                                     {DNNL_ARG_DIFF_SRC, p.diff_src},
                                     {DNNL_ARG_SCRATCHPAD, p.backward_data_scratchpad}});
        }
    }

    /// Returns the oneDNN implementation names of the forward primitive (for reports).
    std::string implementation(int64_t rows) { return primitives(rows).forward_impl; }

private:
    /// The weights in one layout (and type) an inference primitive reads, and the reorder that
    /// makes them from the f32 weight tensor.
    struct PackedWeights {
        dnnl::memory::desc desc;
        dnnl::memory memory;
        dnnl::reorder pack;
        /// weights_version_ that `memory` was made from; none yet at first.
        uint64_t version = UINT64_MAX;
    };

    /// The inference primitive of one batch size. `packed` is NULL when the primitive reads
    /// the f32 tensor as it is (plain layout, f32).
    struct Inference {
        dnnl::inner_product_forward forward;
        dnnl::memory src, dst, bias, scratchpad;
        PackedWeights* packed = nullptr;
    };

    struct Primitives {
        dnnl::inner_product_forward forward;
        dnnl::inner_product_backward_data backward_data;
        dnnl::inner_product_backward_weights backward_weights;
        dnnl::eltwise_backward relu_backward;
        dnnl::memory src, weights, bias, dst, diff_dst, diff_src, diff_weights, diff_bias,
            relu_diff;
        dnnl::memory forward_scratchpad, backward_data_scratchpad, backward_weights_scratchpad,
            relu_scratchpad;
        std::string forward_impl;
    };

    /// forward() without training: oneDNN's inference primitive on weights in the layout it
    /// picks, which made the dense benchmark DeepFM 9% (1 thread) to 18% (2 threads) faster
    /// than the training primitive on the plain layout. The host may change the tensor between
    /// calls (a mask, an optimizer step) without a signal to the model, so the copy in that
    /// layout is made again whenever the weights differ from the snapshot of the last copy.
    /// The comparison costs one read of the weights and the snapshot. Making the copy on every
    /// call took 0.065 ms of the 2.7 ms pass of the half-size compacted benchmark DeepFM.
    /// Inference primitives are kept apart from the training ones, and batch sizes whose
    /// primitives pick one layout share one copy: evaluation in top-K full ranking changes
    /// the batch size on almost every call.
    void forward_inference(const void* src, void* dst, int64_t rows) {
        Inference& i = inference(rows);
        master_.set_data_handle(weight_->data());
        if (i.packed != nullptr) {
            refresh_snapshot();
            if (i.packed->version != weights_version_) {
                i.packed->pack.execute(compute_->stream(), master_, i.packed->memory);
                i.packed->version = weights_version_;
            }
        }
        i.src.set_data_handle(const_cast<void*>(src));
        i.dst.set_data_handle(dst);
        i.bias.set_data_handle(bias_->data());
        i.forward.execute(compute_->stream(),
                          {{DNNL_ARG_SRC, i.src},
                           {DNNL_ARG_WEIGHTS, i.packed != nullptr ? i.packed->memory : master_},
                           {DNNL_ARG_BIAS, i.bias},
                           {DNNL_ARG_DST, i.dst},
                           {DNNL_ARG_SCRATCHPAD, i.scratchpad}});
    }

    /// Compares the weight tensor with the snapshot of the last packed weights, bit for bit.
    /// When they differ, takes a new snapshot and counts a new version.
    void refresh_snapshot() {
        const float* weights = weight_->data();
        const size_t count = static_cast<size_t>(outputs_ * inputs_);
        if (snapshot_.size() == count &&
            std::memcmp(snapshot_.data(), weights, count * sizeof(float)) == 0) {
            return;
        }
        snapshot_.assign(weights, weights + count);
        ++weights_version_;
    }

    static dnnl::memory::desc matrix(int64_t rows, int64_t columns, DataType type,
                                     dnnl::memory::format_tag tag) {
        return dnnl::memory::desc({rows, columns}, type, tag);
    }

    dnnl::memory empty_memory(const dnnl::memory::desc& desc) {
        return dnnl::memory(desc, compute_->engine(), DNNL_MEMORY_NONE);
    }

    /// Returns memory for a primitive's scratchpad (allocated by oneDNN, owned by the memory).
    dnnl::memory scratchpad(const dnnl::primitive_desc_base& pd) {
        return dnnl::memory(pd.scratchpad_desc(), compute_->engine());
    }

    /// Describes the forward inner product of `kind` for batches of `rows` on weights
    /// `weights_md`, with ReLU fused when the layer has it and a user scratchpad.
    dnnl::inner_product_forward::primitive_desc forward_desc(dnnl::prop_kind kind, int64_t rows,
                                                             const dnnl::memory::desc& weights_md) {
        using tag = dnnl::memory::format_tag;
        using namespace dnnl;
        // A primitive_attr of its own: the attribute is a shared handle, so a copy of the
        // backward primitives' attribute would add the post-op to them too, which oneDNN
        // rejects.
        primitive_attr attr;
        attr.set_scratchpad_mode(scratchpad_mode::user);
        if (relu_) {
            post_ops ops;
            ops.append_eltwise(1.0f, algorithm::eltwise_relu, 0.0f, 0.0f);
            attr.set_post_ops(ops);
        }
        return inner_product_forward::primitive_desc(
            inner_product_forward::desc(kind, matrix(rows, inputs_, types_.src, tag::nc),
                                        weights_md,
                                        memory::desc({outputs_}, DataType::f32, tag::x),
                                        matrix(rows, outputs_, types_.dst, tag::nc)),
            attr, compute_->engine());
    }

    /// Returns the inference primitive for `rows`, created on first use, with the packed
    /// weights of its layout.
    Inference& inference(int64_t rows) {
        const auto found = inference_cache_.find(rows);
        if (found != inference_cache_.end()) return found->second;
        // Known limit: as for primitives(), at most kMaxShapes batch sizes are kept.
        if (inference_cache_.size() >= kMaxShapes) inference_cache_.clear();

        using tag = dnnl::memory::format_tag;
        using namespace dnnl;
        const inner_product_forward::primitive_desc pd = forward_desc(
            prop_kind::forward_inference, rows,
            matrix(outputs_, inputs_, types_.compute, tag::any));
        Inference i;
        i.forward = inner_product_forward(pd);
        i.scratchpad = scratchpad(pd);
        i.src = empty_memory(pd.src_desc());
        i.dst = empty_memory(pd.dst_desc());
        i.bias = empty_memory(pd.bias_desc());
        if (!master_) master_ = empty_memory(matrix(outputs_, inputs_, DataType::f32, tag::oi));
        if (pd.weights_desc() != master_.get_desc()) i.packed = &packed_weights(pd.weights_desc());
        return inference_cache_.emplace(rows, std::move(i)).first->second;
    }

    /// Returns the packed copy in layout `desc`, made on first use. Batch sizes rarely lead
    /// oneDNN to more than one or two layouts. Beyond kMaxShapes layouts, the copies and the
    /// inference primitives that point at them are dropped and made again.
    PackedWeights& packed_weights(const dnnl::memory::desc& desc) {
        for (const std::unique_ptr<PackedWeights>& packed : packed_) {
            if (packed->desc == desc) return *packed;
        }
        if (packed_.size() >= kMaxShapes) {
            inference_cache_.clear();
            packed_.clear();
        }
        auto packed = std::make_unique<PackedWeights>();
        packed->desc = desc;
        packed->memory = dnnl::memory(desc, compute_->engine());
        packed->pack = dnnl::reorder(master_, packed->memory);
        packed_.push_back(std::move(packed));
        return *packed_.back();
    }

    Primitives& primitives(int64_t rows) {
        const auto found = cache_.find(rows);
        if (found != cache_.end()) return found->second;
        // Known limit: one set of primitives per distinct batch size; the cache is cleared when
        // it holds more than kMaxShapes sizes, so alternating among many sizes re-creates them.
        if (cache_.size() >= kMaxShapes) cache_.clear();

        using tag = dnnl::memory::format_tag;
        using namespace dnnl;
        const memory::desc src_md = matrix(rows, inputs_, types_.src, tag::nc);
        const memory::desc weights_md = matrix(outputs_, inputs_, types_.compute, tag::oi);
        const memory::desc bias_md({outputs_}, DataType::f32, tag::x);
        const memory::desc dst_md = matrix(rows, outputs_, types_.dst, tag::nc);
        const memory::desc diff_dst_md = matrix(rows, outputs_, types_.compute, tag::nc);
        const memory::desc diff_src_md = matrix(rows, inputs_, types_.diff_src, tag::nc);
        const memory::desc diff_weights_md = matrix(outputs_, inputs_, DataType::f32, tag::oi);

        primitive_attr attr;
        attr.set_scratchpad_mode(scratchpad_mode::user);
        const inner_product_forward::primitive_desc forward_pd =
            forward_desc(prop_kind::forward_training, rows, weights_md);

        Primitives p;
        p.forward = inner_product_forward(forward_pd);
        p.forward_impl = forward_pd.impl_info_str();
        p.forward_scratchpad = scratchpad(forward_pd);
        const inner_product_backward_weights::primitive_desc weights_pd(
            inner_product_backward_weights::desc(src_md, diff_weights_md, bias_md, diff_dst_md),
            attr, compute_->engine(), forward_pd);
        p.backward_weights = inner_product_backward_weights(weights_pd);
        p.backward_weights_scratchpad = scratchpad(weights_pd);
        if (propagate_) {
            const inner_product_backward_data::primitive_desc data_pd(
                inner_product_backward_data::desc(diff_src_md, weights_md, diff_dst_md), attr,
                compute_->engine(), forward_pd);
            p.backward_data = inner_product_backward_data(data_pd);
            p.backward_data_scratchpad = scratchpad(data_pd);
        }
        if (relu_) {
            // The hint describes the ReLU the forward post-op computed; it is never executed.
            const eltwise_forward::primitive_desc relu_hint(
                eltwise_forward::desc(prop_kind::forward_training,
                                      algorithm::eltwise_relu_use_dst_for_bwd, dst_md, 0.0f),
                attr, compute_->engine());
            const eltwise_backward::primitive_desc relu_pd(
                eltwise_backward::desc(algorithm::eltwise_relu_use_dst_for_bwd, dst_md, dst_md,
                                       0.0f),
                attr, compute_->engine(), relu_hint);
            p.relu_backward = eltwise_backward(relu_pd);
            p.relu_scratchpad = scratchpad(relu_pd);
        }
        p.src = empty_memory(src_md);
        p.weights = empty_memory(weights_md);
        p.bias = empty_memory(bias_md);
        p.dst = empty_memory(dst_md);
        p.diff_dst = empty_memory(diff_dst_md);
        p.diff_src = empty_memory(diff_src_md);
        p.diff_weights = empty_memory(diff_weights_md);
        p.diff_bias = empty_memory(bias_md);
        p.relu_diff = empty_memory(dst_md);
        return cache_.emplace(rows, std::move(p)).first->second;
    }

    Compute* compute_;
    Tensor* weight_;
    Tensor* bias_;
    bool relu_;
    DenseTypes types_;
    bool propagate_;
    int64_t outputs_;
    int64_t inputs_;
    Buffer weight_copy_;  ///< bf16 rounding of the weights, refreshed by every forward call
    Buffer diff_copy_;    ///< diff_dst in the compute type when dst has another type
    std::vector<float> snapshot_;    ///< the weights the inference copies were last made from
    uint64_t weights_version_ = 0;   ///< counts changes of snapshot_
    Converter weight_converter_;
    Converter diff_converter_;
    std::map<int64_t, Primitives> cache_;
    /// Batch sizes kept in each primitive cache.
    static constexpr size_t kMaxShapes = 8;
    std::map<int64_t, Inference> inference_cache_;
    /// Packed copies by layout; the inference primitives point at them.
    std::vector<std::unique_ptr<PackedWeights>> packed_;
    dnnl::memory master_;  ///< the f32 weight tensor, as oneDNN memory without its own buffer
};

}  // namespace recprune::nn
