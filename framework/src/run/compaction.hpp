// Turns what structured pruning removed into a physically smaller model and measures it:
// parameters, bytes on disk, FLOPs per sample, latency at batch 1 and 4096, dense and
// compacted, and the largest difference between compacted and masked predictions.
#pragma once

#include "data/prepare.hpp"
#include "plugin/instances.hpp"
#include "prune/masks.hpp"

#include <boost/json.hpp>

#include <cstddef>
#include <functional>
#include <span>
#include <vector>

namespace recprune::run {

/// The compaction plan the model plugin receives (format in docs/abi.md), built from the
/// masks: removed fields, kept embedding dimensions, kept neurons per layer, and per field a
/// remap of embedding rows that drops pruned rows (old row -> new row, pruned -> 0).
/// Returns an empty object when the masks remove no whole unit.
boost::json::object build_compaction_plan(const boost::json::value& structure,
                                          const prune::MaskSet& masks, uint32_t field_count);

/// How far compacted logits are from masked ones: the largest |compacted - masked|, the largest
/// |compacted - masked| / (1 + |masked|) and the row where the latter occurs. A NaN on either
/// side makes both maxima NaN.
struct LogitComparison {
    double max_abs_difference = 0.0;
    double max_relative_difference = 0.0;
    size_t worst_row = 0;
};

/// Compares two logit vectors row by row, over the rows both have.
LogitComparison compare_logits(std::span<const float> masked, std::span<const float> compacted);

/// Receives a compacted model that passed the check, with the plan that built it.
using CompactedModelSink =
    std::function<void(plugin::ModelInstance& compacted, const boost::json::object& plan)>;

/// Compacts `masked`, checks that the compacted model predicts what the masked one does on the
/// test part (within a tolerance, else status "failed"), and measures both it and `dense`.
/// A compacted model that passes goes to `keep` when given. Never throws for a model that
/// cannot compact or compacts wrongly: the report records why.
boost::json::object compact_and_measure(plugin::ModelInstance& masked,
                                        plugin::ModelInstance& dense,
                                        const prune::MaskSet& masks,
                                        const data::PreparedData& data,
                                        const CompactedModelSink& keep = {});

}  // namespace recprune::run
