// Pruning units: what a pruner scores and the host selects. A UnitSet lists the units of one
// granularity for one model, in score order, and knows which tensor elements each unit covers.
#pragma once

#include "recprune/abi.h"

#include <boost/json.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace recprune::prune {

/// Returns the grid name of a granularity ("weight", "neuron", "embedding_row",
/// "embedding_dim", "field"), or "unknown".
std::string_view granularity_name(recprune_granularity_t granularity);

/// Returns the granularity with grid name `name`, or nothing for an unknown name.
std::optional<recprune_granularity_t> parse_granularity(std::string_view name);

/// Part of one tensor that a unit covers. Unit `i` of its block covers indices
/// [start + i * step, start + i * step + width) along `axis` and every index along the other
/// axes. A `flat` slice views the tensor as one-dimensional: unit `i` is element start + i * step.
struct UnitSlice {
    uint32_t tensor = 0;
    uint32_t axis = 0;
    uint64_t start = 0;
    uint64_t step = 0;
    uint64_t width = 1;
    bool flat = false;
};

/// A run of consecutive units whose elements follow one pattern: a tensor (WEIGHT), a layer
/// (NEURON), a field (FIELD, EMBEDDING_ROW) or the shared embedding dimensions (EMBEDDING_DIM).
struct UnitBlock {
    /// Tensor, layer or field name, or "embedding_dims".
    std::string name;
    /// Group index returned by UnitSet::group_of for every unit of the block.
    uint32_t group = 0;
    /// Batch field index for FIELD and EMBEDDING_ROW blocks, RECPRUNE_NO_FIELD otherwise.
    uint32_t field = RECPRUNE_NO_FIELD;
    /// Index of the block's first unit in the score array.
    uint64_t offset = 0;
    uint64_t count = 0;
    std::vector<UnitSlice> slices;
};

/// Rank, shape and name of a tensor, copied so a UnitSet does not depend on the model's views.
struct TensorShape {
    std::string name;
    uint32_t role = 0;
    uint32_t rank = 0;
    uint32_t field = RECPRUNE_NO_FIELD;
    std::array<uint64_t, 4> shape{};
    uint64_t element_count = 0;
};

/// The units of one granularity of one model, in the order pruners write their scores.
///
/// WEIGHT: every element of every EMBEDDING and DENSE_WEIGHT tensor, one block per tensor, group
/// = tensor index. NEURON: the hidden neurons the structure lists, one block per layer, group =
/// layer index. EMBEDDING_ROW: every vocabulary row of every field that has EMBEDDING tensors,
/// one block per field, group = field index; a row unit covers that row in every EMBEDDING
/// tensor of the field, so a removed feature value is gone from all of them. EMBEDDING_DIM: the
/// shared dimensions the structure lists, one block, group 0. FIELD: the fields the structure
/// lists, one block of one unit per field, group 0.
class UnitSet {
public:
    /// Enumerates the units of `granularity`. `structure` is the model's structure JSON (see
    /// docs/abi.md); null counts as an empty object.
    /// @throws PluginError when the structure names an unknown tensor, an axis beyond the rank
    ///         or a slice outside the tensor.
    /// @throws ConfigError when the model has no unit of this granularity.
    static UnitSet build(recprune_granularity_t granularity,
                         std::span<const recprune_tensor_t> tensors,
                         const boost::json::value& structure);

    /// Returns the granularities for which build() finds at least one unit.
    static std::vector<recprune_granularity_t> supported_granularities(
        std::span<const recprune_tensor_t> tensors, const boost::json::value& structure);

    recprune_granularity_t granularity() const { return granularity_; }
    uint64_t size() const { return size_; }
    const std::vector<UnitBlock>& blocks() const { return blocks_; }
    const std::vector<TensorShape>& tensor_shapes() const { return shapes_; }

    /// Returns the index in blocks() of the block holding `unit`.
    size_t block_index(uint64_t unit) const;

    /// Returns the tensor index for WEIGHT, the layer index for NEURON, the field index for
    /// EMBEDDING_ROW and 0 for EMBEDDING_DIM and FIELD.
    uint32_t group_of(uint64_t unit) const { return blocks_[block_index(unit)].group; }

    /// Returns the description handed to pruners as `units_json` (format in docs/abi.md,
    /// "Pruning units").
    std::string units_json() const;

    /// Summarises which units are pruned, for result rows: {"granularity", "unit_count",
    /// "pruned_count", "blocks": [{"name", "count", "pruned"}]}, plus "pruned_names" at FIELD
    /// granularity, so a feature-selection row says which fields it removed. `pruned` has one
    /// flag per unit, as MaskSet::pruned_unit_flags returns it.
    boost::json::object pruned_summary(std::span<const uint8_t> pruned) const;

    /// Calls `visit(tensor_index, element_index)` for every row-major element `unit` covers.
    /// Elements shared by two slices of one unit are visited twice.
    template <typename Visit>
    void for_each_element(uint64_t unit, Visit&& visit) const {
        const UnitBlock& block = blocks_[block_index(unit)];
        uint64_t local = unit - block.offset;
        for (const UnitSlice& slice : block.slices) {
            visit_slice(slice, local, visit);
        }
    }

private:
    template <typename Visit>
    void visit_slice(const UnitSlice& slice, uint64_t local, Visit& visit) const {
        uint64_t first = slice.start + local * slice.step;
        if (slice.flat) {
            for (uint64_t element = first; element < first + slice.width; ++element) {
                visit(slice.tensor, element);
            }
            return;
        }

        // View the tensor as [outer, extent, inner] around the slice axis.
        const TensorShape& shape = shapes_[slice.tensor];
        uint64_t outer = 1;
        uint64_t inner = 1;
        for (uint32_t axis = 0; axis < slice.axis; ++axis) outer *= shape.shape[axis];
        for (uint32_t axis = slice.axis + 1; axis < shape.rank; ++axis) inner *= shape.shape[axis];
        uint64_t extent = shape.shape[slice.axis];
        for (uint64_t o = 0; o < outer; ++o) {
            for (uint64_t index = first; index < first + slice.width; ++index) {
                uint64_t base = (o * extent + index) * inner;
                for (uint64_t k = 0; k < inner; ++k) visit(slice.tensor, base + k);
            }
        }
    }

    friend class UnitSetBuilder;

    recprune_granularity_t granularity_ = RECPRUNE_GRANULARITY_WEIGHT;
    uint64_t size_ = 0;
    std::vector<UnitBlock> blocks_;
    std::vector<TensorShape> shapes_;
};

}  // namespace recprune::prune
