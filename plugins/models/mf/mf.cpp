// Biased matrix factorization for rating prediction (Koren, Bell and Volinsky, "Matrix
// Factorization Techniques for Recommender Systems", IEEE Computer 2009, eq. 4):
//   r_ui = mu + b_u + b_i + q_i . p_u.
// Only the fields with the roles "user" and "item" are read; the model outputs the predicted
// rating itself (the host pairs it with a squared loss for the rating task).
#include "recprune/nn/compaction.hpp"
#include "recprune/nn/configured_model.hpp"
#include "recprune/nn/embedding_bag.hpp"
#include "recprune/nn/random.hpp"
#include "recprune/nn/structure.hpp"
#include "recprune/nn/user_item.hpp"
#include "recprune/sdk.hpp"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace {

using recprune::json;
using recprune::Tensor;
namespace nn = recprune::nn;

constexpr char kName[] = "mf";

constexpr char kSchema[] = R"json({"parameters": {
  "embedding_dim": {"type": "integer", "default": 32, "minimum": 1, "maximum": 4096,
                    "help": "number of latent factors of users and items"},
  "init_std": {"type": "number", "default": 0.01, "minimum": 0,
               "help": "standard deviation of the normal initialisation of factors and biases"},
  "global_bias": {"type": "number", "default": 0.0,
                  "help": "initial value of mu; the mean training rating makes training start near the answer"}
}})json";

/// The user or item side: factors [rows, k] and biases [rows, 1] of one field.
struct Side {
    uint32_t field = 0;
    Tensor* factors = nullptr;
    Tensor* biases = nullptr;
    std::optional<nn::EmbeddingBag> factor_bag;
    std::optional<nn::EmbeddingBag> bias_bag;
};

class MatrixFactorization final : public nn::ConfiguredModel {
public:
    MatrixFactorization(const recprune::Host& host, const json& params, const json& schema,
                        uint64_t seed)
        : MatrixFactorization(
              host, nn::ModelConfig::make(nn::Params(kSchema, params).values(), schema), seed) {}

    MatrixFactorization(const recprune::Host& host, nn::ModelConfig config, uint64_t seed)
        : ConfiguredModel(kName, host, std::move(config)) {
        const nn::Params params(kSchema, config_.params);
        dim_ = static_cast<uint32_t>(params.integer("embedding_dim"));
        const double init_std = params.number("init_std");
        const nn::UserItemFields roles = nn::find_user_item(config_.schema, kName);
        user_.field = roles.user;
        item_.field = roles.item;
        for (Side* side : {&user_, &item_}) {
            if (!config_.active(side->field)) continue;
            const nn::FieldSpec& spec = field_spec(side->field);
            side->factors = &add_tensor("embedding." + spec.name, RECPRUNE_TENSOR_ROLE_EMBEDDING,
                                        {spec.vocabulary_size, dim_}, side->field);
            side->biases = &add_tensor("bias." + spec.name, RECPRUNE_TENSOR_ROLE_EMBEDDING,
                                       {spec.vocabulary_size, 1}, side->field);
            for (Tensor* tensor : {side->factors, side->biases}) {
                nn::fill_normal({tensor->data(), tensor->size()}, init_std,
                                nn::derive_seed(seed, tensor->name()));
            }
            side->factor_bag.emplace(*side->factors, side->field, nn::Pooling::Sum);
            side->bias_bag.emplace(*side->biases, side->field, nn::Pooling::Sum);
        }
        global_bias_ = &add_tensor("global_bias", RECPRUNE_TENSOR_ROLE_BIAS, {1});
        global_bias_->data()[0] = static_cast<float>(params.number("global_bias"));
    }

    static std::unique_ptr<recprune::Model> load(const recprune::Host& host,
                                                 const std::string& path) {
        return nn::load_model_file(path, kName, [&](const nn::ModelConfig& config) {
            return std::make_unique<MatrixFactorization>(host, config, 0);
        });
    }

    void forward(const recprune_batch_t& batch, bool training, float* logits) override {
        (void)training;
        nn::check_batch_shape(batch, field_count(), dense_count());
        const uint64_t rows = batch.row_count;
        lookup(user_, batch, user_factors_, user_biases_);
        lookup(item_, batch, item_factors_, item_biases_);
        const float mu = global_bias_->data()[0];
        for (uint64_t row = 0; row < rows; ++row) {
            float r = mu + user_biases_[row] + item_biases_[row];
            if (both_sides()) {
                const float* p = user_factors_.data() + row * dim_;
                const float* q = item_factors_.data() + row * dim_;
                for (uint32_t d = 0; d < dim_; ++d) r += p[d] * q[d];
            }
            logits[row] = r;
        }
        rows_forwarded_ = rows;
    }

