// Factorization machine of degree 2 (Rendle, "Factorization Machines", ICDM 2010, eq. 1):
//   logit = w0 + sum_i w_i x_i + sum_{i<j} <v_i, v_j> x_i x_j,
// with the pairwise term computed in O(k n) by lemma 3.1:
//   sum_{i<j} <v_i, v_j> x_i x_j = 1/2 sum_d [(sum_i v_id x_i)^2 - sum_i v_id^2 x_i^2].
// Every value of a categorical field is a feature i with x_i = 1 (x_i = 1/n for the n values of
// a multi-hot field under mean pooling); each dense input is a feature with its own value.
#include "recprune/nn/compaction.hpp"
#include "recprune/nn/config.hpp"
#include "recprune/nn/field_embeddings.hpp"
#include "recprune/nn/model_file.hpp"
#include "recprune/nn/params.hpp"
#include "recprune/nn/random.hpp"
#include "recprune/nn/structure.hpp"
#include "recprune/sdk.hpp"

#include <memory>
#include <string>
#include <vector>

namespace {

using recprune::json;
namespace nn = recprune::nn;

constexpr char kName[] = "fm";

constexpr char kSchema[] = R"json({"parameters": {
  "embedding_dim": {"type": "integer", "default": 16, "minimum": 1, "maximum": 4096,
                    "help": "length k of each feature's factor vector"},
  "pooling": {"type": "string", "default": "sum", "enum": ["sum", "mean"],
              "help": "value x_i of each of the n values of a multi-hot field: 1 (sum) or 1/n (mean)"},
  "init_std": {"type": "number", "default": 0.01, "minimum": 0,
               "help": "standard deviation of the normal initialisation of weights and factors"}
}})json";

class FactorizationMachine final : public recprune::Model {
public:
    FactorizationMachine(const recprune::Host& host, const json& params, const json& schema,
                         uint64_t seed)
        : FactorizationMachine(
              host, nn::ModelConfig::make(nn::Params(kSchema, params).values(), schema), seed) {}

    static std::unique_ptr<recprune::Model> load(const recprune::Host& host,
                                                 const std::string& path) {
        return nn::load_model_file(path, kName, [&](const nn::ModelConfig& config) {
            return std::unique_ptr<FactorizationMachine>(new FactorizationMachine(host, config, 0));
        });
    }

