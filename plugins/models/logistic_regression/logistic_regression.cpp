// Logistic regression over categorical fields and dense inputs:
//   logit = b + sum over fields f of w_f[pooled ids of f] + w_dense . x_dense.
// Each field's weights are a one-column embedding table, so embedding-row and field pruning
// apply to it like to any embedding.
#include "recprune/nn/compaction.hpp"
#include "recprune/nn/config.hpp"
#include "recprune/nn/field_embeddings.hpp"
#include "recprune/nn/model_file.hpp"
#include "recprune/nn/params.hpp"
#include "recprune/nn/random.hpp"
#include "recprune/nn/structure.hpp"
#include "recprune/sdk.hpp"

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

namespace {

using recprune::json;
namespace nn = recprune::nn;

constexpr char kName[] = "logistic_regression";

constexpr char kSchema[] = R"json({"parameters": {
  "pooling": {"type": "string", "default": "sum", "enum": ["sum", "mean"],
              "help": "how a multi-hot field combines the weights of its values"},
  "init_std": {"type": "number", "default": 0.01, "minimum": 0,
               "help": "standard deviation of the normal initialisation of the weights"}
}})json";

class LogisticRegression final : public recprune::Model {
public:
    LogisticRegression(const recprune::Host& host, const json& params, const json& schema,
                       uint64_t seed)
        : LogisticRegression(host, nn::ModelConfig::make(nn::Params(kSchema, params).values(),
                                                         schema),
                             seed) {}

    static std::unique_ptr<recprune::Model> load(const recprune::Host& host,
                                                 const std::string& path) {
        return nn::load_model_file(path, kName, [&](const nn::ModelConfig& config) {
            return std::unique_ptr<LogisticRegression>(new LogisticRegression(host, config, 0));
        });
    }

    void forward(const recprune_batch_t& batch, bool training, float* logits) override {
        (void)training;
        nn::check_batch_shape(batch, field_count(), dense_count());
        const uint64_t rows = batch.row_count;
        // logit = bias + each field's weight in field order + dense inputs.
        std::fill_n(logits, rows, bias_->data()[0]);
        linear_.forward_sum(batch, logits);
        for (uint64_t row = 0; row < rows; ++row) {
            float z = logits[row];
            if (dense_ != nullptr) {
                const float* x = batch.dense + row * dense_count();
                for (uint32_t i = 0; i < dense_count(); ++i) z += dense_->data()[i] * x[i];
            }
            logits[row] = z;
        }
    }

    void backward(const recprune_batch_t& batch, const float* logit_grads) override {
        nn::check_batch_shape(batch, field_count(), dense_count());
        const uint64_t rows = batch.row_count;

        // d logit / d pooled_f = 1 for every field, so each one-wide bag gets the logit grads.
        linear_.backward_shared(batch, logit_grads, 1);

        double bias_grad = 0.0;
        for (uint64_t row = 0; row < rows; ++row) bias_grad += logit_grads[row];
        bias_->grad()[0] = static_cast<float>(bias_grad);
        if (dense_ != nullptr) {
            for (uint32_t i = 0; i < dense_count(); ++i) {
                double sum = 0.0;
                for (uint64_t row = 0; row < rows; ++row) {
                    sum += static_cast<double>(logit_grads[row]) *
                           batch.dense[row * dense_count() + i];
                }
                dense_->grad()[i] = static_cast<float>(sum);
            }
        }
    }

    json structure() const override {
        json fields = json::array();
        for (size_t i = 0; i < field_ids_.size(); ++i) {
            const uint32_t f = field_ids_[i];
            fields.push_back({{"field", f},
                              {"name", config_.schema.fields[f].name},
                              {"slices", {nn::whole_table_slice(*tables_[i])}}});
        }
        return {{"fields", fields}, {"compute", {{"precision", "f32"}}}};
    }

