// Times one training step of recprune's DeepFM (the deepfm plugin's forward and backward
// through the C ABI, then the host's SGD step with sparse embedding updates) and of a bare
// oneDNN MLP with the same dense shape, on synthetic data. Prints one JSON line per run.
//
//   bench_models --mode recprune|onednn_mlp|embedding_floor --precision f32|bf16 --threads N
//                [--steps 10] [--repeats 5] [--warmup 3]
//
// Shape (the usual Criteo-like DeepFM benchmark): batch 4096, 26 fields of 10,000 rows with
// 16-dim embeddings, FM term, MLP 416-256-128-1, BCE-with-logits loss, SGD lr 0.01.
#include "bench_support.hpp"
#include "grid/grid.hpp"
#include "recprune/abi.h"
#include "recprune/nn/buffer.hpp"
#include "recprune/nn/compute.hpp"
#include "train/optimizer.hpp"

#include <nlohmann/json.hpp>
#include <oneapi/dnnl/dnnl.hpp>

#include <dlfcn.h>
#include <omp.h>

#include <algorithm>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <iostream>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using namespace bench;

constexpr float kLearningRate = 0.01f;

struct Options : CommonOptions {
    std::string mode = "recprune";
};

Options parse(int argc, char** argv) {
    Options options;
    parse_options(argc, argv, options, [&](const std::string& key, const std::string& value) {
        if (key != "--mode") return false;
        options.mode = value;
        return true;
    });
    return options;
}

/// d(mean BCE-with-logits)/d(logit) = (sigmoid(z) - y) / batch.
void bce_gradient(const float* logits, const float* labels, float* grads, int64_t rows) {
    for (int64_t r = 0; r < rows; ++r) {
        const float p = 1.0f / (1.0f + std::exp(-logits[r]));
        grads[r] = (p - labels[r]) / static_cast<float>(rows);
    }
}

json timing_json(const StepTime& time) {
    return {{"step_ms", time.wall * 1e3},
            {"samples_per_second", kBatch / time.wall},
            {"cpu_ms_per_step", time.cpu * 1e3}};
}

/// recprune's DeepFM step: plugin forward + backward through the C ABI, host SGD.
json run_recprune(const Options& options) {
    const recprune_model_api_t& api = load_model_api(RECPRUNE_BENCH_PLUGIN_DIR, "deepfm");
    ErrorText error;
    const std::string schema = benchmark_schema();
    const std::string params = json{{"embedding_dim", kDim},
                                    {"hidden_layers", {kHidden1, kHidden2}},
                                    {"precision", options.precision}}
                                   .dump();
    recprune_model_t model = nullptr;
    check("create", api.create(bench_host(), params.c_str(), schema.c_str(), 1, &model,
                               &error.sink),
          error);
    const recprune_tensor_t* tensor_array = nullptr;
    uint32_t tensor_count = 0;
    check("get_tensors", api.get_tensors(model, &tensor_array, &tensor_count, &error.sink),
          error);
    const std::span<const recprune_tensor_t> tensors(tensor_array, tensor_count);

    recprune::grid::TrainingSettings settings;
    settings.optimizer = "sgd";
    settings.momentum = 0.0;
    settings.lr = kLearningRate;
    recprune::train::Optimizer optimizer(settings, tensors);

    Batches data;
    std::vector<float> logits(kBatch), grads(kBatch);
    auto step = [&](int counter) {
        const recprune_batch_t batch = data.view(counter);
        check("forward", api.forward(model, &batch, 1, logits.data(), &error.sink), error);
        bce_gradient(logits.data(), batch.labels, grads.data(), kBatch);
        check("backward", api.backward(model, &batch, grads.data(), &error.sink), error);
        optimizer.step(
            tensors,
            [&](uint32_t t) -> std::span<const uint32_t> {
                const uint32_t* rows = nullptr;
                uint64_t count = 0;
                check("touched_rows", api.touched_rows(model, t, &rows, &count, &error.sink),
                      error);
                return {rows, count};
            },
            nullptr);
    };
    const StepTime time =
        time_steps(options.warmup, options.repeats, options.steps, step);

    const char* structure = nullptr;
    check("get_structure", api.get_structure(model, &structure, &error.sink), error);
    const json compute = json::parse(structure).at("compute");
    api.destroy(model);
    json result = {{"mode", "recprune"}, {"precision", compute.at("precision")},
                   {"isa", compute.at("isa")}, {"threads", options.threads}};
    result.update(timing_json(time));
    return result;
}

