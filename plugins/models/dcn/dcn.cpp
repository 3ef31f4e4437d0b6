// Deep & Cross Network (Wang et al., "Deep & Cross Network for Ad Click Predictions", ADKDD
// 2017, section 2): x0 = [e_1, ..., e_F, x_dense]; a cross network (eq. 3) and an MLP run side
// by side on x0, and the logit is w . [x_L, h_L] + b (eq. 5).
#include "recprune/nn/compaction.hpp"
#include "recprune/nn/compute.hpp"
#include "recprune/nn/configured_model.hpp"
#include "recprune/nn/cross.hpp"
#include "recprune/nn/dense.hpp"
#include "recprune/nn/field_embeddings.hpp"
#include "recprune/nn/mlp.hpp"
#include "recprune/nn/random.hpp"
#include "recprune/nn/structure.hpp"
#include "recprune/nn/tower.hpp"
#include "recprune/sdk.hpp"

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace {

using recprune::json;
using recprune::Tensor;
namespace nn = recprune::nn;

constexpr char kName[] = "dcn";

constexpr char kSchema[] = R"json({"parameters": {
  "embedding_dim": {"type": "integer", "default": 16, "minimum": 1, "maximum": 4096,
                    "help": "width of each field's embedding"},
  "cross_layers": {"type": "integer", "default": 3, "minimum": 0, "maximum": 64,
                   "help": "number of cross layers"},
  "hidden_layers": {"type": "array", "items": {"type": "integer", "minimum": 1},
                    "default": [256, 256],
                    "help": "output sizes of the hidden layers of the deep network, input side first"},
  "dropout": {"type": "number", "default": 0.0, "minimum": 0, "maximum": 0.95,
              "help": "probability of zeroing each hidden activation during training"},
  "pooling": {"type": "string", "default": "sum", "enum": ["sum", "mean"],
              "help": "how a multi-hot field combines the embeddings of its values"},
  "init_std": {"type": "number", "default": 0.01, "minimum": 0,
               "help": "standard deviation of the normal initialisation of embeddings"},
  "dense_init": {"type": "string", "default": "xavier_uniform",
                 "enum": ["xavier_uniform", "xavier_normal", "he_uniform", "he_normal"],
                 "help": "initialisation of the dense and cross weights (biases start at zero)"},
  "precision": {"type": "string", "default": "auto", "enum": ["auto", "f32", "bf16"],
                "help": "data type of the deep network: bf16 needs AMX; auto picks bf16 when the CPU has AMX"}
}})json";

class DeepCrossNetwork final : public nn::ConfiguredModel {
public:
    DeepCrossNetwork(const recprune::Host& host, const json& params, const json& schema,
                     uint64_t seed)
        : DeepCrossNetwork(host,
                           nn::ModelConfig::make(nn::Params(kSchema, params).values(), schema),
                           seed) {}

