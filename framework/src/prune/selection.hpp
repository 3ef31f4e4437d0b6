// Selection of the units to prune from a pruner's scores, written once for every pruner so the
// rounding, tie and bookkeeping rules are the same in every comparison.
#pragma once

#include "prune/masks.hpp"
#include "prune/units.hpp"

#include <boost/json.hpp>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace recprune::prune {

/// The outcome of one selection step.
struct Selection {
    /// Units newly selected for pruning, ascending; units pruned before are not repeated.
    std::vector<uint64_t> units;
    uint64_t unit_count = 0;
    /// Units the target requires: round-to-nearest of target x units, summed over groups for
    /// per-group selection.
    uint64_t target_count = 0;
    /// Units pruned after this step: the ones pruned before plus `units`.
    uint64_t pruned_count = 0;
    double target_sparsity = 0.0;
    /// pruned_count / unit_count (unit sparsity, not weight sparsity).
    double achieved_sparsity = 0.0;
    /// False when a keep rule left fewer units pruned than the target requires. The rules: each
    /// layer keeps one neuron, and the model keeps one field and one embedding dimension.
    bool target_reached = true;
    /// Reason the target was not reached, in the shape of an error message; empty when reached.
    std::string shortfall;

    /// Returns {"target_sparsity", "achieved_sparsity", "unit_count", "target_count",
    /// "pruned_count", "newly_pruned", "target_reached", "shortfall" (only when not reached)}.
    boost::json::object to_json() const;
};

/// Returns how many of `total` units a target sparsity prunes: target x total rounded to the
/// nearest integer, halves away from zero, so 0.29 x 100 = 28.999999999999996 gives 29.
uint64_t count_to_prune(double target_sparsity, uint64_t total);

/// Selects units to prune so that the pruned units reach `target_sparsity` of all units
/// (`per_group` false) or of each group of UnitSet::group_of (`per_group` true).
///
/// Rules: the target is cumulative and applies to the full unit count, so units `current`
/// already prunes stay pruned and count towards it. Only the remainder is chosen among the
/// unpruned units, lowest score first, ties broken by lower unit index. Every NEURON layer keeps
/// its best-scored unpruned neuron, and FIELD and EMBEDDING_DIM keep their best unit, so no
/// layer or embedding becomes zero-width; the rest are ranked together. When these rules stop
/// the selection short, `target_reached` is false and `shortfall` says why.
///
/// @param scores one score per unit (pruned units may have any score); NaN is rejected.
/// @param target_sparsity in [0, 1].
/// @throws ConfigError when the target is outside [0, 1].
/// @throws CellError when the score count differs from the unit count or a score is NaN.
Selection select_units(const UnitSet& units, std::span<const double> scores,
                       double target_sparsity, bool per_group, const MaskSet& current);

}  // namespace recprune::prune
