#include "run/compaction.hpp"

#include "core/json_io.hpp"
#include "data/batch_builder.hpp"
#include "prune/units.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <numeric>
#include <set>
#include <string>

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

// Saves `model` to a new file of its own in the temporary folder and returns the file's size.
// Each call gets a fresh name from mkstemps, because cells that run at once in one process
// would otherwise write and delete each other's files.
boost::json::value bytes_on_disk(plugin::ModelInstance& model) {
    if (!model.can_save()) return nullptr;
    std::string path =
        (std::filesystem::temp_directory_path() / "recprune-model-XXXXXX.model").string();
    const int descriptor = ::mkstemps(path.data(), static_cast<int>(std::strlen(".model")));
    if (descriptor < 0) return nullptr;
    ::close(descriptor);
    boost::json::value size = nullptr;
    try {
        model.save(path);
        std::error_code ec;
        const auto bytes = std::filesystem::file_size(path, ec);
        if (!ec) size = bytes;
    } catch (const std::exception&) {
        size = nullptr;
    }
    std::error_code ignored;
    std::filesystem::remove(path, ignored);
    return size;
}

boost::json::object measure(plugin::ModelInstance& model, const data::PreparedData& data,
                            const std::vector<std::vector<uint32_t>>& remap) {
    recprune_model_cost_t cost = model.cost();
    return boost::json::object{
        {"parameters", cost.parameter_count},
        {"nonzero_parameters", cost.nonzero_parameter_count},
        {"flops_per_sample", cost.flops_per_sample_dense},
        {"bytes_on_disk", bytes_on_disk(model)},
        {"latency_ms_batch_1", median_latency_ms(model, data, remap, 1, 101)},
        {"latency_ms_batch_4096", median_latency_ms(model, data, remap, 4096, 7)}};
}

// The largest |compacted - masked| / (1 + |masked|) a logit may show. The compacted model
// runs the same arithmetic over fewer units, so only the order of some sums changes. In the
// 295 compacted rows of the reproduction grids in results/, f32 models differed by at most
// 1e-5 and bf16 DeepFM by at most 1.3e-3 (absolute). So 1e-4 leaves room in f32 and still
// catches a wrong weight. bf16 keeps 8 bits of mantissa (a step of 2^-8, about 4e-3), and a
// reordered bf16 sum may move by a few such steps.
double logit_tolerance(plugin::ModelInstance& model) {
    const boost::json::value structure = boost::json::parse(model.structure_json());
    const auto* compute =
        structure.is_object() ? structure.as_object().if_contains("compute") : nullptr;
    const auto* precision = compute != nullptr && compute->is_object()
                                ? compute->as_object().if_contains("precision")
                                : nullptr;
    const bool bf16 = precision != nullptr && precision->is_string() &&
                      precision->as_string() == "bf16";
    return bf16 ? 3e-2 : 1e-4;
}

}  // namespace

LogitComparison compare_logits(std::span<const float> masked, std::span<const float> compacted) {
    LogitComparison comparison;
    for (size_t i = 0; i < masked.size() && i < compacted.size(); ++i) {
        const double difference = std::fabs(double(masked[i]) - double(compacted[i]));
        const double relative = difference / (1.0 + std::fabs(double(masked[i])));
        // A NaN logit on either side makes its row the worst, and the maxima stay NaN after it.
        if (std::isnan(comparison.max_relative_difference)) break;
        comparison.max_abs_difference = std::isnan(difference)
                                            ? difference
                                            : std::max(comparison.max_abs_difference, difference);
        if (std::isnan(relative) || relative > comparison.max_relative_difference) {
            comparison.max_relative_difference = relative;
            comparison.worst_row = i;
        }
    }
    return comparison;
}

boost::json::object build_compaction_plan(const boost::json::value& structure,
                                          const prune::MaskSet& masks, uint32_t field_count) {
    boost::json::object plan;
    const auto* root = structure.is_object() ? &structure.as_object() : nullptr;
    if (root == nullptr) return plan;

    // Field units are the entries of "fields" in order; each names its batch field index. A
    // field whose every embedding row is pruned reads only zeros, so it goes too, unless that
    // would leave no field (the model could not be built).
    std::set<uint64_t> removed_fields;
    if (const auto* fields = root->if_contains("fields"); fields && fields->is_array()) {
        const auto& units = fields->as_array();
        for (uint64_t unit : masks.pruned_units(RECPRUNE_GRANULARITY_FIELD)) {
            if (unit < units.size()) {
                removed_fields.insert(units[unit].as_object().at("field").to_number<uint64_t>());
            }
        }
        std::set<uint64_t> with_emptied = removed_fields;
        for (uint32_t field : masks.fields_with_all_rows_pruned()) {
            for (const auto& unit : units) {
                if (unit.as_object().at("field").to_number<uint64_t>() == field) {
                    with_emptied.insert(field);
                }
            }
        }
        if (with_emptied.size() < units.size()) removed_fields = with_emptied;
        boost::json::array removed;
        for (uint64_t field : removed_fields) removed.push_back(field);
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
        if (remap[f].empty() || removed_fields.count(f) != 0) continue;
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
                                        const data::PreparedData& data,
                                        const CompactedModelSink& keep) {
    const uint32_t field_count = static_cast<uint32_t>(data.fields.size());
    boost::json::object report;
    auto masked_remap = masks.row_remap(field_count);
    report["dense"] = measure(dense, data, {});

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
    const LogitComparison comparison = compare_logits(masked_logits, compacted_logits);
    const size_t worst_row = comparison.worst_row;
    const double tolerance = logit_tolerance(masked);
    // Rows are strict JSON, so a NaN difference is written as null (and fails the check).
    report["max_abs_logit_difference"] =
        std::isfinite(comparison.max_abs_difference)
            ? boost::json::value(comparison.max_abs_difference)
            : boost::json::value(nullptr);
    report["logit_tolerance"] = tolerance;
    if (!(comparison.max_relative_difference <= tolerance)) {
        report["status"] = "failed";
        report["reason"] =
            "the compacted model of " + masked.library().name() + " predicts a logit of " +
            std::to_string(compacted_logits[worst_row]) + " on test row " +
            std::to_string(worst_row) + " where the masked model predicts " +
            std::to_string(masked_logits[worst_row]) + ", beyond the tolerance " +
            std::to_string(tolerance) + " x (1 + |masked logit|); the plugin's compact "
            "function must keep the kept units' weights and drop only the removed ones";
        return report;
    }
    report["status"] = "ok";
    report["compacted"] = measure(*compacted, data, compacted_remap);
    if (keep) keep(*compacted, plan);
    return report;
}

}  // namespace recprune::run
