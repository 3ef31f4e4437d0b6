// DeepFM and Wide & Deep, which share everything but the FM component:
//   logit = b + sum_f w_f[ids of f] + w_dense . x_dense        (first order / "wide" part)
//         + FM(e_1, ..., e_F)                                  (DeepFM only)
//         + MLP([e_1, ..., e_F, x_dense])                      ("deep" part)
// DeepFM: Guo et al., "DeepFM: A Factorization-Machine based Neural Network for CTR
// Prediction", IJCAI 2017, eq. 1-3; its FM and deep parts share the field embeddings e_f.
// Wide & Deep: Cheng et al., "Wide & Deep Learning for Recommender Systems", DLRS 2016, eq. 3,
// here with the wide part over the raw feature values (no hand-made cross products).
#pragma once

#include "recprune/nn/compaction.hpp"
#include "recprune/nn/compute.hpp"
#include "recprune/nn/configured_model.hpp"
#include "recprune/nn/field_embeddings.hpp"
#include "recprune/nn/fm_term.hpp"
#include "recprune/nn/mlp.hpp"
#include "recprune/nn/random.hpp"
#include "recprune/nn/structure.hpp"
#include "recprune/nn/tower.hpp"
#include "recprune/sdk.hpp"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace recprune::nn {

/// Parameters of the embedding + MLP models; shared by the deepfm and wide_deep plugins.
inline constexpr char kDeepCtrSchema[] = R"json({"parameters": {
  "embedding_dim": {"type": "integer", "default": 16, "minimum": 1, "maximum": 4096,
                    "help": "width of each field's embedding"},
  "hidden_layers": {"type": "array", "items": {"type": "integer", "minimum": 1},
                    "default": [400, 400, 400],
                    "help": "output sizes of the hidden layers of the MLP, input side first"},
  "dropout": {"type": "number", "default": 0.0, "minimum": 0, "maximum": 0.95,
              "help": "probability of zeroing each hidden activation during training"},
  "pooling": {"type": "string", "default": "sum", "enum": ["sum", "mean"],
              "help": "how a multi-hot field combines the embeddings of its values"},
  "init_std": {"type": "number", "default": 0.01, "minimum": 0,
               "help": "standard deviation of the normal initialisation of embeddings and first-order weights"},
  "dense_init": {"type": "string", "default": "xavier_uniform",
                 "enum": ["xavier_uniform", "xavier_normal", "he_uniform", "he_normal"],
                 "help": "initialisation of the MLP weights (biases start at zero)"},
  "precision": {"type": "string", "default": "auto", "enum": ["auto", "f32", "bf16"],
                "help": "data type of the MLP: bf16 needs AMX; auto picks bf16 when the CPU has AMX"}
}})json";

enum class DeepCtrKind { DeepFm, WideDeep };

