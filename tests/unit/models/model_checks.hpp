// Checks shared by the model tests: gradients against central differences, masks built from
// the structure JSON, compaction against masking, save and load.
#pragma once

#include "model_plugin.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace recprune::test {

/// Returns sum_r c_r * logit_r in double, the loss whose gradient the checks compare.
inline double weighted_sum(const std::vector<float>& logits, const std::vector<float>& weights) {
    double sum = 0.0;
    for (size_t r = 0; r < logits.size(); ++r) sum += static_cast<double>(weights[r]) * logits[r];
    return sum;
}

/// Compares backward() with central differences of L = sum_r c_r logit_r (c random), on up to
/// `per_tensor` elements of each tensor. Embedding elements are taken from touched rows, and
/// one untouched row per table must have a zero numerical derivative.
inline void check_gradients(ModelInstance& model, TestBatch& batch, uint64_t seed,
                            size_t per_tensor = 24) {
    // Thousands of tiny forward calls: on one thread each costs microseconds, while waking an
    // OpenMP team for each of them dominates (and stalls when the machine is busy).
    const int saved_threads = omp_get_max_threads();
    omp_set_num_threads(1);
    struct RestoreThreads {
        int count;
        ~RestoreThreads() { omp_set_num_threads(count); }
    } restore{saved_threads};

    std::mt19937_64 rng(seed);
    std::vector<float> weights(batch.rows);
    for (float& w : weights) w = static_cast<float>((rng() >> 11) * 0x1.0p-53 * 2.0 - 1.0);
    model.forward(batch, true);
    model.backward(batch, weights);

    const std::vector<recprune_tensor_t> tensors = model.tensors();
    auto central_difference = [&](float* value, float step) {
        const float saved = *value;
        *value = saved + step;
        const double plus = weighted_sum(model.forward(batch, false), weights);
        *value = saved - step;
        const double minus = weighted_sum(model.forward(batch, false), weights);
        *value = saved;
        return (plus - minus) / (2.0 * step);
    };
    for (uint32_t t = 0; t < tensors.size(); ++t) {
        const recprune_tensor_t& tensor = tensors[t];
        const uint64_t columns = tensor.rank > 1 ? tensor.shape[1] : 1;
        std::vector<uint64_t> elements;
        std::set<uint32_t> touched;
        if (tensor.role == RECPRUNE_TENSOR_ROLE_EMBEDDING) {
            for (uint32_t row : model.touched_rows(t)) touched.insert(row);
            for (uint32_t row : touched) {
                for (uint64_t c = 0; c < columns; ++c) elements.push_back(row * columns + c);
            }
        } else {
            for (uint64_t i = 0; i < tensor.element_count; ++i) elements.push_back(i);
        }
        std::shuffle(elements.begin(), elements.end(), rng);
        if (elements.size() > per_tensor) elements.resize(per_tensor);

        for (uint64_t i : elements) {
            // Steps are powers of two, so v + h and v - h are exact for |v| < 2^17 h. A ReLU
            // whose input lies within h of zero for some row makes the difference straddle the
            // kink, so a smaller step is tried before the element counts as wrong. The
            // tolerance covers f32 rounding of L (sums of a few terms below 10, so about 1e-6
            // absolute, divided by 2h) plus 2e-3 for truncation error of order h^2.
            double numeric = 0.0;
            bool close = false;
            for (float step : {0x1.0p-8f, 0x1.0p-10f, 0x1.0p-12f}) {
                numeric = central_difference(tensor.data + i, step);
                const double tolerance = 2e-3 + 2e-3 * std::abs(numeric) + 1e-6 / step;
                close = std::abs(tensor.grad[i] - numeric) <= tolerance;
                if (close) break;
            }
            const std::string tensor_name = tensor.name;
            CAPTURE(tensor_name);
            CAPTURE(i);
            CAPTURE(numeric);
            CHECK_MESSAGE(close, "analytic gradient " << tensor.grad[i]);
        }

        if (tensor.role == RECPRUNE_TENSOR_ROLE_EMBEDDING) {
            const float h = 0x1.0p-8f;
            for (uint32_t row = 0; row < tensor.shape[0]; ++row) {
                if (touched.count(row)) continue;
                const float saved = tensor.data[row * columns];
                tensor.data[row * columns] = saved + h;
                const double plus = weighted_sum(model.forward(batch, false), weights);
                tensor.data[row * columns] = saved;
                const double base = weighted_sum(model.forward(batch, false), weights);
                const std::string tensor_name = tensor.name;
                CAPTURE(tensor_name);
                CAPTURE(row);
                CHECK(plus == base);
                break;
            }
        }
    }
}

/// Sets indices [start, start + width) of `tensor` along `axis` to zero (rank 1 or 2).
inline void zero_slice(const recprune_tensor_t& tensor, uint32_t axis, uint64_t start,
                       uint64_t width) {
    const uint64_t rows = tensor.shape[0];
    const uint64_t columns = tensor.rank > 1 ? tensor.shape[1] : 1;
    for (uint64_t row = 0; row < rows; ++row) {
        for (uint64_t c = 0; c < columns; ++c) {
            const uint64_t index = axis == 0 ? row : c;
            if (index >= start && index < start + width) tensor.data[row * columns + c] = 0.0f;
        }
    }
}

/// What a host would prune, in compaction-plan form.
struct PrunePlan {
    std::vector<uint32_t> removed_fields;
    std::vector<uint32_t> kept_dims;                          ///< empty = all
    std::map<std::string, std::vector<uint32_t>> kept_neurons;
    std::map<uint32_t, std::vector<uint32_t>> row_remap;      ///< old row -> new, 0 = pruned

