// Magnitude scores shared by the magnitude, l1_norm and regularizer pruners: |w| per weight, or
// the L1 or L2 norm of the weights a structured unit couples.
#pragma once

#include "pruner_support.hpp"

#include "recprune/sdk.hpp"

#include <cmath>
#include <span>
#include <string>

namespace recprune::pruners {

/// Options of a magnitude score.
struct MagnitudeOptions {
    /// L1 norm (sum of |w|) when true, L2 norm otherwise.
    bool l1 = false;
    /// Divides a structured unit's norm by its element count (L1) or its square root (L2).
    bool normalize_by_size = false;
};

/// Returns true for "l1", false for "l2"; throws InvalidArgument on anything else.
inline bool parse_l1_norm(const std::string& text) {
    if (text == "l1") return true;
    if (text == "l2") return false;
    throw InvalidArgument("invalid parameter: norm: \"" + text +
                          "\" is not one of l1, l2; pick one of these");
}

/// Returns the norm of the weights unit `unit` of `block` covers.
inline double unit_norm(std::span<const recprune_tensor_t> tensors, const Block& block,
                        uint64_t unit, const MagnitudeOptions& options) {
    double sum = 0.0;
    uint64_t element_count = 0;
    for_each_unit_element(tensors, block, unit, [&](uint32_t tensor, uint64_t element) {
        double value = tensors[tensor].data[element];
        sum += options.l1 ? std::fabs(value) : value * value;
        ++element_count;
    });
    double norm = options.l1 ? sum : std::sqrt(sum);
    if (options.normalize_by_size && element_count > 0) {
        double size = static_cast<double>(element_count);
        norm /= options.l1 ? size : std::sqrt(size);
    }
    return norm;
}

/// Writes magnitude scores for every unit the context describes: |w| at WEIGHT granularity,
/// unit_norm() at the structured ones. Pruned weights are zero once the host applied the masks,
/// so a partly pruned unit's norm counts only what is left.
inline void score_by_magnitude(const PruneContext& context, std::span<double> scores,
                               const MagnitudeOptions& options, const char* pruner_name) {
    auto tensors = context.tensors();
    bool single_weights = context.granularity() == RECPRUNE_GRANULARITY_WEIGHT;
    for (const Block& block : parse_blocks(context.units())) {
        for (uint64_t unit = 0; unit < block.count; ++unit) {
            if (single_weights) {
                const Slice& slice = block.slices.front();
                scores[block.offset + unit] =
                    std::fabs(tensors[slice.tensor].data[slice.start + unit * slice.step]);
            } else {
                scores[block.offset + unit] = unit_norm(tensors, block, unit, options);
            }
        }
    }
    check_scores_finite(scores, pruner_name);
}

}  // namespace recprune::pruners