/// The DeepFM / Wide & Deep model. Tensors: "linear.<field>" [rows, 1] and
/// "embedding.<field>" [rows, k] per field, "linear.dense" [1, dense] when there are dense
/// inputs, "linear.bias" [1], then "mlp.<l>.weight" / "mlp.<l>.bias" with a last layer of one
/// output.
class DeepCtrModel : public ConfiguredModel {
public:
    DeepCtrModel(DeepCtrKind kind, const Host& host, ModelConfig config, uint64_t seed)
        : ConfiguredModel(kind == DeepCtrKind::DeepFm ? "deepfm" : "wide_deep", host,
                          std::move(config)),
          kind_(kind) {
        const Params params(kDeepCtrSchema, config_.params);
        const Pooling pooling = parse_pooling(params.string("pooling"));
        const double init_std = params.number("init_std");
        dim_ = static_cast<uint32_t>(params.integer("embedding_dim"));
        compute_.emplace(resolve_precision(params.string("precision")));

        auto init_normal = [&](Tensor& tensor) -> Tensor& {
            fill_normal({tensor.data(), tensor.size()}, init_std, derive_seed(seed, tensor.name()));
            return tensor;
        };
        for (uint32_t f = 0; f < field_count(); ++f) {
            if (!config_.active(f)) continue;
            const FieldSpec& spec = field_spec(f);
            linear_.add(init_normal(add_tensor("linear." + spec.name,
                                               RECPRUNE_TENSOR_ROLE_EMBEDDING,
                                               {spec.vocabulary_size, 1}, f)),
                        f, pooling);
            embeddings_.add(init_normal(add_tensor("embedding." + spec.name,
                                                   RECPRUNE_TENSOR_ROLE_EMBEDDING,
                                                   {spec.vocabulary_size, dim_}, f)),
                            f, pooling);
            fields_.push_back(f);
        }
        if (dense_count() > 0) {
            dense_linear_ = &init_normal(
                add_tensor("linear.dense", RECPRUNE_TENSOR_ROLE_DENSE_WEIGHT, {1, dense_count()}));
        }
        bias_ = &add_tensor("linear.bias", RECPRUNE_TENSOR_ROLE_BIAS, {1});

        if (block_width() == 0) {
            throw InvalidArgument("invalid model: no field and no dense input is left; keep at "
                                  "least one field");
        }
        std::vector<int64_t> sizes = params.integers("hidden_layers");
        hidden_ = sizes.size();
        sizes.push_back(1);
        tower_ = Tower::create(tensor_factory(), "mlp", block_width(), sizes,
                               params.string("dense_init"), seed);
        mlp_.emplace(*compute_, tower_.layers, false, params.number("dropout"),
                     derive_seed(seed, "mlp"), true);
        fm_.emplace(static_cast<uint32_t>(fields_.size()), dim_);
        if (host_.log_enabled(RECPRUNE_LOG_LEVEL_DEBUG)) {
            host_.debug(plugin_name_ + ": MLP in " + to_string(compute_->precision()) + " on " +
                        isa_name(dnnl::get_effective_cpu_isa()));
        }
    }

    /// Rebuilds a model saved by save().
    static std::unique_ptr<Model> load(DeepCtrKind kind, const Host& host,
                                       const std::string& path) {
        const char* plugin = kind == DeepCtrKind::DeepFm ? "deepfm" : "wide_deep";
        return load_model_file(path, plugin, [&](const ModelConfig& config) {
            return std::make_unique<DeepCtrModel>(kind, host, config, 0);
        });
    }

    void forward(const recprune_batch_t& batch, bool training, float* logits) override {
        check_batch_shape(batch, field_count(), dense_count());
        const int64_t rows = static_cast<int64_t>(batch.row_count);
        const uint32_t width = block_width();
        const uint32_t fields = static_cast<uint32_t>(fields_.size());

        // The MLP input block: field embeddings side by side, then the dense inputs.
        block_.resize(rows * width, DataType::f32);
        float* block = block_.f32();
        embeddings_.forward(batch, block, width);
        for (int64_t row = 0; row < rows; ++row) {
            for (uint32_t j = 0; j < dense_count(); ++j) {
                block[row * width + fields * dim_ + j] = batch.dense[row * dense_count() + j];
            }
        }
        fm_out_.resize(rows, DataType::f32);
        if (kind_ == DeepCtrKind::DeepFm) fm_->forward(block, width, rows, fm_out_.f32());
        const float* deep = mlp_->forward(block, rows, training);

        // logit = bias + deep part + first-order weights field by field + dense + FM, added
        // in this order for every row.
        const float b = bias_->data()[0];
        for (int64_t row = 0; row < rows; ++row) logits[row] = b + deep[row];
        linear_.forward_sum(batch, logits);
        for (int64_t row = 0; row < rows; ++row) {
            float z = logits[row];
            for (uint32_t j = 0; j < dense_count(); ++j) {
                z += dense_linear_->data()[j] * batch.dense[row * dense_count() + j];
            }
            if (kind_ == DeepCtrKind::DeepFm) z += fm_out_.f32()[row];
            logits[row] = z;
        }
        rows_forwarded_ = rows;
    }