    json to_json() const {
        json plan = {{"removed_fields", removed_fields}};
        if (!kept_dims.empty()) plan["kept_embedding_dims"] = kept_dims;
        plan["kept_neurons"] = json::object();
        for (const auto& [layer, kept] : kept_neurons) plan["kept_neurons"][layer] = kept;
        plan["row_remap"] = json::object();
        for (const auto& [field, remap] : row_remap) {
            plan["row_remap"][std::to_string(field)] = remap;
        }
        return plan;
    }
};

/// Zeroes what `plan` prunes, reading the slices from the model's structure JSON as a host
/// does; pruned rows are zeroed in every embedding tensor of their field.
inline void apply_masks(ModelInstance& model, const PrunePlan& plan) {
    const json structure = model.structure();
    for (const json& field : structure.value("fields", json::array())) {
        const uint32_t f = field["field"];
        if (std::find(plan.removed_fields.begin(), plan.removed_fields.end(), f) ==
            plan.removed_fields.end()) {
            continue;
        }
        for (const json& slice : field["slices"]) {
            zero_slice(model.tensor(slice["tensor"]), slice["axis"], slice["start"],
                       slice["width"]);
        }
    }
    auto zero_family = [&](const json& family, const std::vector<uint32_t>& kept) {
        const uint32_t count = family["count"];
        for (uint32_t unit = 0; unit < count; ++unit) {
            if (std::find(kept.begin(), kept.end(), unit) != kept.end()) continue;
            for (const json& slice : family["slices"]) {
                const uint64_t start = slice["start"].get<uint64_t>() +
                                       unit * slice["step"].get<uint64_t>();
                zero_slice(model.tensor(slice["tensor"]), slice["axis"], start, slice["width"]);
            }
        }
    };
    if (!plan.kept_dims.empty()) zero_family(structure.at("embedding_dims"), plan.kept_dims);
    for (const json& layer : structure.value("neurons", json::array())) {
        const auto kept = plan.kept_neurons.find(layer["layer"]);
        if (kept != plan.kept_neurons.end()) zero_family(layer, kept->second);
    }
    for (const auto& [field, remap] : plan.row_remap) {
        for (const recprune_tensor_t& t : model.tensors()) {
            if (t.role != RECPRUNE_TENSOR_ROLE_EMBEDDING || t.field != field) continue;
            for (uint32_t row = 1; row < remap.size(); ++row) {
                if (remap[row] == 0) zero_slice(t, 0, row, 1);
            }
        }
    }
}

/// Returns `batch` with the ids of each remapped field passed through `remap` (the compacted
/// model's view), or with pruned ids sent to row 0 and the others kept (`masked_view`).
inline TestBatch remap_batch(const TestBatch& batch, const PrunePlan& plan, bool masked_view) {
    TestBatch out = batch;
    for (const auto& [field, remap] : plan.row_remap) {
        for (uint32_t& id : out.ids[field]) {
            if (masked_view) {
                id = remap[id] == 0 ? 0 : id;
            } else {
                id = remap[id];
            }
        }
    }
    return out;
}

/// Checks that the model compacted by `plan` predicts what the masked model predicts, and that
/// it is smaller. `tolerance` bounds |compacted - masked| / (1 + |masked|).
inline void check_compaction(ModelInstance& model, const ModelPlugin& plugin,
                             const PrunePlan& plan, TestBatch& batch, double tolerance) {
    const uint64_t dense_parameters = model.cost().parameter_count;
    apply_masks(model, plan);
    TestBatch masked_batch = remap_batch(batch, plan, true);
    const std::vector<float> masked = model.forward(masked_batch, false);

    ModelInstance compacted(plugin, model.compact_handle(plan.to_json()));
    TestBatch compacted_batch = remap_batch(batch, plan, false);
    const std::vector<float> predicted = compacted.forward(compacted_batch, false);

    REQUIRE(predicted.size() == masked.size());
    for (size_t r = 0; r < masked.size(); ++r) {
        CAPTURE(r);
        CHECK(std::abs(predicted[r] - masked[r]) <= tolerance * (1.0 + std::abs(masked[r])));
    }
    CHECK(compacted.cost().parameter_count < dense_parameters);
    // FLOPs after masks count only the work a compacted model still does, so the two agree.
    CHECK(model.cost().flops_per_sample_nonzero == compacted.cost().flops_per_sample_dense);
}

/// Checks that a saved and reloaded model has the same tensors and predictions.
inline void check_save_load(ModelInstance& model, const ModelPlugin& plugin, TestBatch& batch,
                            const std::string& file_name) {
    const std::filesystem::path path = std::filesystem::temp_directory_path() / file_name;
    model.save(path.string());
    ModelInstance loaded(plugin, ModelInstance::load_handle(plugin, path.string()));
    std::filesystem::remove(path);

    const std::vector<recprune_tensor_t> before = model.tensors();
    const std::vector<recprune_tensor_t> after = loaded.tensors();
    REQUIRE(before.size() == after.size());
    for (size_t t = 0; t < before.size(); ++t) {
        CHECK(std::string(before[t].name) == after[t].name);
        REQUIRE(before[t].element_count == after[t].element_count);
        CHECK(std::equal(before[t].data, before[t].data + before[t].element_count,
                         after[t].data));
    }
    CHECK(model.forward(batch, false) == loaded.forward(batch, false));
}

}  // namespace recprune::test
