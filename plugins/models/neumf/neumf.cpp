// NeuMF (He et al., "Neural Collaborative Filtering", WWW 2017, section 3.4, eq. 11-12): a
// GMF tower phi_GMF = p_u * q_i (elementwise) and an MLP tower over [p'_u, q'_i] with their own
// embeddings, fused by a last layer: logit = h . [phi_GMF, phi_MLP] + b. Only the fields with
// the roles "user" and "item" are read.
#include "recprune/nn/compaction.hpp"
#include "recprune/nn/compute.hpp"
#include "recprune/nn/configured_model.hpp"
#include "recprune/nn/dense.hpp"
#include "recprune/nn/field_embeddings.hpp"
#include "recprune/nn/mlp.hpp"
#include "recprune/nn/random.hpp"
#include "recprune/nn/structure.hpp"
#include "recprune/nn/tower.hpp"
#include "recprune/nn/user_item.hpp"
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

constexpr char kName[] = "neumf";

constexpr char kSchema[] = R"json({"parameters": {
  "embedding_dim": {"type": "integer", "default": 16, "minimum": 1, "maximum": 4096,
                    "help": "width of the GMF embeddings of users and items"},
  "mlp_embedding_dim": {"type": "integer", "default": 16, "minimum": 1, "maximum": 4096,
                        "help": "width of the MLP tower's own user and item embeddings"},
  "hidden_layers": {"type": "array", "items": {"type": "integer", "minimum": 1},
                    "default": [32, 16, 8],
                    "help": "output sizes of the MLP tower's layers, input side first; the last is the tower's predictive factors"},
  "dropout": {"type": "number", "default": 0.0, "minimum": 0, "maximum": 0.95,
              "help": "probability of zeroing each hidden activation during training"},
  "init_std": {"type": "number", "default": 0.01, "minimum": 0,
               "help": "standard deviation of the normal initialisation of embeddings"},
  "dense_init": {"type": "string", "default": "xavier_uniform",
                 "enum": ["xavier_uniform", "xavier_normal", "he_uniform", "he_normal"],
                 "help": "initialisation of the dense weights (biases start at zero)"},
  "precision": {"type": "string", "default": "auto", "enum": ["auto", "f32", "bf16"],
                "help": "data type of the MLP tower: bf16 needs AMX; auto picks bf16 when the CPU has AMX"}
}})json";

class NeuMf final : public nn::ConfiguredModel {
public:
    NeuMf(const recprune::Host& host, const json& params, const json& schema, uint64_t seed)
        : NeuMf(host, nn::ModelConfig::make(nn::Params(kSchema, params).values(), schema),
                seed) {}