    DeepCrossNetwork(const recprune::Host& host, nn::ModelConfig config, uint64_t seed)
        : ConfiguredModel(kName, host, std::move(config)) {
        const nn::Params params(kSchema, config_.params);
        const nn::Pooling pooling = nn::parse_pooling(params.string("pooling"));
        const double init_std = params.number("init_std");
        const std::string dense_init = params.string("dense_init");
        dim_ = static_cast<uint32_t>(params.integer("embedding_dim"));
        compute_.emplace(nn::resolve_precision(params.string("precision")));

        for (uint32_t f = 0; f < field_count(); ++f) {
            if (!config_.active(f)) continue;
            const nn::FieldSpec& spec = field_spec(f);
            Tensor& table = add_tensor("embedding." + spec.name, RECPRUNE_TENSOR_ROLE_EMBEDDING,
                                       {spec.vocabulary_size, dim_}, f);
            nn::fill_normal({table.data(), table.size()}, init_std,
                            nn::derive_seed(seed, table.name()));
            embeddings_.add(table, f, pooling);
            fields_.push_back(f);
        }
        const uint32_t width = input_width();
        if (width == 0) {
            throw recprune::InvalidArgument("invalid model: no field and no dense input is "
                                            "left; keep at least one field");
        }

        // Cross weights [1, n] are initialised like a dense layer with n inputs and 1 output.
        const auto cross_count = static_cast<size_t>(params.integer("cross_layers"));
        for (size_t l = 0; l < cross_count; ++l) {
            const std::string name = "cross." + std::to_string(l);
            Tensor& weight =
                add_tensor(name + ".weight", RECPRUNE_TENSOR_ROLE_DENSE_WEIGHT, {1, width});
            Tensor& bias = add_tensor(name + ".bias", RECPRUNE_TENSOR_ROLE_BIAS, {width});
            nn::init_dense_weight({weight.data(), weight.size()}, 1, width, dense_init,
                                  nn::derive_seed(seed, weight.name()));
            cross_tensors_.emplace_back(&weight, &bias);
        }
        cross_.emplace(cross_tensors_, width);

        const std::vector<int64_t> sizes = params.integers("hidden_layers");
        tower_ = nn::Tower::create(tensor_factory(), "mlp", width, sizes, dense_init, seed);
        const uint64_t deep_width = tower_.layers.empty() ? 0 : tower_.width(sizes.size() - 1);
        if (!tower_.layers.empty()) {
            mlp_.emplace(*compute_, tower_.layers, true, params.number("dropout"),
                         nn::derive_seed(seed, "mlp"), true);
        }
        output_ = nn::Tower::create(tensor_factory(), "output", width + deep_width, {1},
                                    dense_init, seed);
        // The output layer has one unit, so it always runs in f32.
        output_weight_ = output_.layers[0].first;
        output_bias_ = output_.layers[0].second;
        output_layer_.emplace(*compute_, *output_weight_, *output_bias_, false, nn::DenseTypes{},
                              true);
    }

    static std::unique_ptr<recprune::Model> load(const recprune::Host& host,
                                                 const std::string& path) {
        return nn::load_model_file(path, kName, [&](const nn::ModelConfig& config) {
            return std::make_unique<DeepCrossNetwork>(host, config, 0);
        });
    }

    void forward(const recprune_batch_t& batch, bool training, float* logits) override {
        nn::check_batch_shape(batch, field_count(), dense_count());
        const int64_t rows = static_cast<int64_t>(batch.row_count);
        const uint32_t width = input_width();
        const uint32_t deep_width = concat_width() - width;

        block_.resize(rows * width, nn::DataType::f32);
        float* x0 = block_.f32();
        embeddings_.forward(batch, x0, width);
        const uint32_t embedded = static_cast<uint32_t>(fields_.size()) * dim_;
        for (int64_t row = 0; row < rows; ++row) {
            for (uint32_t j = 0; j < dense_count(); ++j) {
                x0[row * width + embedded + j] = batch.dense[row * dense_count() + j];
            }
        }

        // [x_L, h_L] side by side feeds the output layer.
        const float* cross_out = cross_->forward(x0, rows);
        const float* deep_out = mlp_ ? mlp_->forward(x0, rows, training) : nullptr;
        concat_.resize(rows * concat_width(), nn::DataType::f32);
        float* concat = concat_.f32();
        for (int64_t row = 0; row < rows; ++row) {
            std::copy(cross_out + row * width, cross_out + (row + 1) * width,
                      concat + row * concat_width());
            if (deep_out != nullptr) {
                std::copy(deep_out + row * deep_width, deep_out + (row + 1) * deep_width,
                          concat + row * concat_width() + width);
            }
        }
        output_layer_->forward(concat, logits, rows);
        rows_forwarded_ = rows;
    }