    void backward(const recprune_batch_t& batch, const float* logit_grads) override {
        check_batch_shape(batch, field_count(), dense_count());
        const int64_t rows = static_cast<int64_t>(batch.row_count);
        if (rows != rows_forwarded_) {
            throw InvalidArgument("invalid backward: " + std::to_string(rows) + " rows, the "
                                  "last forward had " + std::to_string(rows_forwarded_) +
                                  "; call forward with training on first");
        }
        const uint32_t width = block_width();

        block_grad_.resize(rows * width, DataType::f32);
        mlp_->backward(logit_grads, block_grad_.f32());
        collect_field_gradients(logit_grads, rows);
        embeddings_.backward_field_major(batch, field_grads_.f32());
        linear_.backward_shared(batch, logit_grads, 1);

        double bias_grad = 0.0;
        for (int64_t row = 0; row < rows; ++row) bias_grad += logit_grads[row];
        bias_->grad()[0] = static_cast<float>(bias_grad);
        for (uint32_t j = 0; j < dense_count(); ++j) {
            double sum = 0.0;
            for (int64_t row = 0; row < rows; ++row) {
                sum += static_cast<double>(logit_grads[row]) * batch.dense[row * dense_count() + j];
            }
            dense_linear_->grad()[j] = static_cast<float>(sum);
        }
    }

    json structure() const override {
        const std::string first_layer = tower_.layers[0].first->name();
        json fields = json::array();
        json dim_slices = json::array();
        for (size_t i = 0; i < fields_.size(); ++i) {
            const Tensor& table = embedding_table(i);
            fields.push_back({{"field", fields_[i]},
                              {"name", field_spec(fields_[i]).name},
                              {"slices",
                               {whole_table_slice(table), whole_table_slice(linear_table(i)),
                                field_slice(first_layer, 1, i * dim_, dim_)}}});
            dim_slices.push_back(unit_slice(table.name(), 1, 0));
            dim_slices.push_back(unit_slice(first_layer, 1, i * dim_));
        }
        return {{"fields", fields},
                {"embedding_dims", {{"count", dim_}, {"slices", dim_slices}}},
                {"neurons", tower_.neuron_families(hidden_)},
                {"compute", compute_->describe()}};
    }

    recprune_model_cost_t cost() const override {
        recprune_model_cost_t cost = parameter_cost(tensors());
        const double fields = static_cast<double>(fields_.size());
        const double dense = dense_count();
        const bool fm = kind_ == DeepCtrKind::DeepFm;
        // First order: an add per field and a multiply-add per dense input; then the FM term
        // and the MLP.
        cost.flops_per_sample_dense = fields + 2.0 * dense + tower_.flops() +
                                      (fm ? FmTerm::flops(fields, dim_) : 0.0);

        // After masks a field is live while any of its weights is nonzero. An MLP input is live
        // while its embedding column is, and a dense input always is (see Tower::after_masks).
        std::vector<bool> live_dims(dim_, false);
        std::vector<bool> live_inputs(block_width(), true);
        double live_fields = 0.0;
        double live_embedded_fields = 0.0;
        for (size_t i = 0; i < fields_.size(); ++i) {
            const std::vector<bool> columns = nonzero_columns(embedding_table(i));
            bool embedded = false;
            for (uint32_t d = 0; d < dim_; ++d) {
                embedded = embedded || columns[d];
                live_dims[d] = live_dims[d] || columns[d];
                live_inputs[i * dim_ + d] = columns[d];
            }
            live_embedded_fields += embedded ? 1.0 : 0.0;
            live_fields += embedded || any_nonzero(linear_table(i)) ? 1.0 : 0.0;
        }
        double kept_dims = 0.0;
        for (bool live : live_dims) kept_dims += live ? 1.0 : 0.0;
        const double dense_nonzero =
            dense_linear_ ? static_cast<double>(count_nonzero(*dense_linear_)) : 0.0;
        cost.flops_per_sample_nonzero =
            live_fields + 2.0 * dense_nonzero + tower_.after_masks(live_inputs, hidden_).flops +
            (fm ? FmTerm::flops(live_embedded_fields, kept_dims) : 0.0);
        return cost;
    }