    NeuMf(const recprune::Host& host, nn::ModelConfig config, uint64_t seed)
        : ConfiguredModel(kName, host, std::move(config)) {
        const nn::Params params(kSchema, config_.params);
        gmf_dim_ = static_cast<uint32_t>(params.integer("embedding_dim"));
        mlp_dim_ = static_cast<uint32_t>(params.integer("mlp_embedding_dim"));
        const double init_std = params.number("init_std");
        const std::string dense_init = params.string("dense_init");
        compute_.emplace(nn::resolve_precision(params.string("precision")));
        const nn::UserItemFields roles = nn::find_user_item(config_.schema, kName);
        sides_ = {roles.user, roles.item};

        auto table = [&](const std::string& name, uint32_t field, uint32_t dim) -> Tensor& {
            Tensor& tensor = add_tensor(name, RECPRUNE_TENSOR_ROLE_EMBEDDING,
                                        {field_spec(field).vocabulary_size, dim}, field);
            nn::fill_normal({tensor.data(), tensor.size()}, init_std,
                            nn::derive_seed(seed, tensor.name()));
            return tensor;
        };
        // GMF needs both sides; without one of them its product is zero and it is dropped.
        has_gmf_ = config_.active(roles.user) && config_.active(roles.item);
        if (has_gmf_) {
            for (uint32_t field : sides_) {
                gmf_.push_back(std::make_unique<nn::EmbeddingBag>(
                    table("embedding.gmf." + field_spec(field).name, field, gmf_dim_), field,
                    nn::Pooling::Sum));
            }
        }
        for (uint32_t field : sides_) {
            if (!config_.active(field)) continue;
            mlp_embeddings_.add(table("embedding.mlp." + field_spec(field).name, field, mlp_dim_),
                                field, nn::Pooling::Sum);
            mlp_fields_.push_back(field);
        }
        if (mlp_fields_.empty()) {
            throw recprune::InvalidArgument("invalid model: both the user and the item field "
                                            "are removed; keep at least one");
        }
        const std::vector<int64_t> sizes = params.integers("hidden_layers");
        if (sizes.empty()) {
            throw recprune::InvalidArgument("invalid parameter: hidden_layers: empty; the MLP "
                                            "tower needs at least one layer, such as [8]");
        }
        tower_ = nn::Tower::create(tensor_factory(), "mlp", mlp_embeddings_.width(), sizes,
                                   dense_init, seed);
        mlp_.emplace(*compute_, tower_.layers, true, params.number("dropout"),
                     nn::derive_seed(seed, "mlp"), true);
        output_ = nn::Tower::create(tensor_factory(), "output", gmf_width() + deep_width(), {1},
                                    dense_init, seed);
        output_layer_.emplace(*compute_, *output_.layers[0].first, *output_.layers[0].second,
                              false, nn::DenseTypes{}, true);
    }

    static std::unique_ptr<recprune::Model> load(const recprune::Host& host,
                                                 const std::string& path) {
        return nn::load_model_file(path, kName, [&](const nn::ModelConfig& config) {
            return std::make_unique<NeuMf>(host, config, 0);
        });
    }

