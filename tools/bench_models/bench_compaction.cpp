// Times inference of recprune's DeepFM before and after compaction, at batch 4096, and compares
// the speedup with the FLOPs ratio the model reports. Prints one JSON line per fraction.
//
//   bench_compaction --threads N [--precision f32|bf16] [--fractions 0.5,0.75,0.9]
//                    [--steps 10] [--repeats 5] [--warmup 3] [--time-dense yes|no]
//
// --time-dense no times only the compacted models (the dense figures, the bare MLP and the
// ratios are then null), so that a profiler run on this driver records the compacted forward
// pass alone.
//
// Each line also times a bare oneDNN forward pass of the compacted model's MLP alone
// (mlp_floor_ms: inner products with ReLU fused, weights in the layout oneDNN picks, no
// lookups, no FM term). dense_ms / mlp_floor_ms (speedup_ceiling) is the max speedup any
// compacted model of that shape could reach on these kernels, even with free lookups and FM
// term. When it is below 0.8 x the FLOPs ratio, the target cannot be met on this machine.
// lookup_floor_ms times only the reads of the rows a batch looks up (time_bare_lookups), and
// speedup_ceiling_with_lookups = dense_ms / (mlp_floor_ms + lookup_floor_ms) is the ceiling
// with those reads counted.
//
// For a fraction p, the compaction plan keeps the first round((1 - p) x n) of the 16 embedding
// dimensions and of the neurons of each hidden layer (256 and 128), and every field and row.
// Which units are kept does not change the cost, only how many. The shape is that of
// bench_models: 26 fields of 10,000 rows, FM term, MLP 416-256-128-1.
#include "bench_support.hpp"

#include <oneapi/dnnl/dnnl.hpp>
#include <omp.h>

#include <cmath>
#include <iostream>
#include <optional>
#include <sstream>

namespace {

using namespace bench;

struct Options : CommonOptions {
    std::vector<double> fractions = {0.5, 0.75, 0.9};
    bool time_dense = true;
};

Options parse(int argc, char** argv) {
    Options options;
    parse_options(argc, argv, options, [&](const std::string& key, const std::string& value) {
        if (key == "--time-dense") {
            if (value != "yes" && value != "no") {
                throw std::invalid_argument("invalid option: --time-dense " + value +
                                            "; give yes or no");
            }
            options.time_dense = value == "yes";
            return true;
        }
        if (key != "--fractions") return false;
        options.fractions.clear();
        std::stringstream list(value);
        for (std::string item; std::getline(list, item, ',');) {
            options.fractions.push_back(std::stod(item));
        }
        return true;
    });
    return options;
}

/// Returns the first round((1 - fraction) x count) indices, at least one.
std::vector<uint32_t> kept_prefix(uint32_t count, double fraction) {
    const auto kept = static_cast<uint32_t>(
        std::max(1.0, std::round((1.0 - fraction) * static_cast<double>(count))));
    std::vector<uint32_t> indices(kept);
    for (uint32_t i = 0; i < kept; ++i) indices[i] = i;
    return indices;
}

/// A model handle with the table it came from, destroyed with it.
class Model {
public:
    Model(const recprune_model_api_t& api, recprune_model_t handle) : api_(&api), handle_(handle) {}
    Model(const Model&) = delete;
    Model& operator=(const Model&) = delete;
    ~Model() { api_->destroy(handle_); }

    recprune_model_t handle() const { return handle_; }

    recprune_model_cost_t cost() const {
        ErrorText error;
        recprune_model_cost_t cost{};
        cost.struct_size = sizeof(cost);
        check("cost", api_->cost(handle_, &cost, &error.sink), error);
        return cost;
    }

    json structure() const {
        ErrorText error;
        const char* text = nullptr;
        check("get_structure", api_->get_structure(handle_, &text, &error.sink), error);
        return json::parse(text);
    }