    void backward(const recprune_batch_t& batch, const float* logit_grads) override {
        nn::check_batch_shape(batch, field_count(), dense_count());
        const int64_t rows = static_cast<int64_t>(batch.row_count);
        if (rows != rows_forwarded_) {
            throw recprune::InvalidArgument(
                "invalid backward: " + std::to_string(rows) + " rows, the last forward had " +
                std::to_string(rows_forwarded_) + "; call forward with training on first");
        }
        const uint32_t width = input_width();
        const uint32_t deep_width = concat_width() - width;

        // Output layer: its diff_dst is overwritten, so it gets a copy of the logit grads.
        logit_grad_copy_.assign(logit_grads, logit_grads + rows);
        concat_grad_.resize(rows * concat_width(), nn::DataType::f32);
        output_layer_->backward(concat_.f32(), nullptr, logit_grad_copy_.data(),
                                concat_grad_.f32(), rows);

        // Split the gradient of [x_L, h_L]; the deep part writes dL/dx0, the cross part adds.
        cross_grad_.resize(rows * width, nn::DataType::f32);
        deep_grad_.resize(rows * std::max<uint32_t>(deep_width, 1), nn::DataType::f32);
        for (int64_t row = 0; row < rows; ++row) {
            const float* g = concat_grad_.f32() + row * concat_width();
            std::copy(g, g + width, cross_grad_.f32() + row * width);
            std::copy(g + width, g + concat_width(), deep_grad_.f32() + row * deep_width);
        }
        block_grad_.resize(rows * width, nn::DataType::f32);
        if (mlp_) {
            mlp_->backward(deep_grad_.f32(), block_grad_.f32());
        } else {
            std::fill(block_grad_.f32(), block_grad_.f32() + rows * width, 0.0f);
        }
        cross_->backward(cross_grad_.f32(), block_grad_.f32());
        embeddings_.backward(batch, block_grad_.f32(), width);
    }

    json structure() const override {
        const uint32_t k = dim_;
        std::vector<std::string> input_weights;  // tensors whose axis 1 is indexed by x0
        if (!tower_.layers.empty()) input_weights.push_back(tower_.layers[0].first->name());
        for (const auto& [weight, bias] : cross_tensors_) input_weights.push_back(weight->name());
        input_weights.push_back(output_weight_->name());

        json fields = json::array();
        json dim_slices = json::array();
        for (size_t i = 0; i < fields_.size(); ++i) {
            const Tensor& table = embedding_table(i);
            const uint64_t start = i * k;
            json slices = {nn::whole_table_slice(table)};
            dim_slices.push_back(nn::unit_slice(table.name(), 1, 0));
            for (const std::string& weight : input_weights) {
                slices.push_back(nn::field_slice(weight, 1, start, k));
                dim_slices.push_back(nn::unit_slice(weight, 1, start));
            }
            for (const auto& [weight, bias] : cross_tensors_) {
                slices.push_back(nn::field_slice(bias->name(), 0, start, k));
                dim_slices.push_back(nn::unit_slice(bias->name(), 0, start));
            }
            fields.push_back({{"field", fields_[i]},
                              {"name", field_spec(fields_[i]).name},
                              {"slices", slices}});
        }
        json out = {{"fields", fields},
                    {"embedding_dims", {{"count", k}, {"slices", dim_slices}}}};
        if (!tower_.layers.empty()) {
            out["neurons"] = tower_.neuron_families(tower_.layers.size(), output_weight_->name(),
                                                    input_width());
        }
        out["compute"] = compute_->describe();
        return out;
    }

    recprune_model_cost_t cost() const override {
        recprune_model_cost_t cost = nn::parameter_cost(tensors());
        cost.flops_per_sample_dense = cross_->flops() + tower_.flops() + output_.flops();

        // After masks an input column of x0 is live while its embedding column is (dense
        // inputs always are). A cross column stays live while x0's column or a cross bias
        // entry is, since x_{l+1} = x0 (w . x_l) + b + x_l is zero where all three are.
        const uint32_t width = input_width();
        std::vector<bool> live_inputs(width, true);
        for (size_t i = 0; i < fields_.size(); ++i) {
            const std::vector<bool> columns = nn::nonzero_columns(embedding_table(i));
            for (uint32_t d = 0; d < dim_; ++d) live_inputs[i * dim_ + d] = columns[d];
        }
        std::vector<bool> live_concat = live_inputs;
        for (const auto& [weight, bias] : cross_tensors_) {
            for (uint32_t c = 0; c < width; ++c) {
                live_concat[c] = live_concat[c] || bias->data()[c] != 0.0f;
            }
        }
        const double cross_width =
            static_cast<double>(std::count(live_concat.begin(), live_concat.end(), true));
        const nn::Tower::MaskedCost deep = tower_.after_masks(live_inputs, tower_.layers.size());
        live_concat.insert(live_concat.end(), deep.live_outputs.begin(), deep.live_outputs.end());
        cost.flops_per_sample_nonzero = static_cast<double>(cross_tensors_.size()) * 5.0 *
                                            cross_width +
                                        deep.flops + output_.after_masks(live_concat, 0).flops;
        return cost;
    }