    void backward(const recprune_batch_t& batch, const float* logit_grads) override {
        nn::check_batch_shape(batch, field_count(), dense_count());
        const uint64_t rows = batch.row_count;
        if (rows != rows_forwarded_) {
            throw recprune::InvalidArgument(
                "invalid backward: " + std::to_string(rows) + " rows, the last forward had " +
                std::to_string(rows_forwarded_) + "; call forward with training on first");
        }
        // d r / d p_u = g q_i and d r / d q_i = g p_u, from the factors of the forward pass.
        if (both_sides()) {
            scaled_.resize(rows * dim_);
            scale_rows(item_factors_, logit_grads, rows);
            user_.factor_bag->backward(batch, scaled_.data(), dim_);
            scale_rows(user_factors_, logit_grads, rows);
            item_.factor_bag->backward(batch, scaled_.data(), dim_);
        } else {
            for (Side* side : {&user_, &item_}) {
                if (side->factors == nullptr) continue;
                // Without the other side the factors do not reach the output.
                scaled_.assign(rows * dim_, 0.0f);
                side->factor_bag->backward(batch, scaled_.data(), dim_);
            }
        }
        for (Side* side : {&user_, &item_}) {
            if (side->biases != nullptr) side->bias_bag->backward(batch, logit_grads, 1);
        }
        double sum = 0.0;
        for (uint64_t row = 0; row < rows; ++row) sum += logit_grads[row];
        global_bias_->grad()[0] = static_cast<float>(sum);
    }

    json structure() const override {
        json fields = json::array();
        json dim_slices = json::array();
        for (const Side* side : {&user_, &item_}) {
            if (side->factors == nullptr) continue;
            fields.push_back({{"field", side->field},
                              {"name", field_spec(side->field).name},
                              {"slices",
                               {nn::whole_table_slice(*side->factors),
                                nn::whole_table_slice(*side->biases)}}});
            dim_slices.push_back(nn::unit_slice(side->factors->name(), 1, 0));
        }
        return {{"fields", fields},
                {"embedding_dims", {{"count", dim_}, {"slices", dim_slices}}},
                {"compute", {{"precision", "f32"}}}};
    }

    recprune_model_cost_t cost() const override {
        recprune_model_cost_t cost = nn::parameter_cost(tensors());
        // A dot product of k multiply-adds and three adds of biases.
        cost.flops_per_sample_dense = both_sides() ? 2.0 * dim_ + 3.0 : 2.0;
        // After masks a side counts while any of its weights is nonzero, as compaction keeps
        // a field while it is not removed, and a dimension while both sides' columns are.
        auto live = [](const Side& side) {
            return side.factors != nullptr &&
                   (nn::any_nonzero(*side.factors) || nn::any_nonzero(*side.biases));
        };
        double live_dims = 0.0;
        const bool both_live = both_sides() && live(user_) && live(item_);
        if (both_live) {
            const std::vector<bool> user_columns = nn::nonzero_columns(*user_.factors);
            const std::vector<bool> item_columns = nn::nonzero_columns(*item_.factors);
            for (uint32_t d = 0; d < dim_; ++d) live_dims += user_columns[d] && item_columns[d];
        }
        cost.flops_per_sample_nonzero = both_live ? 2.0 * live_dims + 3.0 : 2.0;
        return cost;
    }

    std::unique_ptr<recprune::Model> compact(const json& plan_json) const override {
        const nn::CompactionPlan plan(plan_json, config_, dim_, {});
        const std::vector<uint32_t> dims = plan.kept_dims(dim_);
        nn::ModelConfig config = compacted_config(plan);
        config.params["embedding_dim"] = dims.size();
        auto out = std::make_unique<MatrixFactorization>(host_, config, 0);
        const std::pair<const Side*, Side*> sides[] = {{&user_, &out->user_},
                                                       {&item_, &out->item_}};
        for (const auto& [from, to] : sides) {
            if (to->factors == nullptr) continue;
            const std::vector<uint32_t>* remap = plan.row_remap(from->field);
            nn::copy_embedding(*from->factors, *to->factors, remap, dims);
            nn::copy_embedding(*from->biases, *to->biases, remap, {0});
        }
        out->global_bias_->data()[0] = global_bias_->data()[0];
        return out;
    }

private:
    bool both_sides() const { return user_.factors != nullptr && item_.factors != nullptr; }

    void lookup(const Side& side, const recprune_batch_t& batch, std::vector<float>& factors,
                std::vector<float>& biases) const {
        factors.assign(batch.row_count * dim_, 0.0f);
        biases.assign(batch.row_count, 0.0f);
        if (side.factors == nullptr) return;
        side.factor_bag->forward(batch, factors.data(), dim_);
        side.bias_bag->forward(batch, biases.data(), 1);
    }

    void scale_rows(const std::vector<float>& factors, const float* logit_grads, uint64_t rows) {
        for (uint64_t row = 0; row < rows; ++row) {
            for (uint32_t d = 0; d < dim_; ++d) {
                scaled_[row * dim_ + d] = logit_grads[row] * factors[row * dim_ + d];
            }
        }
    }

    uint32_t dim_ = 0;
    Side user_;
    Side item_;
    Tensor* global_bias_ = nullptr;
    std::vector<float> user_factors_, item_factors_, user_biases_, item_biases_, scaled_;
    uint64_t rows_forwarded_ = 0;
};

}  // namespace

RECPRUNE_REGISTER_PLUGIN(MatrixFactorization, kName, "1.0.0",
                         "biased matrix factorization for rating prediction (Koren et al. 2009)",
                         kSchema)