    std::unique_ptr<Model> compact(const json& plan_json) const override {
        const CompactionPlan plan(plan_json, config_, dim_, tower_.layer_sizes(hidden_));
        const std::vector<uint32_t> dims = plan.kept_dims(dim_);
        const std::vector<std::vector<uint32_t>> kept = tower_.kept_outputs(plan, hidden_);
        ModelConfig config = compacted_config(plan);
        config.params["embedding_dim"] = dims.size();
        std::vector<size_t> hidden_sizes;
        for (size_t l = 0; l < hidden_; ++l) hidden_sizes.push_back(kept[l].size());
        config.params["hidden_layers"] = hidden_sizes;
        auto out = std::make_unique<DeepCtrModel>(kind_, host_, config, 0);

        // Columns of the old MLP input that the new one keeps: kept dims of kept fields, then
        // every dense input.
        std::vector<uint32_t> input_columns;
        for (size_t i = 0; i < out->fields_.size(); ++i) {
            const size_t old = position_of(out->fields_[i]);
            const std::vector<uint32_t>* remap = plan.row_remap(out->fields_[i]);
            copy_embedding(linear_table(old), out->linear_table(i), remap, {0});
            copy_embedding(embedding_table(old), out->embedding_table(i), remap, dims);
            for (uint32_t d : dims) input_columns.push_back(static_cast<uint32_t>(old) * dim_ + d);
        }
        for (uint32_t j = 0; j < dense_count(); ++j) {
            input_columns.push_back(static_cast<uint32_t>(fields_.size()) * dim_ + j);
        }
        tower_.copy_into(out->tower_, input_columns, kept);
        out->bias_->data()[0] = bias_->data()[0];
        if (dense_linear_ != nullptr) {
            copy_matrix(*dense_linear_, *out->dense_linear_, {0}, iota_indices(dense_count()));
        }
        return out;
    }

private:
    /// Writes each field's embedding gradient (the MLP's input gradient plus, in DeepFM, the
    /// FM term's g (S - e_f)) into field_grads_ as [field][row][dim], reading the row-major
    /// blocks in order. The bags then stream it instead of reading one strided slice per
    /// sample, which made them wait on memory for most of the backward pass.
    void collect_field_gradients(const float* logit_grads, int64_t rows) {
        const uint32_t width = block_width();
        const auto fields = static_cast<uint32_t>(fields_.size());
        field_grads_.resize(rows * fields * dim_, DataType::f32);
        const float* block = block_.f32();
        const float* block_grad = block_grad_.f32();
        float* out = field_grads_.f32();
        const bool fm = kind_ == DeepCtrKind::DeepFm;
#pragma omp parallel for schedule(static) if (rows * width >= kMinParallelWork)
        for (int64_t row = 0; row < rows; ++row) {
            for (uint32_t f = 0; f < fields; ++f) {
                const size_t column = size_t{f} * dim_;
                float* grad = out + (f * rows + row) * dim_;
                // 0 + the MLP's gradient, then the FM part: the order in which the results
                // in docs/ were trained, so they reproduce to the last bit.
                for (uint32_t d = 0; d < dim_; ++d) {
                    grad[d] = 0.0f + block_grad[row * width + column + d];
                }
                if (fm) {
                    fm_->add_field_gradient(row, logit_grads[row], block + row * width + column,
                                            grad);
                }
            }
        }
    }

    uint32_t block_width() const {
        return static_cast<uint32_t>(fields_.size()) * dim_ + dense_count();
    }
    Tensor& linear_table(size_t i) const {
        return const_cast<FieldEmbeddings&>(linear_).bag(i).table();
    }
    Tensor& embedding_table(size_t i) const {
        return const_cast<FieldEmbeddings&>(embeddings_).bag(i).table();
    }
    size_t position_of(uint32_t field) const {
        for (size_t i = 0; i < fields_.size(); ++i) {
            if (fields_[i] == field) return i;
        }
        throw InvalidArgument("compaction failed: field " + std::to_string(field) +
                              " has no table in the original model; report a bug");
    }

    DeepCtrKind kind_;
    uint32_t dim_ = 0;
    size_t hidden_ = 0;
    std::vector<uint32_t> fields_;  ///< batch field of each active field, in order
    FieldEmbeddings linear_;
    FieldEmbeddings embeddings_;
    Tensor* dense_linear_ = nullptr;
    Tensor* bias_ = nullptr;
    Tower tower_;
    std::optional<Compute> compute_;
    std::optional<Mlp> mlp_;
    std::optional<FmTerm> fm_;

    // Scratch reused across batches; block_ and the MLP's buffers are what backward needs.
    Buffer block_, block_grad_, field_grads_, fm_out_;
    int64_t rows_forwarded_ = 0;
};

}  // namespace recprune::nn