    void forward(const recprune_batch_t& batch, bool training, float* logits) override {
        (void)training;
        nn::check_batch_shape(batch, field_count(), dense_count());
        const uint64_t rows = batch.row_count;
        const uint32_t k = dim_;
        const uint32_t fields = static_cast<uint32_t>(field_ids_.size());
        const uint32_t width = factors_.width();

        // Lookups: first-order weights (summed into w0 + sum_i w_i x_i per row), factor vectors
        // e_f, and for multi-hot fields the per-feature squares sum_j (x_j v_j)^2 (for a
        // single value this is e_f^2).
        first_order_.assign(rows, bias_->data()[0]);
        factor_out_.resize(rows * width);
        square_out_.resize(rows * width);
        linear_.forward_sum(batch, first_order_.data());
        factors_.forward(batch, factor_out_.data());
        nn::parallel_for_each(
            fields,
            [&](int64_t i) {
                if (multi_hot_[i]) {
                    factors_.bag(i).forward_squares(
                        batch, square_out_.data() + factors_.offset(i), width);
                }
            },
            static_cast<int64_t>(rows * width) >= nn::kMinParallelWork);

        sums_.resize(rows * k);
        for (uint64_t row = 0; row < rows; ++row) {
            float* s = sums_.data() + row * k;
            float first_order = first_order_[row];
            for (uint32_t d = 0; d < k; ++d) s[d] = 0.0f;
            float squares = 0.0f;
            for (uint32_t i = 0; i < fields; ++i) {
                const float* e = factor_out_.data() + row * width + i * k;
                const float* q = square_out_.data() + row * width + i * k;
                for (uint32_t d = 0; d < k; ++d) {
                    s[d] += e[d];
                    squares += multi_hot_[i] ? q[d] : e[d] * e[d];
                }
            }
            if (dense_count() > 0) {
                const float* x = batch.dense + row * dense_count();
                for (uint32_t j = 0; j < dense_count(); ++j) {
                    first_order += dense_linear_->data()[j] * x[j];
                    for (uint32_t d = 0; d < k; ++d) {
                        const float v = dense_factors_->data()[d * dense_count() + j] * x[j];
                        s[d] += v;
                        squares += v * v;
                    }
                }
            }
            float sum_squared = 0.0f;
            for (uint32_t d = 0; d < k; ++d) sum_squared += s[d] * s[d];
            logits[row] = first_order + 0.5f * (sum_squared - squares);
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
        const uint32_t k = dim_;

        // d logit / d v_jd = x_j (S_d - x_j v_jd): the shared part g S goes to every field's
        // bag, the self part -g x_j^2 v_jd through the bag's square coefficient.
        shared_grad_.resize(rows * k);
        minus_grads_.resize(rows);
        for (uint64_t row = 0; row < rows; ++row) {
            const float g = logit_grads[row];
            for (uint32_t d = 0; d < k; ++d) shared_grad_[row * k + d] = g * sums_[row * k + d];
            minus_grads_[row] = -g;
        }
        factors_.backward_shared(batch, shared_grad_.data(), k, minus_grads_.data());
        // d logit / d w_f = x_f, so every one-wide linear table gets the logit grads.
        linear_.backward_shared(batch, logit_grads, 1);

        double bias_grad = 0.0;
        for (uint64_t row = 0; row < rows; ++row) bias_grad += logit_grads[row];
        bias_->grad()[0] = static_cast<float>(bias_grad);
        if (dense_count() > 0) backward_dense(batch, logit_grads);
    }

    json structure() const override {
        json fields = json::array();
        json dim_slices = json::array();
        for (size_t i = 0; i < field_ids_.size(); ++i) {
            const uint32_t f = field_ids_[i];
            fields.push_back({{"field", f},
                              {"name", config_.schema.fields[f].name},
                              {"slices",
                               {nn::whole_table_slice(factors_table(i)),
                                nn::whole_table_slice(linear_table(i))}}});
            dim_slices.push_back(nn::unit_slice(factors_table(i).name(), 1, 0));
        }
        if (dense_factors_ != nullptr) dim_slices.push_back(nn::unit_slice("embedding.dense", 0, 0));
        return {{"fields", fields},
                {"embedding_dims", {{"count", dim_}, {"slices", dim_slices}}},
                {"compute", {{"precision", "f32"}}}};
    }

    recprune_model_cost_t cost() const override {
        recprune_model_cost_t cost = nn::parameter_cost(tensors());
        // First order: one add per field, a multiply-add per dense input. Second order, per
        // feature and dimension: an add into S and a multiply-add into the squares (3 FLOPs);
        // then per dimension a square, a subtraction and a sum (3 FLOPs).
        const double fields = static_cast<double>(field_ids_.size());
        const double dense = dense_count();
        cost.flops_per_sample_dense = fields + 2.0 * dense + 3.0 * dim_ * (fields + dense) +
                                      3.0 * dim_;

        // After masks a field's first-order add counts while any of its weights is nonzero,
        // and its second-order work while its factors are.
        std::vector<bool> live_dims(dim_, false);
        double live_fields = 0.0;
        double live_factor_fields = 0.0;
        for (size_t i = 0; i < field_ids_.size(); ++i) {
            const std::vector<bool> columns = nn::nonzero_columns(factors_table(i));
            bool live = false;
            for (uint32_t d = 0; d < dim_; ++d) {
                live = live || columns[d];
                if (columns[d]) live_dims[d] = true;
            }
            live_factor_fields += live ? 1.0 : 0.0;
            live_fields += live || nn::any_nonzero(linear_table(i)) ? 1.0 : 0.0;
        }
        double live_dense = 0.0;
        if (dense_factors_ != nullptr) {
            for (uint32_t d = 0; d < dim_; ++d) {
                for (uint32_t j = 0; j < dense_count(); ++j) {
                    if (dense_factors_->data()[d * dense_count() + j] != 0.0f) live_dims[d] = true;
                }
            }
            for (bool column : nn::nonzero_columns(*dense_factors_)) live_dense += column;
        }
        double kept_dims = 0.0;
        for (bool live : live_dims) kept_dims += live;
        const double linear_nonzero =
            static_cast<double>(dense_linear_ ? nn::count_nonzero(*dense_linear_) : 0);
        cost.flops_per_sample_nonzero = live_fields + 2.0 * linear_nonzero +
                                        3.0 * kept_dims * (live_factor_fields + live_dense) +
                                        3.0 * kept_dims;
        return cost;
    }

    std::unique_ptr<recprune::Model> compact(const json& plan_json) const override {
        const nn::CompactionPlan plan(plan_json, config_, dim_, {});
        const std::vector<uint32_t> dims = plan.kept_dims(dim_);
        nn::ModelConfig config = config_;
        config.removed_fields = plan.removed_fields();
        config.params["embedding_dim"] = dims.size();
        for (uint32_t f = 0; f < field_count(); ++f) {
            config.schema.fields[f].vocabulary_size =
                plan.new_vocabulary_size(f, config_.schema.fields[f].vocabulary_size);
        }
        auto out =
            std::unique_ptr<FactorizationMachine>(new FactorizationMachine(host_, config, 0));

        for (size_t i = 0; i < out->field_ids_.size(); ++i) {
            const size_t old = index_of_field(out->field_ids_[i]);
            const std::vector<uint32_t>* remap = plan.row_remap(out->field_ids_[i]);
            nn::copy_embedding(linear_table(old), out->linear_table(i), remap, {0});
            nn::copy_embedding(factors_table(old), out->factors_table(i), remap, dims);
        }
        out->bias_->data()[0] = bias_->data()[0];
        if (dense_count() > 0) {
            nn::copy_matrix(*dense_linear_, *out->dense_linear_, {0},
                            nn::iota_indices(dense_count()));
            nn::copy_matrix(*dense_factors_, *out->dense_factors_, dims,
                            nn::iota_indices(dense_count()));
        }
        return out;
    }

    void save(const std::string& path) const override {
        nn::write_model_file(path, kName, config_, tensors());
    }

private:
    FactorizationMachine(const recprune::Host& host, nn::ModelConfig config, uint64_t seed)
        : host_(host), config_(std::move(config)) {
        const nn::Params params(kSchema, config_.params);
        const nn::Pooling pooling = nn::parse_pooling(params.string("pooling"));
        const double init_std = params.number("init_std");
        dim_ = static_cast<uint32_t>(params.integer("embedding_dim"));

        auto init = [&](recprune::Tensor& tensor) {
            nn::fill_normal({tensor.data(), tensor.size()}, init_std,
                            nn::derive_seed(seed, tensor.name()));
            return &tensor;
        };
        for (uint32_t f = 0; f < field_count(); ++f) {
            if (!config_.active(f)) continue;
            const nn::FieldSpec& spec = config_.schema.fields[f];
            recprune::Tensor* linear = init(add_tensor(
                "linear." + spec.name, RECPRUNE_TENSOR_ROLE_EMBEDDING, {spec.vocabulary_size, 1},
                f));
            recprune::Tensor* factors =
                init(add_tensor("embedding." + spec.name, RECPRUNE_TENSOR_ROLE_EMBEDDING,
                                {spec.vocabulary_size, dim_}, f));
            linear_.add(*linear, f, pooling);
            factors_.add(*factors, f, pooling);
            field_ids_.push_back(f);
            multi_hot_.push_back(spec.multi_hot);
        }
        if (dense_count() > 0) {
            dense_linear_ = init(add_tensor("linear.dense", RECPRUNE_TENSOR_ROLE_DENSE_WEIGHT,
                                            {1, dense_count()}));
            // Factors of the dense inputs as a [k, dense_count] weight: e_dense = V x.
            dense_factors_ = init(add_tensor("embedding.dense", RECPRUNE_TENSOR_ROLE_DENSE_WEIGHT,
                                             {dim_, dense_count()}));
        }
        bias_ = &add_tensor("linear.bias", RECPRUNE_TENSOR_ROLE_BIAS, {1});
    }

    void backward_dense(const recprune_batch_t& batch, const float* logit_grads) {
        const uint64_t rows = batch.row_count;
        const uint32_t k = dim_;
        const uint32_t n = dense_count();
        for (uint32_t j = 0; j < n; ++j) {
            double linear = 0.0;
            for (uint64_t row = 0; row < rows; ++row) {
                linear += static_cast<double>(logit_grads[row]) * batch.dense[row * n + j];
            }
            dense_linear_->grad()[j] = static_cast<float>(linear);
        }
        for (uint32_t d = 0; d < k; ++d) {
            for (uint32_t j = 0; j < n; ++j) {
                const float v = dense_factors_->data()[d * n + j];
                double sum = 0.0;
                for (uint64_t row = 0; row < rows; ++row) {
                    const float x = batch.dense[row * n + j];
                    sum += static_cast<double>(logit_grads[row]) * x * (sums_[row * k + d] - x * v);
                }
                dense_factors_->grad()[d * n + j] = static_cast<float>(sum);
            }
        }
    }

    uint32_t field_count() const { return static_cast<uint32_t>(config_.schema.fields.size()); }
    uint32_t dense_count() const { return config_.schema.dense_count; }
    recprune::Tensor& linear_table(size_t i) const {
        return const_cast<nn::FieldEmbeddings&>(linear_).bag(i).table();
    }
    recprune::Tensor& factors_table(size_t i) const {
        return const_cast<nn::FieldEmbeddings&>(factors_).bag(i).table();
    }
    size_t index_of_field(uint32_t field) const {
        for (size_t i = 0; i < field_ids_.size(); ++i) {
            if (field_ids_[i] == field) return i;
        }
        throw recprune::InvalidArgument("compaction failed: field " + std::to_string(field) +
                                        " has no table in the original model; report a bug");
    }

    recprune::Host host_;
    nn::ModelConfig config_;
    uint32_t dim_ = 0;
    std::vector<uint32_t> field_ids_;  ///< batch field of each active field, in order
    std::vector<bool> multi_hot_;
    nn::FieldEmbeddings linear_;
    nn::FieldEmbeddings factors_;
    recprune::Tensor* dense_linear_ = nullptr;
    recprune::Tensor* dense_factors_ = nullptr;
    recprune::Tensor* bias_ = nullptr;

    // Scratch reused across batches; sums_ ([rows, k], S of each row) is what backward needs.
    std::vector<float> first_order_, factor_out_, square_out_, sums_;
    std::vector<float> shared_grad_, minus_grads_;
    uint64_t rows_forwarded_ = 0;
};

}  // namespace

RECPRUNE_REGISTER_PLUGIN(FactorizationMachine, kName, "1.0.0",
                         "factorization machine of degree 2 (Rendle 2010) with O(kn) pairwise term",
                         kSchema)