    /// Median seconds of one inference forward pass over a 4096-row batch.
    StepTime time_inference(const Options& options, const Batches& data) const {
        std::vector<float> logits(kBatch);
        ErrorText error;
        return time_steps(options.warmup, options.repeats, options.steps, [&](int counter) {
            const recprune_batch_t batch = data.view(counter);
            check("forward", api_->forward(handle_, &batch, 0, logits.data(), &error.sink),
                  error);
        });
    }

private:
    const recprune_model_api_t* api_;
    recprune_model_t handle_;
};

/// Median time of a bare oneDNN forward pass at batch 4096 through inner products of the
/// given widths (input, hidden..., 1), ReLU fused after each hidden layer, in `precision`.
/// The input and the weights are random; only the time is used.
StepTime time_bare_mlp(const Options& options, const std::vector<int64_t>& widths) {
    using namespace dnnl;
    using tag = memory::format_tag;
    using dt = memory::data_type;
    engine eng(engine::kind::cpu, 0);
    stream strm(eng);
    const dt compute = options.precision == "bf16" ? dt::bf16 : dt::f32;
    std::mt19937_64 rng(11);

    // Random finite values in `type`: filled as f32, then converted by a reorder.
    auto random_memory = [&](const memory::dims& dims, dt type, tag layout) {
        memory values(memory::desc(dims, dt::f32, layout), eng);
        auto* data = static_cast<float*>(values.get_data_handle());
        int64_t count = 1;
        for (int64_t size : dims) count *= size;
        for (int64_t i = 0; i < count; ++i) {
            data[i] = static_cast<float>(((rng() >> 11) * 0x1.0p-53 - 0.5) * 0.1);
        }
        memory converted(memory::desc(dims, type, layout), eng);
        reorder(values, converted).execute(strm, values, converted);
        return converted;
    };

    struct Layer {
        inner_product_forward primitive;
        memory weights, bias, dst;
    };
    std::vector<Layer> layers;
    memory input = random_memory({kBatch, widths[0]}, compute, tag::nc);

    for (size_t l = 0; l + 1 < widths.size(); ++l) {
        const bool last = l + 2 == widths.size();
        const memory::desc src_md({kBatch, widths[l]}, compute, tag::nc);
        const memory::desc any_weights({widths[l + 1], widths[l]}, compute, tag::any);
        const memory::desc bias_md({widths[l + 1]}, dt::f32, tag::x);
        const memory::desc dst_md({kBatch, widths[l + 1]}, last ? dt::f32 : compute, tag::nc);
        primitive_attr attr;
        if (!last) {
            post_ops ops;
            ops.append_eltwise(1.0f, algorithm::eltwise_relu, 0.0f, 0.0f);
            attr.set_post_ops(ops);
        }

        const inner_product_forward::primitive_desc pd(
            inner_product_forward::desc(prop_kind::forward_inference, src_md, any_weights,
                                        bias_md, dst_md),
            attr, eng);
        // Weights are reordered to the primitive's layout once, outside the timed passes.
        memory plain = random_memory({widths[l + 1], widths[l]}, compute, tag::oi);
        memory weights(pd.weights_desc(), eng);
        reorder(plain, weights).execute(strm, plain, weights);
        layers.push_back({inner_product_forward(pd), weights,
                          random_memory({widths[l + 1]}, dt::f32, tag::x), memory(dst_md, eng)});
    }
    strm.wait();

    return time_steps(options.warmup, options.repeats, options.steps, [&](int) {
        const memory* src = &input;
        for (Layer& layer : layers) {
            layer.primitive.execute(strm, {{DNNL_ARG_SRC, *src},
                                           {DNNL_ARG_WEIGHTS, layer.weights},
                                           {DNNL_ARG_BIAS, layer.bias},
                                           {DNNL_ARG_DST, layer.dst}});
            src = &layer.dst;
        }
        strm.wait();
    });
}

/// Times only reading what a batch looks up (median seconds). For every sample it reads the
/// `dim`-wide embedding row and the first-order weight of each of the 26 fields, from f32
/// tables of the benchmark's size, with the same ids. Threads split the samples and rows are
/// prefetched, as in the model, and each sample's values are summed into one number, the only
/// write. No forward pass that reads these rows from such tables can be faster. So
/// dense_ms / (mlp_floor_ms + lookup_floor_ms) estimates the most any implementation could
/// gain on this machine. The two floors could overlap only if the MLP started before the
/// lookups of its input ended.
StepTime time_bare_lookups(const Options& options, const Batches& data, uint32_t dim) {
    std::mt19937_64 rng(13);
    std::vector<std::vector<float>> embeddings, weights;
    for (uint32_t f = 0; f < kFields; ++f) {
        embeddings.push_back(uniform_floats(rng, size_t{kRows} * dim));
        weights.push_back(uniform_floats(rng, kRows));
    }
    std::vector<float> sums(kBatch);
    constexpr int64_t kAhead = 32;  // as EmbeddingBag's prefetch distance
    return time_steps(options.warmup, options.repeats, options.steps, [&](int counter) {
        const recprune_batch_t batch = data.view(counter);
#pragma omp parallel
        {
            const int64_t parts = omp_get_num_threads();
            const int64_t part = omp_get_thread_num();
            const int64_t first = kBatch * part / parts;
            const int64_t last = kBatch * (part + 1) / parts;
            for (int64_t row = first; row < last; ++row) sums[row] = 0.0f;
            for (uint32_t f = 0; f < kFields; ++f) {
                const uint32_t* ids = batch.ids[f];
                const float* table = embeddings[f].data();
                const float* weight = weights[f].data();
                for (int64_t row = first; row < last; ++row) {
                    if (row + kAhead < last) {
                        __builtin_prefetch(table + size_t{ids[row + kAhead]} * dim);
                    }
                    const float* values = table + size_t{ids[row]} * dim;
                    float sum = weight[ids[row]];
                    for (uint32_t d = 0; d < dim; ++d) sum += values[d];
                    sums[row] += sum;
                }
            }
        }
    });
}

}  // namespace