    recprune_model_cost_t cost() const override {
        recprune_model_cost_t cost = nn::parameter_cost(tensors());
        // Per sample: one add per field and per dense input, one multiply per dense input.
        double dense_flops = static_cast<double>(field_ids_.size()) + 2.0 * dense_count();
        double nonzero_flops = 2.0 * (dense_ ? nn::count_nonzero(*dense_) : 0);
        for (const recprune::Tensor* table : tables_) nonzero_flops += nn::any_nonzero(*table);
        cost.flops_per_sample_dense = dense_flops;
        cost.flops_per_sample_nonzero = nonzero_flops;
        return cost;
    }

    std::unique_ptr<recprune::Model> compact(const json& plan_json) const override {
        const nn::CompactionPlan plan(plan_json, config_, 0, {});
        nn::ModelConfig config = config_;
        config.removed_fields = plan.removed_fields();
        for (uint32_t f = 0; f < field_count(); ++f) {
            config.schema.fields[f].vocabulary_size =
                plan.new_vocabulary_size(f, config_.schema.fields[f].vocabulary_size);
        }
        auto out = std::unique_ptr<LogisticRegression>(new LogisticRegression(host_, config, 0));

        for (size_t i = 0; i < out->field_ids_.size(); ++i) {
            const uint32_t f = out->field_ids_[i];
            nn::copy_embedding(*table_of(f), *out->tables_[i], plan.row_remap(f), {0});
        }
        out->bias_->data()[0] = bias_->data()[0];
        if (dense_ != nullptr) {
            std::copy(dense_->data(), dense_->data() + dense_->size(), out->dense_->data());
        }
        return out;
    }

    void save(const std::string& path) const override {
        nn::write_model_file(path, kName, config_, tensors());
    }

private:
    LogisticRegression(const recprune::Host& host, nn::ModelConfig config, uint64_t seed)
        : host_(host), config_(std::move(config)) {
        const nn::Params params(kSchema, config_.params);
        const nn::Pooling pooling = nn::parse_pooling(params.string("pooling"));
        const double init_std = params.number("init_std");

        for (uint32_t f = 0; f < field_count(); ++f) {
            if (!config_.active(f)) continue;
            const nn::FieldSpec& spec = config_.schema.fields[f];
            recprune::Tensor& table = add_tensor("linear." + spec.name,
                                                 RECPRUNE_TENSOR_ROLE_EMBEDDING,
                                                 {spec.vocabulary_size, 1}, f);
            nn::fill_normal({table.data(), table.size()}, init_std,
                            nn::derive_seed(seed, table.name()));
            tables_.push_back(&table);
            field_ids_.push_back(f);
            linear_.add(table, f, pooling);
        }
        if (dense_count() > 0) {
            dense_ = &add_tensor("linear.dense", RECPRUNE_TENSOR_ROLE_DENSE_WEIGHT,
                                 {1, dense_count()});
            nn::fill_normal({dense_->data(), dense_->size()}, init_std,
                            nn::derive_seed(seed, dense_->name()));
        }
        bias_ = &add_tensor("linear.bias", RECPRUNE_TENSOR_ROLE_BIAS, {1});
    }

    uint32_t field_count() const { return static_cast<uint32_t>(config_.schema.fields.size()); }
    uint32_t dense_count() const { return config_.schema.dense_count; }

    const recprune::Tensor* table_of(uint32_t field) const {
        for (size_t i = 0; i < field_ids_.size(); ++i) {
            if (field_ids_[i] == field) return tables_[i];
        }
        return nullptr;
    }

    recprune::Host host_;
    nn::ModelConfig config_;
    std::vector<recprune::Tensor*> tables_;  ///< per active field, in field order
    std::vector<uint32_t> field_ids_;        ///< batch field of each table
    recprune::Tensor* dense_ = nullptr;
    recprune::Tensor* bias_ = nullptr;
    nn::FieldEmbeddings linear_;
};

}  // namespace

RECPRUNE_REGISTER_PLUGIN(LogisticRegression, kName, "1.0.0",
                         "logistic regression with one weight per feature value and dense input",
                         kSchema)
