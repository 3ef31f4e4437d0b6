// Masks over a model's tensors: which elements are pruned, which units were pruned at each
// granularity, and the id remap that sends removed embedding rows to the out-of-vocabulary row.
#pragma once

#include "prune/units.hpp"

#include "recprune/abi.h"

#include <cstdint>
#include <map>
#include <span>
#include <vector>

namespace recprune::prune {

/// One byte per element (1 keep, 0 pruned) for every tensor that has a pruned element; tensors
/// with none have no mask. Pruning only grows: nothing in this class un-prunes an element.
/// Not thread-safe; one per cell.
///
/// Known limit: one byte per element, so a model with 1e9 embedding weights needs 1 GB of
/// masks once one of its tables is pruned. A bitset would cut this by eight at the cost of
/// slower apply(); change it when such models are in scope.
class MaskSet {
public:
    MaskSet() = default;
    /// Creates an empty mask set (nothing pruned) shaped like `tensors`.
    explicit MaskSet(std::span<const recprune_tensor_t> tensors);

    MaskSet(const MaskSet& other);
    MaskSet& operator=(const MaskSet& other);
    MaskSet(MaskSet&& other) noexcept = default;
    MaskSet& operator=(MaskSet&& other) noexcept = default;

    uint32_t tensor_count() const { return static_cast<uint32_t>(element_counts_.size()); }

    /// Marks every element the listed units cover as pruned and records the units as pruned at
    /// the set's granularity. Units already pruned stay pruned.
    /// @throws std::out_of_range when a unit index is not below units.size().
    /// @throws std::invalid_argument when `units` was built over other tensors.
    void prune_units(const UnitSet& units, std::span<const uint64_t> unit_indices);

    /// Zeroes the pruned elements of each tensor's `data`.
    /// @throws std::invalid_argument when `tensors` does not match the shapes given at creation.
    void apply(std::span<const recprune_tensor_t> tensors) const;

    /// Zeroes the pruned elements of `buffer`, which has the layout of tensor `tensor` (a
    /// gradient or an optimizer moment), so a pruned weight never grows back.
    void apply_to(uint32_t tensor, float* buffer) const;

    /// Returns tensor `tensor`'s mask (1 keep, 0 pruned), or nullptr when nothing in it is pruned.
    const uint8_t* mask(uint32_t tensor) const;

    /// Returns one pointer per tensor as mask() gives it, for recprune_prune_context_t.masks.
    /// Valid until this set changes, is moved or is destroyed.
    const uint8_t* const* mask_pointers() const { return pointers_.data(); }

    uint64_t pruned_element_count(uint32_t tensor) const { return pruned_counts_[tensor]; }
    uint64_t element_count(uint32_t tensor) const { return element_counts_[tensor]; }

    /// Returns one flag per unit of `units`: 1 when the unit was pruned at this granularity
    /// through prune_units, or when every element it covers is pruned (by any granularity).
    std::vector<uint8_t> pruned_unit_flags(const UnitSet& units) const;

    /// Returns the units recorded as pruned at `granularity`, ascending.
    std::vector<uint64_t> pruned_units(recprune_granularity_t granularity) const;

    /// Returns per field (`field_count` entries) the map old row -> new row for the batch
    /// builder: pruned embedding rows go to the out-of-vocabulary row 0, the others keep their
    /// index. A field with no pruned row gets an empty vector (identity).
    std::vector<std::vector<uint32_t>> row_remap(uint32_t field_count) const;

    /// Returns the fields, ascending, whose every embedding row (row 0 included) is pruned.
    /// Such a field reads only zeros, like a removed one.
    std::vector<uint32_t> fields_with_all_rows_pruned() const;

private:
    void refresh_pointers();
    uint8_t* ensure_mask(uint32_t tensor);

    std::vector<uint64_t> element_counts_;
    std::vector<std::vector<uint8_t>> masks_;
    std::vector<uint64_t> pruned_counts_;
    std::vector<const uint8_t*> pointers_;
    /// Per granularity: one flag per unit, 1 when pruned through prune_units.
    std::map<uint32_t, std::vector<uint8_t>> unit_flags_;
    /// Per field: one flag per vocabulary row, 1 when the row was pruned (EMBEDDING_ROW).
    std::map<uint32_t, std::vector<uint8_t>> pruned_rows_;
};

}  // namespace recprune::prune