int main(int argc, char** argv) {
    return run_main("bench_compaction", [&] {
        const Options options = parse(argc, argv);
        omp_set_num_threads(options.threads);
        const recprune_model_api_t& api = load_model_api(RECPRUNE_BENCH_PLUGIN_DIR, "deepfm");
        ErrorText error;
        const std::string schema = benchmark_schema();
        const std::string params = json{{"embedding_dim", kDim},
                                        {"hidden_layers", {kHidden1, kHidden2}},
                                        {"precision", options.precision}}
                                       .dump();
        recprune_model_t handle = nullptr;
        check("create",
              api.create(bench_host(), params.c_str(), schema.c_str(), 1, &handle, &error.sink),
              error);
        const Model dense(api, handle);
        const json structure = dense.structure();
        const Batches data;
        const std::optional<StepTime> dense_time =
            options.time_dense ? std::optional<StepTime>(dense.time_inference(options, data))
                               : std::nullopt;
        const recprune_model_cost_t dense_cost = dense.cost();

        for (double fraction : options.fractions) {
            json plan = {{"removed_fields", json::array()},
                         {"kept_embedding_dims", kept_prefix(kDim, fraction)},
                         {"kept_neurons", json::object()},
                         {"row_remap", json::object()}};
            for (const json& layer : structure.at("neurons")) {
                plan["kept_neurons"][layer.at("layer").get<std::string>()] =
                    kept_prefix(layer.at("count").get<uint32_t>(), fraction);
            }
            const std::string plan_text = plan.dump();
            recprune_model_t compacted_handle = nullptr;
            check("compact",
                  api.compact(dense.handle(), plan_text.c_str(), &compacted_handle, &error.sink),
                  error);
            const Model compacted(api, compacted_handle);
            const StepTime compacted_time = compacted.time_inference(options, data);
            const recprune_model_cost_t compacted_cost = compacted.cost();

            const double flops_ratio =
                dense_cost.flops_per_sample_dense / compacted_cost.flops_per_sample_dense;
            std::vector<int64_t> widths = {
                static_cast<int64_t>(kFields * plan["kept_embedding_dims"].size())};
            for (const json& layer : structure.at("neurons")) {
                widths.push_back(static_cast<int64_t>(
                    plan["kept_neurons"][layer.at("layer").get<std::string>()].size()));
            }
            widths.push_back(1);
            const std::optional<StepTime> mlp_floor =
                options.time_dense ? std::optional<StepTime>(time_bare_mlp(options, widths))
                                   : std::nullopt;
            const std::optional<StepTime> lookup_floor =
                options.time_dense
                    ? std::optional<StepTime>(time_bare_lookups(
                          options, data, static_cast<uint32_t>(plan["kept_embedding_dims"].size())))
                    : std::nullopt;
            json row = {{"fraction_removed", fraction},
                        {"threads", options.threads},
                        {"precision", structure.at("compute").at("precision")},
                        {"isa", structure.at("compute").at("isa")},
                        {"kept_embedding_dims", plan["kept_embedding_dims"].size()},
                        {"dense_ms", nullptr},
                        {"compacted_ms", compacted_time.wall * 1e3},
                        {"dense_cpu_ms", nullptr},
                        {"compacted_cpu_ms", compacted_time.cpu * 1e3},
                        {"dense_flops_per_sample", dense_cost.flops_per_sample_dense},
                        {"compacted_flops_per_sample", compacted_cost.flops_per_sample_dense},
                        {"dense_parameters", dense_cost.parameter_count},
                        {"compacted_parameters", compacted_cost.parameter_count},
                        {"speedup", nullptr},
                        {"flops_ratio", flops_ratio},
                        {"speedup_over_flops_ratio", nullptr},
                        {"mlp_floor_ms", nullptr},
                        {"speedup_ceiling", nullptr},
                        {"lookup_floor_ms", nullptr},
                        {"speedup_ceiling_with_lookups", nullptr}};
            if (dense_time) {
                const double speedup = dense_time->wall / compacted_time.wall;
                row["dense_ms"] = dense_time->wall * 1e3;
                row["dense_cpu_ms"] = dense_time->cpu * 1e3;
                row["speedup"] = speedup;
                row["speedup_over_flops_ratio"] = speedup / flops_ratio;
                row["mlp_floor_ms"] = mlp_floor->wall * 1e3;
                row["speedup_ceiling"] = dense_time->wall / mlp_floor->wall;
                row["lookup_floor_ms"] = lookup_floor->wall * 1e3;
                row["speedup_ceiling_with_lookups"] =
                    dense_time->wall / (mlp_floor->wall + lookup_floor->wall);
            }
            for (const json& layer : structure.at("neurons")) {
                const std::string name = layer.at("layer").get<std::string>();
                row["kept_neurons"][name] = plan["kept_neurons"][name].size();
            }
            std::cout << row.dump() << std::endl;
        }
        return 0;
    });
}