/// A bare oneDNN MLP step of the DeepFM MLP's shape: inner products in plain layouts with
/// ReLU fused as a post-op, all three backward-weights passes, backward-data for every layer
/// (the first one because the embeddings need their gradient), ReLU backward from dst, and an
/// SGD update of the f32 weights. No embedding work: this is the dense part's ceiling.
json run_onednn_mlp(const Options& options) {
    using namespace dnnl;
    using tag = memory::format_tag;
    using dt = memory::data_type;
    engine eng(engine::kind::cpu, 0);
    stream strm(eng);
    const bool bf16 = options.precision == "bf16";
    const dt compute = bf16 ? dt::bf16 : dt::f32;
    const int64_t sizes[] = {kFields * kDim, kHidden1, kHidden2, 1};
    constexpr int kLayers = 3;

    struct Layer {
        inner_product_forward fwd;
        inner_product_backward_data bwd_data;
        inner_product_backward_weights bwd_weights;
        eltwise_backward relu_bwd;
        std::vector<float> weights, bias, weights_grad, bias_grad;
        recprune::nn::Buffer weights_copy, out, out_grad, in_grad;
        memory::desc src_md, w_md, b_md, dst_md, diff_dst_md, diff_src_md, diff_w_md;
        bool relu = false;
    };
    std::vector<Layer> layers(kLayers);
    std::mt19937_64 rng(7);
    for (int l = 0; l < kLayers; ++l) {
        Layer& layer = layers[l];
        const int64_t in = sizes[l], out = sizes[l + 1];
        const bool last = l + 1 == kLayers;
        layer.relu = !last;
        const dt dst_type = last ? dt::f32 : compute;
        layer.src_md = memory::desc({kBatch, in}, compute, tag::nc);
        layer.w_md = memory::desc({out, in}, compute, tag::oi);
        layer.b_md = memory::desc({out}, dt::f32, tag::x);
        layer.dst_md = memory::desc({kBatch, out}, dst_type, tag::nc);
        layer.diff_dst_md = memory::desc({kBatch, out}, compute, tag::nc);
        layer.diff_src_md = memory::desc({kBatch, in}, l == 0 ? dt::f32 : compute, tag::nc);
        layer.diff_w_md = memory::desc({out, in}, dt::f32, tag::oi);
        primitive_attr fwd_attr;
        if (layer.relu) {
            post_ops ops;
            ops.append_eltwise(1.0f, algorithm::eltwise_relu, 0.0f, 0.0f);
            fwd_attr.set_post_ops(ops);
        }
        inner_product_forward::primitive_desc fwd_pd(
            inner_product_forward::desc(prop_kind::forward_training, layer.src_md, layer.w_md,
                                        layer.b_md, layer.dst_md),
            fwd_attr, eng);
        layer.fwd = inner_product_forward(fwd_pd);
        layer.bwd_data = inner_product_backward_data(inner_product_backward_data::primitive_desc(
            inner_product_backward_data::desc(layer.diff_src_md, layer.w_md, layer.diff_dst_md),
            eng, fwd_pd));
        layer.bwd_weights =
            inner_product_backward_weights(inner_product_backward_weights::primitive_desc(
                inner_product_backward_weights::desc(layer.src_md, layer.diff_w_md, layer.b_md,
                                                     layer.diff_dst_md),
                eng, fwd_pd));
        if (layer.relu) {
            eltwise_forward::primitive_desc hint(
                eltwise_forward::desc(prop_kind::forward_training,
                                      algorithm::eltwise_relu_use_dst_for_bwd, layer.dst_md, 0.0f),
                eng);
            layer.relu_bwd = eltwise_backward(eltwise_backward::primitive_desc(
                eltwise_backward::desc(algorithm::eltwise_relu_use_dst_for_bwd, layer.dst_md,
                                       layer.dst_md, 0.0f),
                eng, hint));
        }
        const float limit = std::sqrt(6.0f / static_cast<float>(in + out));
        layer.weights.resize(in * out);
        for (float& w : layer.weights) {
            w = static_cast<float>(((rng() >> 11) * 0x1.0p-53 * 2.0 - 1.0) * limit);
        }
        layer.bias.assign(out, 0.0f);
        layer.weights_grad.resize(in * out);
        layer.bias_grad.resize(out);
        layer.weights_copy.resize(in * out, compute);
        layer.out.resize(kBatch * out, dst_type);
        layer.out_grad.resize(kBatch * out, compute);
        layer.in_grad.resize(kBatch * in, l == 0 ? dt::f32 : compute);
    }

    // The MLP input (what the embedding lookup would write), in the compute type.
    recprune::nn::Buffer input;
    input.resize(kBatch * sizes[0], compute);
    std::vector<float> input_f32(kBatch * sizes[0]);
    for (float& x : input_f32) x = static_cast<float>(((rng() >> 11) * 0x1.0p-53 - 0.5) * 0.02);
    recprune::nn::convert(input_f32.data(), dt::f32, input.data(), compute,
                          static_cast<int64_t>(input_f32.size()));
    Batches data;
    std::vector<float> grads(kBatch);
    recprune::nn::Buffer last_grad;
    last_grad.resize(kBatch, compute);

    auto mem = [&](const memory::desc& md, void* ptr) { return memory(md, eng, ptr); };
    auto step = [&](int counter) {
        const float* labels = data.labels[counter % kBatchCount].data();
        const void* src = input.data();
        for (Layer& layer : layers) {
            void* w = layer.weights.data();
            if (bf16) {
                recprune::nn::convert(layer.weights.data(), dt::f32, layer.weights_copy.data(),
                                      dt::bf16, static_cast<int64_t>(layer.weights.size()));
                w = layer.weights_copy.data();
            }
            layer.fwd.execute(strm, {{DNNL_ARG_SRC, mem(layer.src_md, const_cast<void*>(src))},
                                     {DNNL_ARG_WEIGHTS, mem(layer.w_md, w)},
                                     {DNNL_ARG_BIAS, mem(layer.b_md, layer.bias.data())},
                                     {DNNL_ARG_DST, mem(layer.dst_md, layer.out.data())}});
            src = layer.out.data();
        }
        bce_gradient(layers.back().out.f32(), labels, grads.data(), kBatch);
        recprune::nn::convert(grads.data(), dt::f32, last_grad.data(), compute, kBatch);
        void* diff = last_grad.data();
        for (int l = kLayers - 1; l >= 0; --l) {
            Layer& layer = layers[l];
            if (layer.relu) {
                layer.relu_bwd.execute(strm, {{DNNL_ARG_DST, mem(layer.dst_md, layer.out.data())},
                                              {DNNL_ARG_DIFF_DST, mem(layer.dst_md, diff)},
                                              {DNNL_ARG_DIFF_SRC, mem(layer.dst_md, diff)}});
            }
            const void* layer_src = l == 0 ? input.data() : layers[l - 1].out.data();
            void* w = bf16 ? layer.weights_copy.data() : static_cast<void*>(layer.weights.data());
            layer.bwd_weights.execute(
                strm, {{DNNL_ARG_SRC, mem(layer.src_md, const_cast<void*>(layer_src))},
                       {DNNL_ARG_DIFF_DST, mem(layer.diff_dst_md, diff)},
                       {DNNL_ARG_DIFF_WEIGHTS, mem(layer.diff_w_md, layer.weights_grad.data())},
                       {DNNL_ARG_DIFF_BIAS, mem(layer.b_md, layer.bias_grad.data())}});
            layer.bwd_data.execute(strm,
                                   {{DNNL_ARG_DIFF_DST, mem(layer.diff_dst_md, diff)},
                                    {DNNL_ARG_WEIGHTS, mem(layer.w_md, w)},
                                    {DNNL_ARG_DIFF_SRC, mem(layer.diff_src_md,
                                                            layer.in_grad.data())}});
            diff = layer.in_grad.data();
        }
        strm.wait();
        for (Layer& layer : layers) {
            for (size_t i = 0; i < layer.weights.size(); ++i) {
                layer.weights[i] -= kLearningRate * layer.weights_grad[i];
            }
            for (size_t i = 0; i < layer.bias.size(); ++i) {
                layer.bias[i] -= kLearningRate * layer.bias_grad[i];
            }
        }
    };
    const StepTime time =
        time_steps(options.warmup, options.repeats, options.steps, step);
    json result = {{"mode", "onednn_mlp"}, {"precision", options.precision},
                   {"isa", recprune::nn::isa_name(get_effective_cpu_isa())},
                   {"threads", options.threads}};
    result.update(timing_json(time));
    return result;
}

