#include "prune/selection.hpp"

#include "core/errors.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>

namespace recprune::prune {

namespace {

/// Order of pruning: lowest score first, equal scores by lower unit index. The order is total,
/// so the selection does not depend on the sort algorithm.
struct PruneOrder {
    std::span<const double> scores;
    bool operator()(uint64_t a, uint64_t b) const {
        if (scores[a] != scores[b]) return scores[a] < scores[b];
        return a < b;
    }
};

std::string format_fraction(double value) {
    std::ostringstream text;
    text.precision(6);
    text << value;
    return text.str();
}

/// Returns why a granularity keeps some units, or "" when it keeps none.
std::string_view keep_rule(recprune_granularity_t granularity) {
    switch (granularity) {
    case RECPRUNE_GRANULARITY_NEURON: return "every layer keeps at least one neuron";
    case RECPRUNE_GRANULARITY_FIELD: return "the model keeps at least one field";
    case RECPRUNE_GRANULARITY_EMBEDDING_DIM:
        return "the model keeps at least one embedding dimension";
    default: return "";
    }
}

/// Marks the unit each keep group must not lose: its unpruned unit that would be pruned last.
/// NEURON keeps one per layer (block); FIELD and EMBEDDING_DIM keep one in the whole set.
std::vector<uint8_t> find_kept_units(const UnitSet& units, const std::vector<uint8_t>& pruned,
                                     const PruneOrder& order) {
    std::vector<uint8_t> kept(units.size(), 0);
    if (keep_rule(units.granularity()).empty()) return kept;

    auto keep_best = [&](uint64_t first, uint64_t end) {
        bool found = false;
        uint64_t best = 0;
        for (uint64_t unit = first; unit < end; ++unit) {
            if (pruned[unit] != 0) continue;
            if (!found || order(best, unit)) best = unit;
            found = true;
        }
        if (found) kept[best] = 1;
    };
    if (units.granularity() == RECPRUNE_GRANULARITY_NEURON) {
        for (const UnitBlock& block : units.blocks()) keep_best(block.offset, block.offset + block.count);
    } else {
        keep_best(0, units.size());
    }
    return kept;
}

void check_inputs(const UnitSet& units, std::span<const double> scores, double target_sparsity) {
    if (!(target_sparsity >= 0.0 && target_sparsity <= 1.0)) {
        throw ConfigError("invalid target sparsity: " + format_fraction(target_sparsity) +
                          ": outside [0, 1]; give a fraction such as 0.9");
    }
    if (scores.size() != units.size()) {
        throw CellError("unit selection failed: granularity " +
                        std::string(granularity_name(units.granularity())) + ": " +
                        std::to_string(scores.size()) + " scores for " +
                        std::to_string(units.size()) + " units; the pruner must write one score "
                        "per unit");
    }
    for (uint64_t unit = 0; unit < scores.size(); ++unit) {
        if (std::isnan(scores[unit])) {
            const UnitBlock& block = units.blocks()[units.block_index(unit)];
            throw CellError("unit selection failed: unit " + std::to_string(unit) + " (" +
                            block.name + " #" + std::to_string(unit - block.offset) +
                            "): the score is NaN; check the pruner and the model for NaN "
                            "weights or gradients");
        }
    }
}

}  // namespace

uint64_t count_to_prune(double target_sparsity, uint64_t total) {
    double wanted = std::round(target_sparsity * static_cast<double>(total));
    if (wanted <= 0.0) return 0;
    return std::min<uint64_t>(total, static_cast<uint64_t>(wanted));
}

Selection select_units(const UnitSet& units, std::span<const double> scores,
                       double target_sparsity, bool per_group, const MaskSet& current) {
    check_inputs(units, scores, target_sparsity);
    PruneOrder order{scores};
    std::vector<uint8_t> pruned = current.pruned_unit_flags(units);
    std::vector<uint8_t> kept = find_kept_units(units, pruned, order);

    // Domains that each reach the target: one per group, or one for all units.
    std::map<uint32_t, std::vector<const UnitBlock*>> domains;
    for (const UnitBlock& block : units.blocks()) {
        domains[per_group ? block.group : 0].push_back(&block);
    }

    Selection selection;
    selection.unit_count = units.size();
    selection.target_sparsity = target_sparsity;
    uint64_t kept_count = 0;
    for (const auto& [group, blocks] : domains) {
        uint64_t total = 0;
        uint64_t already = 0;
        std::vector<uint64_t> candidates;
        for (const UnitBlock* block : blocks) {
            total += block->count;
            for (uint64_t unit = block->offset; unit < block->offset + block->count; ++unit) {
                if (pruned[unit] != 0) {
                    ++already;
                } else if (kept[unit] != 0) {
                    ++kept_count;
                } else {
                    candidates.push_back(unit);
                }
            }
        }
        uint64_t wanted = count_to_prune(target_sparsity, total);
        selection.target_count += wanted;
        uint64_t needed = wanted > already ? wanted - already : 0;
        uint64_t taken = std::min<uint64_t>(needed, candidates.size());
        if (taken > 0 && taken < candidates.size()) {
            std::nth_element(candidates.begin(), candidates.begin() + static_cast<long>(taken),
                             candidates.end(), order);
        }
        selection.units.insert(selection.units.end(), candidates.begin(),
                               candidates.begin() + static_cast<long>(taken));
        selection.pruned_count += already + taken;
        if (taken < needed) selection.target_reached = false;
    }
    std::sort(selection.units.begin(), selection.units.end());
    selection.achieved_sparsity = selection.unit_count == 0
                                      ? 0.0
                                      : static_cast<double>(selection.pruned_count) /
                                            static_cast<double>(selection.unit_count);

    if (!selection.target_reached) {
        double reachable = static_cast<double>(units.size() - kept_count) /
                           static_cast<double>(units.size());
        selection.shortfall =
            "target not reached: granularity " + std::string(granularity_name(units.granularity())) +
            ": " + std::to_string(selection.pruned_count) + " of " +
            std::to_string(selection.unit_count) + " units pruned, the target " +
            format_fraction(target_sparsity) + " asks for " +
            std::to_string(selection.target_count) + ", because " +
            std::string(keep_rule(units.granularity())) + "; choose a target of at most " +
            format_fraction(reachable) + " for this model";
    }
    return selection;
}

boost::json::object Selection::to_json() const {
    boost::json::object object;
    object["target_sparsity"] = target_sparsity;
    object["achieved_sparsity"] = achieved_sparsity;
    object["unit_count"] = unit_count;
    object["target_count"] = target_count;
    object["pruned_count"] = pruned_count;
    object["newly_pruned"] = units.size();
    object["target_reached"] = target_reached;
    if (!target_reached) object["shortfall"] = shortfall;
    return object;
}

}  // namespace recprune::prune
