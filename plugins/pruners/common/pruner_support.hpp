// Helpers shared by the in-tree pruners: reading the unit description the host passes in
// `units_json`, visiting the tensor elements a unit covers, and parsing the parameters most
// pruners have (granularity, scope). Uses only the public SDK, so an out-of-tree pruner may copy
// this header as it is. docs/abi.md ("Pruning units") specifies the JSON read here.
#pragma once

#include "recprune/sdk.hpp"

#include <cmath>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace recprune::pruners {

/// Part of one tensor that a unit covers. Unit `i` of its block covers indices
/// [start + i * step, start + i * step + width) along `axis`, every index along the other axes.
/// A `flat` slice treats the tensor as one-dimensional (unstructured weights).
struct Slice {
    uint32_t tensor = 0;
    uint32_t axis = 0;
    uint64_t start = 0;
    uint64_t step = 0;
    uint64_t width = 1;
    bool flat = false;
};

/// A run of consecutive units whose elements follow one pattern: a tensor (WEIGHT), a layer
/// (NEURON), a field (FIELD, EMBEDDING_ROW) or the shared embedding dimensions (EMBEDDING_DIM).
struct Block {
    std::string name;
    /// Group index used by per-group selection: tensor, layer or field index, else 0.
    uint32_t group = 0;
    /// Batch field index for FIELD and EMBEDDING_ROW blocks, RECPRUNE_NO_FIELD otherwise.
    uint32_t field = RECPRUNE_NO_FIELD;
    /// Index of the block's first unit in the score array.
    uint64_t offset = 0;
    uint64_t count = 0;
    std::vector<Slice> slices;
};

/// Parses the `blocks` list of a units description.
inline std::vector<Block> parse_blocks(const json& units) {
    std::vector<Block> blocks;
    for (const json& entry : units.at("blocks")) {
        Block block;
        block.name = entry.at("name").get<std::string>();
        block.group = entry.at("group").get<uint32_t>();
        block.field = entry.value("field", static_cast<uint32_t>(RECPRUNE_NO_FIELD));
        block.offset = entry.at("offset").get<uint64_t>();
        block.count = entry.at("count").get<uint64_t>();
        for (const json& s : entry.at("slices")) {
            Slice slice;
            slice.tensor = s.at("tensor").get<uint32_t>();
            slice.axis = s.at("axis").get<uint32_t>();
            slice.start = s.at("start").get<uint64_t>();
            slice.step = s.at("step").get<uint64_t>();
            slice.width = s.at("width").get<uint64_t>();
            slice.flat = s.value("flat", false);
            block.slices.push_back(slice);
        }
        blocks.push_back(std::move(block));
    }
    return blocks;
}

/// Calls `visit(element_index)` for every row-major element of `tensor` that unit `unit` (an
/// index inside its block) covers through `slice`.
template <typename Visit>
void for_each_element(const recprune_tensor_t& tensor, const Slice& slice, uint64_t unit,
                      Visit&& visit) {
    uint64_t first = slice.start + unit * slice.step;
    if (slice.flat) {
        for (uint64_t index = first; index < first + slice.width; ++index) visit(index);
        return;
    }

    // View the tensor as [outer, extent, inner] around the slice axis.
    uint64_t outer = 1;
    uint64_t inner = 1;
    for (uint32_t axis = 0; axis < slice.axis; ++axis) outer *= tensor.shape[axis];
    for (uint32_t axis = slice.axis + 1; axis < tensor.rank; ++axis) inner *= tensor.shape[axis];
    uint64_t extent = tensor.shape[slice.axis];
    for (uint64_t o = 0; o < outer; ++o) {
        for (uint64_t i = first; i < first + slice.width; ++i) {
            uint64_t base = (o * extent + i) * inner;
            for (uint64_t k = 0; k < inner; ++k) visit(base + k);
        }
    }
}

/// Calls `visit(tensor_index, element_index)` for every element unit `unit` of `block` covers.
template <typename Visit>
void for_each_unit_element(std::span<const recprune_tensor_t> tensors, const Block& block,
                           uint64_t unit, Visit&& visit) {
    for (const Slice& slice : block.slices) {
        for_each_element(tensors[slice.tensor], slice, unit,
                         [&](uint64_t element) { visit(slice.tensor, element); });
    }
}

/// Returns the granularity named by `text`; throws InvalidArgument on an unknown name.
inline recprune_granularity_t parse_granularity(const std::string& text) {
    if (text == "weight") return RECPRUNE_GRANULARITY_WEIGHT;
    if (text == "neuron") return RECPRUNE_GRANULARITY_NEURON;
    if (text == "embedding_row") return RECPRUNE_GRANULARITY_EMBEDDING_ROW;
    if (text == "embedding_dim") return RECPRUNE_GRANULARITY_EMBEDDING_DIM;
    if (text == "field") return RECPRUNE_GRANULARITY_FIELD;
    throw InvalidArgument("invalid parameter: granularity: \"" + text +
                          "\" is not one of weight, neuron, embedding_row, embedding_dim, "
                          "field; pick one of these");
}

/// Returns true for scope "per_tensor", false for "global"; throws on anything else.
inline bool parse_per_tensor_scope(const std::string& text) {
    if (text == "global") return false;
    if (text == "per_tensor") return true;
    throw InvalidArgument("invalid parameter: scope: \"" + text +
                          "\" is not one of global, per_tensor; pick one of these");
}

/// Checks that the host asked for the granularity the pruner declared.
inline void check_granularity(const PruneContext& context, recprune_granularity_t expected) {
    if (context.granularity() != expected) {
        throw InvalidArgument("invalid prune context: granularity " +
                              std::to_string(context.granularity()) + " requested, pruner "
                              "declared " + std::to_string(expected) +
                              "; the host must ask for the declared granularity");
    }
}

/// Returns a uniform double in [0, 1) from a 64-bit key (SplitMix64 finaliser, Steele et al.,
/// "Fast splittable pseudorandom number generators", OOPSLA 2014), so each unit's draw depends
/// on the seed and its index only, the same on every platform.
inline double uniform_from_key(uint64_t key) {
    uint64_t z = key + 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z = z ^ (z >> 31);
    return static_cast<double>(z >> 11) * 0x1.0p-53;
}

/// Throws NumericalError when a score is NaN, naming the unit, so the host never ranks NaN.
inline void check_scores_finite(std::span<const double> scores, const char* pruner) {
    for (size_t unit = 0; unit < scores.size(); ++unit) {
        if (std::isnan(scores[unit])) {
            throw NumericalError(std::string("scoring failed: pruner ") + pruner + ": unit " +
                                 std::to_string(unit) + " has a NaN score; check the model's "
                                 "weights and gradients for NaN");
        }
    }
}

}  // namespace recprune::pruners
