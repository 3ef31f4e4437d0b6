// The @NAME@ model.
//
// Written by `recprune new-plugin model @NAME@`. As written it is a logistic regression over
// the categorical fields and the dense inputs,
//     logit = b + sum over fields f of (sum of w_f[id] over the ids of f in the row) + v . x,
// written with the SDK alone so that every step is visible. Change the tensors, forward() and
// backward() to build your model; the recprune::nn package target offers oneDNN embedding bags
// and dense layers for larger ones.
//
// What the host does around a model, which the recprune docs describe in detail in
// @DOC_DIR@/abi.md:
// - it creates the model with the grid's parameters, a schema of the data and a seed. The
//   schema lists the fields with their vocabulary sizes, the number of dense inputs and the
//   task. The initial weights must depend on the seed only;
// - it owns the loss, the optimizer and the masks: forward() returns one logit per row, and
//   backward() receives d(loss)/d(logit) and writes the gradient of every tensor;
// - embedding tables are updated sparsely: backward() lists in touched_rows() the rows it wrote,
//   and only those rows of an embedding gradient are read;
// - structure() tells the host which slices of which tensors each field couples, so field and
//   embedding-row pruning work on this model; cost() reports its size.
#include "recprune/sdk.hpp"

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace {

using recprune::json;

constexpr const char* kSchema = R"json({"parameters": {
  "init_std": {"type": "number", "default": 0.01, "minimum": 0,
    "help": "standard deviation of the normal initialisation of the weights"}
}})json";

/// Logistic regression: one weight per vocabulary row of each field, one per dense input, and a
/// bias.
class @CLASS@Model : public recprune::Model {
public:
    @CLASS@Model(const recprune::Host& host, const json& params, const json& schema,
                 uint64_t seed)
        : host_(host) {
        const double init_std = params.value("init_std", 0.01);
        std::mt19937_64 generator(seed);
        std::normal_distribution<float> normal(0.0f, static_cast<float>(init_std));

        // One single-column embedding table per field: its rows are the field's values.
        const json& fields = schema.at("fields");
        for (uint32_t f = 0; f < fields.size(); ++f) {
            const std::string name = fields[f].at("name").get<std::string>();
            const uint64_t rows = fields[f].at("vocabulary_size").get<uint64_t>();
            recprune::Tensor& table =
                add_tensor("linear." + name, RECPRUNE_TENSOR_ROLE_EMBEDDING, {rows, 1}, f);
            for (uint64_t i = 0; i < table.size(); ++i) table.data()[i] = normal(generator);
            tables_.push_back(&table);
            field_names_.push_back(name);
        }
        dense_count_ = schema.value("dense_count", 0u);
        if (dense_count_ > 0) {
            dense_ = &add_tensor("linear.dense", RECPRUNE_TENSOR_ROLE_DENSE_WEIGHT,
                                 {1, dense_count_});
            for (uint64_t i = 0; i < dense_->size(); ++i) dense_->data()[i] = normal(generator);
        }
        bias_ = &add_tensor("bias", RECPRUNE_TENSOR_ROLE_BIAS, {1});
        host_.debug("created with " + std::to_string(fields.size()) + " fields");
    }

    void forward(const recprune_batch_t& batch, bool training, float* logits) override {
        (void)training;  // no dropout or batch statistics in this model
        check_batch(batch);
        for (uint64_t row = 0; row < batch.row_count; ++row) {
            double z = bias_->data()[0];
            for (uint32_t f = 0; f < batch.field_count; ++f) {
                const float* weights = tables_[f]->data();
                for_each_id(batch, f, row, [&](uint32_t id) { z += weights[id]; });
            }
            for (uint32_t i = 0; i < dense_count_; ++i) {
                z += static_cast<double>(dense_->data()[i]) * batch.dense[row * dense_count_ + i];
            }
            logits[row] = static_cast<float>(z);
        }
    }