    std::unique_ptr<recprune::Model> compact(const json& plan_json) const override {
        const size_t hidden = tower_.layers.size();
        const nn::CompactionPlan plan(plan_json, config_, dim_, tower_.layer_sizes(hidden));
        const std::vector<uint32_t> dims = plan.kept_dims(dim_);
        const std::vector<std::vector<uint32_t>> kept = tower_.kept_outputs(plan, hidden);
        nn::ModelConfig config = compacted_config(plan);
        config.params["embedding_dim"] = dims.size();
        std::vector<size_t> hidden_sizes;
        for (const auto& layer : kept) hidden_sizes.push_back(layer.size());
        config.params["hidden_layers"] = hidden_sizes;
        auto out = std::make_unique<DeepCrossNetwork>(host_, config, 0);

        // Kept columns of x0: kept dims of kept fields, then every dense input.
        std::vector<uint32_t> columns;
        for (size_t i = 0; i < out->fields_.size(); ++i) {
            const size_t old = position_of(out->fields_[i]);
            nn::copy_embedding(embedding_table(old), out->embedding_table(i),
                               plan.row_remap(out->fields_[i]), dims);
            for (uint32_t d : dims) columns.push_back(static_cast<uint32_t>(old) * dim_ + d);
        }
        const uint32_t embedded = static_cast<uint32_t>(fields_.size()) * dim_;
        for (uint32_t j = 0; j < dense_count(); ++j) columns.push_back(embedded + j);

        for (size_t l = 0; l < cross_tensors_.size(); ++l) {
            nn::copy_matrix(*cross_tensors_[l].first, *out->cross_tensors_[l].first, {0},
                            columns);
            nn::copy_matrix(*cross_tensors_[l].second, *out->cross_tensors_[l].second, columns,
                            {});
        }
        tower_.copy_into(out->tower_, columns, kept);
        std::vector<uint32_t> output_columns = columns;
        if (hidden > 0) {
            for (uint32_t j : kept.back()) output_columns.push_back(input_width() + j);
        }
        output_.copy_into(out->output_, output_columns, {{0}});
        return out;
    }

private:
    uint32_t input_width() const {
        return static_cast<uint32_t>(fields_.size()) * dim_ + dense_count();
    }
    uint32_t concat_width() const {
        return static_cast<uint32_t>(output_weight_->shape()[1]);
    }
    Tensor& embedding_table(size_t i) const {
        return const_cast<nn::FieldEmbeddings&>(embeddings_).bag(i).table();
    }
    size_t position_of(uint32_t field) const {
        for (size_t i = 0; i < fields_.size(); ++i) {
            if (fields_[i] == field) return i;
        }
        throw recprune::InvalidArgument("compaction failed: field " + std::to_string(field) +
                                        " has no table in the original model; report a bug");
    }

    uint32_t dim_ = 0;
    std::vector<uint32_t> fields_;
    nn::FieldEmbeddings embeddings_;
    std::vector<std::pair<Tensor*, Tensor*>> cross_tensors_;
    nn::Tower tower_;
    nn::Tower output_;
    Tensor* output_weight_ = nullptr;
    Tensor* output_bias_ = nullptr;
    std::optional<nn::Compute> compute_;
    std::optional<nn::CrossNetwork> cross_;
    std::optional<nn::Mlp> mlp_;
    std::optional<nn::DenseLayer> output_layer_;

    nn::Buffer block_, block_grad_, concat_, concat_grad_, cross_grad_, deep_grad_;
    std::vector<float> logit_grad_copy_;
    int64_t rows_forwarded_ = 0;
};

}  // namespace

RECPRUNE_REGISTER_PLUGIN(DeepCrossNetwork, kName, "1.0.0",
                         "Deep & Cross Network: cross layers and an MLP side by side on embeddings",
                         kSchema)
