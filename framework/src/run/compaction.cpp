#include "run/compaction.hpp"

#include "core/json_io.hpp"
#include "data/batch_builder.hpp"
#include "prune/units.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <numeric>
#include <set>

#include <unistd.h>

namespace recprune::run {
namespace {

using Clock = std::chrono::steady_clock;

// Renumbers the rows a remap keeps to 1..k in their old order; pruned rows (and row 0) -> 0.
std::vector<uint32_t> compact_remap(const std::vector<uint32_t>& remap) {
    std::vector<uint32_t> compacted(remap.size(), 0);
    uint32_t next = 1;
    for (size_t row = 1; row < remap.size(); ++row) {
        if (remap[row] != 0) compacted[row] = next++;
    }
    return compacted;
}

// Predicts logits on the first `row_count` rows of `part` (cycled when the part is shorter).
std::vector<float> logits(plugin::ModelInstance& model, const data::PreparedData& data,
                          const data::Part& part, const std::vector<std::vector<uint32_t>>& remap,
                          uint64_t batch_size) {
    data::BatchBuilder builder(part, static_cast<uint32_t>(data.fields.size()), data.dense_count);
    if (!remap.empty()) builder.set_row_remap(remap);
    std::vector<float> out(part.row_count);
    std::vector<uint64_t> rows;
    for (uint64_t begin = 0; begin < part.row_count; begin += batch_size) {
        uint64_t end = std::min(part.row_count, begin + batch_size);
        rows.resize(end - begin);
        std::iota(rows.begin(), rows.end(), begin);
        model.forward(builder.build(rows), false, out.data() + begin);
    }
    return out;
}

// Median wall time in milliseconds of one forward pass over `batch_size` test rows.
double median_latency_ms(plugin::ModelInstance& model, const data::PreparedData& data,
                         const std::vector<std::vector<uint32_t>>& remap, uint64_t batch_size,
                         int repeats) {
    const data::Part& part = data.test;
    if (part.row_count == 0) return std::nan("");
    data::BatchBuilder builder(part, static_cast<uint32_t>(data.fields.size()), data.dense_count);
    if (!remap.empty()) builder.set_row_remap(remap);
    std::vector<uint64_t> rows(batch_size);
    for (uint64_t i = 0; i < batch_size; ++i) rows[i] = i % part.row_count;
    const recprune_batch_t& batch = builder.build(rows);
    std::vector<float> out(batch_size);

    // The first passes create oneDNN primitives (JIT) and are not timed.
    for (int i = 0; i < 3; ++i) model.forward(batch, false, out.data());
    std::vector<double> times;
    for (int i = 0; i < repeats; ++i) {
        auto start = Clock::now();
        model.forward(batch, false, out.data());
        times.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    }
    std::nth_element(times.begin(), times.begin() + static_cast<long>(times.size() / 2),
                     times.end());
    return times[times.size() / 2];
}

boost::json::value bytes_on_disk(plugin::ModelInstance& model, const std::string& tag) {
    if (!model.can_save()) return nullptr;
    auto path = std::filesystem::temp_directory_path() /
                ("recprune-" + std::to_string(::getpid()) + "-" + tag + ".model");
    try {
        model.save(path.string());
    } catch (const std::exception&) {
        return nullptr;
    }
    std::error_code ec;
    auto size = std::filesystem::file_size(path, ec);
    std::filesystem::remove(path, ec);
    return size;
}

boost::json::object measure(plugin::ModelInstance& model, const data::PreparedData& data,
                            const std::vector<std::vector<uint32_t>>& remap,
                            const std::string& tag) {
    recprune_model_cost_t cost = model.cost();
    return boost::json::object{
        {"parameters", cost.parameter_count},
        {"nonzero_parameters", cost.nonzero_parameter_count},
        {"flops_per_sample", cost.flops_per_sample_dense},
        {"bytes_on_disk", bytes_on_disk(model, tag)},
        {"latency_ms_batch_1", median_latency_ms(model, data, remap, 1, 101)},
        {"latency_ms_batch_4096", median_latency_ms(model, data, remap, 4096, 7)}};
}

}  // namespace

boost::json::object build_compaction_plan(const boost::json::value& structure,
                                          const prune::MaskSet& masks, uint32_t field_count) {
    boost::json::object plan;
    const auto* root = structure.is_object() ? &structure.as_object() : nullptr;
    if (root == nullptr) return plan;

    // Field units are the entries of "fields" in order; each names its batch field index.
    if (const auto* fields = root->if_contains("fields"); fields && fields->is_array()) {
        boost::json::array removed;
        for (uint64_t unit : masks.pruned_units(RECPRUNE_GRANULARITY_FIELD)) {
            if (unit < fields->as_array().size()) {
                removed.push_back(fields->as_array()[unit].as_object().at("field"));
            }
        }
        if (!removed.empty()) plan["removed_fields"] = removed;
    }

    if (const auto* dims = root->if_contains("embedding_dims"); dims && dims->is_object()) {
        auto pruned = masks.pruned_units(RECPRUNE_GRANULARITY_EMBEDDING_DIM);
        if (!pruned.empty()) {
            std::set<uint64_t> removed(pruned.begin(), pruned.end());
            boost::json::array kept;
            auto count = dims->as_object().at("count").to_number<uint64_t>();
            for (uint64_t d = 0; d < count; ++d) {
                if (removed.count(d) == 0) kept.push_back(d);
            }
            plan["kept_embedding_dims"] = kept;
        }
    }

    // Neuron units run through the layers in structure order.
    if (const auto* layers = root->if_contains("neurons"); layers && layers->is_array()) {
        auto pruned = masks.pruned_units(RECPRUNE_GRANULARITY_NEURON);
        if (!pruned.empty()) {
            std::set<uint64_t> removed(pruned.begin(), pruned.end());
            boost::json::object kept_neurons;
            uint64_t offset = 0;
            for (const auto& layer : layers->as_array()) {
                const auto& l = layer.as_object();
                auto count = l.at("count").to_number<uint64_t>();
                boost::json::array kept;
                for (uint64_t j = 0; j < count; ++j) {
                    if (removed.count(offset + j) == 0) kept.push_back(j);
                }
                kept_neurons[l.at("layer").as_string()] = kept;
                offset += count;
            }
            plan["kept_neurons"] = kept_neurons;
        }
    }

    auto remap = masks.row_remap(field_count);
    boost::json::object row_remap;
    for (uint32_t f = 0; f < remap.size(); ++f) {
        if (remap[f].empty()) continue;
        boost::json::array entries;
        for (uint32_t row : compact_remap(remap[f])) entries.push_back(row);
        row_remap[std::to_string(f)] = entries;
    }
    if (!row_remap.empty()) plan["row_remap"] = row_remap;
    return plan;
}

boost::json::object compact_and_measure(plugin::ModelInstance& masked,
                                        plugin::ModelInstance& dense,
                                        const prune::MaskSet& masks,
                                        const data::PreparedData& data) {
    const uint32_t field_count = static_cast<uint32_t>(data.fields.size());
    boost::json::object report;
    auto masked_remap = masks.row_remap(field_count);
    report["dense"] = measure(dense, data, {}, "dense");

    boost::json::object plan = build_compaction_plan(
        boost::json::parse(masked.structure_json()), masks, field_count);
    if (plan.empty()) {
        report["status"] = "skipped";
        report["reason"] = "the pruner pruned single weights or no structured unit (field, "
                           "embedding row or dimension, neuron), and only structured units are "
                           "removed physically";
        return report;
    }
    if (!masked.can_compact()) {
        report["status"] = "skipped";
        report["reason"] = "model " + masked.library().name() + " has no compact function";
        return report;
    }
    report["plan_summary"] = boost::json::object{
        {"removed_fields", plan.contains("removed_fields") ? plan.at("removed_fields").as_array().size() : 0},
        {"kept_embedding_dims", plan.contains("kept_embedding_dims") ? plan.at("kept_embedding_dims") : nullptr},
        {"fields_with_row_remap", plan.contains("row_remap") ? plan.at("row_remap").as_object().size() : 0}};
    if (plan.contains("kept_neurons")) {
        boost::json::object widths;
        for (const auto& [layer, kept] : plan.at("kept_neurons").as_object()) {
            widths[layer] = kept.as_array().size();
        }
        report["plan_summary"].as_object()["kept_neurons"] = widths;
    }

    std::unique_ptr<plugin::ModelInstance> compacted;
    try {
        compacted = masked.compact(json_io::serialize(plan));
    } catch (const std::exception& e) {
        report["status"] = "failed";
        report["reason"] = e.what();
        return report;
    }

    // The compacted model reads ids through the compacted remap (pruned rows -> 0).
    std::vector<std::vector<uint32_t>> compacted_remap(field_count);
    for (uint32_t f = 0; f < field_count; ++f) {
        if (!masked_remap[f].empty()) compacted_remap[f] = compact_remap(masked_remap[f]);
    }
    auto masked_logits = logits(masked, data, data.test, masked_remap, 4096);
    auto compacted_logits = logits(*compacted, data, data.test, compacted_remap, 4096);
    double max_difference = 0.0;
    for (size_t i = 0; i < masked_logits.size(); ++i) {
        max_difference = std::max(max_difference,
                                  std::fabs(double(masked_logits[i]) - compacted_logits[i]));
    }
    report["status"] = "ok";
    report["max_abs_logit_difference"] = max_difference;
    report["compacted"] = measure(*compacted, data, compacted_remap, "compacted");
    return report;
}

}  // namespace recprune::run