    void backward(const recprune_batch_t& batch, const float* logit_grads) override {
        check_batch(batch);

        // d logit / d w_f[id] = number of times id occurs in the row's field f.
        for (uint32_t f = 0; f < batch.field_count; ++f) {
            recprune::Tensor& table = *tables_[f];
            std::vector<uint32_t>& touched = table.touched_rows();
            touched.clear();
            for (uint64_t row = 0; row < batch.row_count; ++row) {
                for_each_id(batch, f, row, [&](uint32_t id) { touched.push_back(id); });
            }
            std::sort(touched.begin(), touched.end());
            touched.erase(std::unique(touched.begin(), touched.end()), touched.end());
            for (uint32_t id : touched) table.grad()[id] = 0.0f;
            for (uint64_t row = 0; row < batch.row_count; ++row) {
                const float grad = logit_grads[row];
                for_each_id(batch, f, row, [&](uint32_t id) { table.grad()[id] += grad; });
            }
        }

        double bias_grad = 0.0;
        for (uint64_t row = 0; row < batch.row_count; ++row) bias_grad += logit_grads[row];
        bias_->grad()[0] = static_cast<float>(bias_grad);
        for (uint32_t i = 0; i < dense_count_; ++i) {
            double sum = 0.0;
            for (uint64_t row = 0; row < batch.row_count; ++row) {
                sum += static_cast<double>(logit_grads[row]) * batch.dense[row * dense_count_ + i];
            }
            dense_->grad()[i] = static_cast<float>(sum);
        }
    }

    json structure() const override {
        // Each field couples the whole of its table: rows [0, vocabulary_size) along axis 0.
        json fields = json::array();
        for (uint32_t f = 0; f < tables_.size(); ++f) {
            fields.push_back({{"field", f},
                              {"name", field_names_[f]},
                              {"slices", {{{"tensor", tables_[f]->name()},
                                           {"axis", 0},
                                           {"start", 0},
                                           {"width", tables_[f]->shape()[0]}}}}});
        }
        return {{"fields", fields}};
    }

    recprune_model_cost_t cost() const override {
        recprune_model_cost_t cost{};
        cost.struct_size = sizeof(cost);
        uint64_t nonzero_tables = 0;
        for (const auto& tensor : tensors()) {
            cost.parameter_count += tensor->size();
            const float* data = tensor->data();
            uint64_t nonzero = static_cast<uint64_t>(std::count_if(
                data, data + tensor->size(), [](float w) { return w != 0.0f; }));
            cost.nonzero_parameter_count += nonzero;
            if (tensor->role() == RECPRUNE_TENSOR_ROLE_EMBEDDING && nonzero > 0) ++nonzero_tables;
        }
        // Per sample: one add per field (a single-valued field reads one weight) and a
        // multiply-add per dense input.
        cost.flops_per_sample_dense = static_cast<double>(tables_.size()) + 2.0 * dense_count_;
        uint64_t nonzero_dense = 0;
        for (uint32_t i = 0; i < dense_count_; ++i) nonzero_dense += dense_->data()[i] != 0.0f;
        cost.flops_per_sample_nonzero =
            static_cast<double>(nonzero_tables) + 2.0 * static_cast<double>(nonzero_dense);
        return cost;
    }

private:
    /// Calls `visit(id)` for each vocabulary index of field `f` in `row`.
    template <typename Visit>
    static void for_each_id(const recprune_batch_t& batch, uint32_t f, uint64_t row,
                            Visit&& visit) {
        const uint32_t* ids = batch.ids[f];
        const uint64_t* offsets = batch.offsets[f];
        if (offsets == nullptr) {
            visit(ids[row]);
            return;
        }
        for (uint64_t i = offsets[row]; i < offsets[row + 1]; ++i) visit(ids[i]);
    }

    void check_batch(const recprune_batch_t& batch) const {
        if (batch.field_count != tables_.size() || batch.dense_count != dense_count_) {
            throw recprune::InvalidArgument(
                "invalid batch: @NAME@: " + std::to_string(batch.field_count) + " fields and " +
                std::to_string(batch.dense_count) + " dense inputs, the model has " +
                std::to_string(tables_.size()) + " and " + std::to_string(dense_count_) +
                "; build the model with the schema of this data");
        }
    }

    recprune::Host host_;
    std::vector<recprune::Tensor*> tables_;
    std::vector<std::string> field_names_;
    recprune::Tensor* dense_ = nullptr;
    recprune::Tensor* bias_ = nullptr;
    uint32_t dense_count_ = 0;
};

}  // namespace

RECPRUNE_REGISTER_PLUGIN(@CLASS@Model, "@NAME@", "0.1.0",
                         "@NAME@: logistic regression over the fields and dense inputs (scaffold)",
                         kSchema)