/// Times the embedding work of a training step of the benchmark shape alone, done in as few
/// passes over memory as sparse SGD allows, without the MLP, the FM term or any layout the
/// MLP needs:
/// - forward: reads each sample's 16-float row and first-order weight of every field and
///   writes the row to a field-major buffer, the one write the MLP's input needs;
/// - backward: adds a gradient row (read in order from a field-major buffer) and a
///   first-order gradient into each sample's grad rows, the first touch of a row overwriting
///   it, and lists the touched rows in ascending order;
/// - update: w -= lr * g over the touched rows of every table, in ascending order.
/// Threads take groups of whole fields, so no two threads write one table. A step of
/// recprune's model does at least this work. So bare MLP step + this step estimates the
/// fastest step any implementation with f32 tables and sparse SGD could reach on the machine.
json run_embedding_floor(const Options& options) {
    std::mt19937_64 rng(17);
    struct Field {
        std::vector<float> table, grad, weights, weight_grads;
        std::vector<uint64_t> touched_bits;
        std::vector<uint32_t> touched;
    };
    std::vector<Field> fields(kFields);
    for (Field& field : fields) {
        field.table = uniform_floats(rng, size_t{kRows} * kDim);
        field.grad.assign(size_t{kRows} * kDim, 0.0f);
        field.weights = uniform_floats(rng, kRows);
        field.weight_grads.assign(kRows, 0.0f);
        field.touched_bits.assign((kRows + 63) / 64, 0);
    }
    // What the forward pass hands the MLP and what the MLP hands back, field-major.
    std::vector<float> pooled(size_t{kFields} * kBatch * kDim);
    const std::vector<float> pooled_grad = uniform_floats(rng, size_t{kFields} * kBatch * kDim);
    const std::vector<float> logit_grad = uniform_floats(rng, kBatch);
    std::vector<float> first_order_sums(kFields);  // one per field, so threads write apart
    const Batches data;
    constexpr uint64_t kAhead = 32;  // as EmbeddingBag's prefetch distance

    auto step = [&](int counter) {
        const recprune_batch_t batch = data.view(counter);
#pragma omp parallel
        {
            const uint32_t groups = static_cast<uint32_t>(omp_get_num_threads());
            const uint32_t group = static_cast<uint32_t>(omp_get_thread_num());
            for (uint32_t f = kFields * group / groups; f < kFields * (group + 1) / groups; ++f) {
                Field& field = fields[f];
                const uint32_t* ids = batch.ids[f];
                float* out = pooled.data() + size_t{f} * kBatch * kDim;
                float sum = 0.0f;
                for (int64_t row = 0; row < kBatch; ++row) {
                    if (row + kAhead < kBatch) {
                        __builtin_prefetch(field.table.data() + size_t{ids[row + kAhead]} * kDim);
                    }
                    const float* from = field.table.data() + size_t{ids[row]} * kDim;
                    for (uint32_t d = 0; d < kDim; ++d) out[row * kDim + d] = from[d];
                    sum += field.weights[ids[row]];
                }
                first_order_sums[f] = sum;  // keeps the first-order reads
            }
#pragma omp barrier
            for (uint32_t f = kFields * group / groups; f < kFields * (group + 1) / groups; ++f) {
                Field& field = fields[f];
                const uint32_t* ids = batch.ids[f];
                const float* in = pooled_grad.data() + size_t{f} * kBatch * kDim;
                field.touched.clear();
                for (int64_t row = 0; row < kBatch; ++row) {
                    if (row + kAhead < kBatch) {
                        __builtin_prefetch(field.grad.data() + size_t{ids[row + kAhead]} * kDim, 1);
                    }
                    const uint32_t id = ids[row];
                    float* dst = field.grad.data() + size_t{id} * kDim;
                    uint64_t& word = field.touched_bits[id / 64];
                    const uint64_t bit = uint64_t{1} << (id % 64);
                    if ((word & bit) == 0) {
                        word |= bit;
                        for (uint32_t d = 0; d < kDim; ++d) dst[d] = in[row * kDim + d];
                        field.weight_grads[id] = logit_grad[row];
                    } else {
                        for (uint32_t d = 0; d < kDim; ++d) dst[d] += in[row * kDim + d];
                        field.weight_grads[id] += logit_grad[row];
                    }
                }
                for (size_t w = 0; w < field.touched_bits.size(); ++w) {
                    for (uint64_t bits = field.touched_bits[w]; bits != 0; bits &= bits - 1) {
                        field.touched.push_back(
                            static_cast<uint32_t>(w * 64 + std::countr_zero(bits)));
                    }
                    field.touched_bits[w] = 0;
                }
                for (uint32_t id : field.touched) {
                    float* w = field.table.data() + size_t{id} * kDim;
                    const float* g = field.grad.data() + size_t{id} * kDim;
                    for (uint32_t d = 0; d < kDim; ++d) w[d] -= kLearningRate * g[d];
                    field.weights[id] -= kLearningRate * field.weight_grads[id];
                }
            }
        }
    };
    const StepTime time = time_steps(options.warmup, options.repeats, options.steps, step);
    json result = {{"mode", "embedding_floor"}, {"precision", "f32"},
                   {"isa", recprune::nn::isa_name(dnnl::get_effective_cpu_isa())},
                   {"threads", options.threads}};
    result.update(timing_json(time));
    return result;
}

}  // namespace

int main(int argc, char** argv) {
    return run_main("bench_models", [&] {
        const Options options = parse(argc, argv);
        omp_set_num_threads(options.threads);
        if (options.mode != "recprune" && options.mode != "onednn_mlp" &&
            options.mode != "embedding_floor") {
            throw std::invalid_argument("invalid option: --mode " + options.mode +
                                        "; give recprune, onednn_mlp or embedding_floor");
        }
        const json result = options.mode == "recprune"          ? run_recprune(options)
                            : options.mode == "embedding_floor" ? run_embedding_floor(options)
                                                                : run_onednn_mlp(options);
        std::cout << result.dump() << std::endl;
        return 0;
    });
}