    void forward(const recprune_batch_t& batch, bool training, float* logits) override {
        nn::check_batch_shape(batch, field_count(), dense_count());
        const int64_t rows = static_cast<int64_t>(batch.row_count);
        const uint32_t width = concat_width();

        // GMF tower: p_u and q_i, kept for backward, and their product into the concat block.
        concat_.resize(rows * width, nn::DataType::f32);
        float* concat = concat_.f32();
        if (has_gmf_) {
            user_gmf_.resize(rows * gmf_dim_);
            item_gmf_.resize(rows * gmf_dim_);
            gmf_[0]->forward(batch, user_gmf_.data(), gmf_dim_);
            gmf_[1]->forward(batch, item_gmf_.data(), gmf_dim_);
            for (int64_t row = 0; row < rows; ++row) {
                for (uint32_t d = 0; d < gmf_dim_; ++d) {
                    concat[row * width + d] =
                        user_gmf_[row * gmf_dim_ + d] * item_gmf_[row * gmf_dim_ + d];
                }
            }
        }
        mlp_input_.resize(rows * mlp_embeddings_.width(), nn::DataType::f32);
        mlp_embeddings_.forward(batch, mlp_input_.f32());
        const float* deep = mlp_->forward(mlp_input_.f32(), rows, training);
        for (int64_t row = 0; row < rows; ++row) {
            std::copy(deep + row * deep_width(), deep + (row + 1) * deep_width(),
                      concat + row * width + gmf_width());
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
        const uint32_t width = concat_width();
        logit_grad_copy_.assign(logit_grads, logit_grads + rows);
        concat_grad_.resize(rows * width, nn::DataType::f32);
        output_layer_->backward(concat_.f32(), nullptr, logit_grad_copy_.data(),
                                concat_grad_.f32(), rows);
        const float* g = concat_grad_.f32();

        if (has_gmf_) {
            // d(p * q)/dp = q and d(p * q)/dq = p.
            user_grad_.resize(rows * gmf_dim_);
            item_grad_.resize(rows * gmf_dim_);
            for (int64_t row = 0; row < rows; ++row) {
                for (uint32_t d = 0; d < gmf_dim_; ++d) {
                    const float grad = g[row * width + d];
                    user_grad_[row * gmf_dim_ + d] = grad * item_gmf_[row * gmf_dim_ + d];
                    item_grad_[row * gmf_dim_ + d] = grad * user_gmf_[row * gmf_dim_ + d];
                }
            }
            gmf_[0]->backward(batch, user_grad_.data(), gmf_dim_);
            gmf_[1]->backward(batch, item_grad_.data(), gmf_dim_);
        }
        deep_grad_.resize(rows * deep_width(), nn::DataType::f32);
        for (int64_t row = 0; row < rows; ++row) {
            std::copy(g + row * width + gmf_width(), g + (row + 1) * width,
                      deep_grad_.f32() + row * deep_width());
        }
        mlp_input_grad_.resize(rows * mlp_embeddings_.width(), nn::DataType::f32);
        mlp_->backward(deep_grad_.f32(), mlp_input_grad_.f32());
        mlp_embeddings_.backward(batch, mlp_input_grad_.f32());
    }

    json structure() const override {
        const std::string output_weight = output_.layers[0].first->name();
        const std::string first_layer = tower_.layers[0].first->name();
        json fields = json::array();
        json dim_slices = json::array();
        for (size_t position = 0; position < mlp_fields_.size(); ++position) {
            const uint32_t field = mlp_fields_[position];
            const Tensor& mlp_table = mlp_table_of(position);
            json slices = {nn::whole_table_slice(mlp_table),
                           nn::field_slice(first_layer, 1, position * mlp_dim_, mlp_dim_)};
            if (has_gmf_) {
                const Tensor& gmf_table = gmf_[field == sides_[0] ? 0 : 1]->table();
                slices.push_back(nn::whole_table_slice(gmf_table));
                slices.push_back(nn::field_slice(output_weight, 1, 0, gmf_dim_));
                dim_slices.push_back(nn::unit_slice(gmf_table.name(), 1, 0));
            }
            dim_slices.push_back(nn::unit_slice(mlp_table.name(), 1, 0));
            dim_slices.push_back(nn::unit_slice(first_layer, 1, position * mlp_dim_));
            fields.push_back(
                {{"field", field}, {"name", field_spec(field).name}, {"slices", slices}});
        }
        if (has_gmf_) dim_slices.push_back(nn::unit_slice(output_weight, 1, 0));
        json out = {{"fields", fields}};
        // Dimension d is one unit across both towers only when they have the same width.
        if (shared_dim() > 0) out["embedding_dims"] = {{"count", mlp_dim_}, {"slices", dim_slices}};
        out["neurons"] = tower_.neuron_families(tower_.layers.size(), output_weight, gmf_width());
        out["compute"] = compute_->describe();
        return out;
    }

    recprune_model_cost_t cost() const override {
        recprune_model_cost_t cost = nn::parameter_cost(tensors());
        // GMF: one multiply per dimension; then the tower and the output layer.
        cost.flops_per_sample_dense = gmf_width() + tower_.flops() + output_.flops();

        // After masks a GMF dimension is live while both sides' columns are (it is their
        // product), and an MLP input while its embedding column is.
        std::vector<bool> live_concat(gmf_width(), false);
        if (has_gmf_) {
            const std::vector<bool> user = nn::nonzero_columns(gmf_[0]->table());
            const std::vector<bool> item = nn::nonzero_columns(gmf_[1]->table());
            for (uint32_t d = 0; d < gmf_dim_; ++d) live_concat[d] = user[d] && item[d];
        }
        std::vector<bool> live_inputs;
        for (size_t position = 0; position < mlp_fields_.size(); ++position) {
            const std::vector<bool> columns = nn::nonzero_columns(mlp_table_of(position));
            live_inputs.insert(live_inputs.end(), columns.begin(), columns.end());
        }
        const nn::Tower::MaskedCost deep = tower_.after_masks(live_inputs, tower_.layers.size());
        const double live_gmf =
            static_cast<double>(std::count(live_concat.begin(), live_concat.end(), true));
        live_concat.insert(live_concat.end(), deep.live_outputs.begin(), deep.live_outputs.end());
        cost.flops_per_sample_nonzero =
            live_gmf + deep.flops + output_.after_masks(live_concat, 0).flops;
        return cost;
    }

    std::unique_ptr<recprune::Model> compact(const json& plan_json) const override {
        const size_t hidden = tower_.layers.size();
        const nn::CompactionPlan plan(plan_json, config_, shared_dim(),
                                      tower_.layer_sizes(hidden));
        const std::vector<uint32_t> gmf_dims = plan.kept_dims(gmf_dim_);
        const std::vector<uint32_t> mlp_dims = plan.kept_dims(mlp_dim_);
        const std::vector<std::vector<uint32_t>> kept = tower_.kept_outputs(plan, hidden);
        nn::ModelConfig config = compacted_config(plan);
        config.params["embedding_dim"] = gmf_dims.size();
        config.params["mlp_embedding_dim"] = mlp_dims.size();
        std::vector<size_t> hidden_sizes;
        for (const auto& layer : kept) hidden_sizes.push_back(layer.size());
        config.params["hidden_layers"] = hidden_sizes;
        auto out = std::make_unique<NeuMf>(host_, config, 0);

        if (out->has_gmf_) {
            for (size_t side = 0; side < 2; ++side) {
                nn::copy_embedding(gmf_[side]->table(), out->gmf_[side]->table(),
                                   plan.row_remap(sides_[side]), gmf_dims);
            }
        }
        std::vector<uint32_t> input_columns;
        for (size_t position = 0; position < out->mlp_fields_.size(); ++position) {
            const uint32_t field = out->mlp_fields_[position];
            const size_t old = field == mlp_fields_[0] ? 0 : 1;
            nn::copy_embedding(mlp_table_of(old), out->mlp_table_of(position),
                               plan.row_remap(field), mlp_dims);
            for (uint32_t d : mlp_dims) {
                input_columns.push_back(static_cast<uint32_t>(old) * mlp_dim_ + d);
            }
        }
        tower_.copy_into(out->tower_, input_columns, kept);
        std::vector<uint32_t> output_columns;
        if (out->has_gmf_) output_columns = gmf_dims;
        for (uint32_t j : kept.back()) output_columns.push_back(gmf_width() + j);
        output_.copy_into(out->output_, output_columns, {{0}});
        return out;
    }

private:
    uint32_t gmf_width() const { return has_gmf_ ? gmf_dim_ : 0; }
    uint32_t deep_width() const { return tower_.width(tower_.layers.size() - 1); }
    uint32_t concat_width() const { return gmf_width() + deep_width(); }
    /// Returns the embedding width shared by every table, or 0 when the towers differ.
    uint32_t shared_dim() const {
        return !has_gmf_ || gmf_dim_ == mlp_dim_ ? mlp_dim_ : 0;
    }
    Tensor& mlp_table_of(size_t position) const {
        return const_cast<nn::FieldEmbeddings&>(mlp_embeddings_).bag(position).table();
    }

    uint32_t gmf_dim_ = 0;
    uint32_t mlp_dim_ = 0;
    std::vector<uint32_t> sides_;       ///< user field, item field
    bool has_gmf_ = false;
    std::vector<std::unique_ptr<nn::EmbeddingBag>> gmf_;  ///< user, item
    std::vector<uint32_t> mlp_fields_;  ///< active sides in the MLP input, in order
    nn::FieldEmbeddings mlp_embeddings_;
    nn::Tower tower_;
    nn::Tower output_;
    std::optional<nn::Compute> compute_;
    std::optional<nn::Mlp> mlp_;
    std::optional<nn::DenseLayer> output_layer_;

    std::vector<float> user_gmf_, item_gmf_, user_grad_, item_grad_, logit_grad_copy_;
    nn::Buffer concat_, concat_grad_, mlp_input_, mlp_input_grad_, deep_grad_;
    int64_t rows_forwarded_ = 0;
};

}  // namespace

RECPRUNE_REGISTER_PLUGIN(NeuMf, kName, "1.0.0",
                         "NeuMF: GMF and MLP towers over user and item embeddings (He et al. 2017)",
                         kSchema)
