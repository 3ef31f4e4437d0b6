#include "prune/masks.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace recprune::prune {

MaskSet::MaskSet(std::span<const recprune_tensor_t> tensors)
    : masks_(tensors.size()), pruned_counts_(tensors.size(), 0), pointers_(tensors.size(), nullptr) {
    for (const recprune_tensor_t& tensor : tensors) element_counts_.push_back(tensor.element_count);
}

MaskSet::MaskSet(const MaskSet& other)
    : element_counts_(other.element_counts_),
      masks_(other.masks_),
      pruned_counts_(other.pruned_counts_),
      unit_flags_(other.unit_flags_),
      pruned_rows_(other.pruned_rows_) {
    refresh_pointers();
}

MaskSet& MaskSet::operator=(const MaskSet& other) {
    if (this == &other) return *this;
    element_counts_ = other.element_counts_;
    masks_ = other.masks_;
    pruned_counts_ = other.pruned_counts_;
    unit_flags_ = other.unit_flags_;
    pruned_rows_ = other.pruned_rows_;
    refresh_pointers();
    return *this;
}

void MaskSet::refresh_pointers() {
    pointers_.assign(masks_.size(), nullptr);
    for (size_t tensor = 0; tensor < masks_.size(); ++tensor) {
        if (!masks_[tensor].empty()) pointers_[tensor] = masks_[tensor].data();
    }
}

uint8_t* MaskSet::ensure_mask(uint32_t tensor) {
    if (masks_[tensor].empty()) {
        masks_[tensor].assign(element_counts_[tensor], 1);
        pointers_[tensor] = masks_[tensor].data();
    }
    return masks_[tensor].data();
}

void MaskSet::prune_units(const UnitSet& units, std::span<const uint64_t> unit_indices) {
    const auto& shapes = units.tensor_shapes();
    if (shapes.size() != element_counts_.size()) {
        throw std::invalid_argument("mask update failed: the unit set covers " +
                                    std::to_string(shapes.size()) + " tensors, the masks " +
                                    std::to_string(element_counts_.size()) +
                                    "; build both from the same model");
    }
    for (size_t tensor = 0; tensor < shapes.size(); ++tensor) {
        if (shapes[tensor].element_count != element_counts_[tensor]) {
            throw std::invalid_argument("mask update failed: tensor " + shapes[tensor].name +
                                        " has a different element count in the unit set; build "
                                        "both from the same model");
        }
    }

    for (uint64_t unit : unit_indices) {
        if (unit >= units.size()) {
            throw std::out_of_range("mask update failed: unit " + std::to_string(unit) +
                                    " is not below the unit count " +
                                    std::to_string(units.size()) +
                                    "; pass units of the unit set given");
        }
    }

    auto& flags = unit_flags_[units.granularity()];
    flags.resize(units.size(), 0);
    for (uint64_t unit : unit_indices) {
        flags[unit] = 1;
        units.for_each_element(unit, [&](uint32_t tensor, uint64_t element) {
            uint8_t* mask = ensure_mask(tensor);
            if (mask[element] != 0) {
                mask[element] = 0;
                ++pruned_counts_[tensor];
            }
        });

        if (units.granularity() == RECPRUNE_GRANULARITY_EMBEDDING_ROW) {
            const UnitBlock& block = units.blocks()[units.block_index(unit)];
            auto& rows = pruned_rows_[block.field];
            rows.resize(block.count, 0);
            rows[unit - block.offset] = 1;
        }
    }
}

void MaskSet::apply(std::span<const recprune_tensor_t> tensors) const {
    if (tensors.size() != element_counts_.size()) {
        throw std::invalid_argument("mask apply failed: " + std::to_string(tensors.size()) +
                                    " tensors given, the masks cover " +
                                    std::to_string(element_counts_.size()) +
                                    "; pass the tensors of the model the masks were made for");
    }
    for (uint32_t tensor = 0; tensor < tensors.size(); ++tensor) {
        if (tensors[tensor].element_count != element_counts_[tensor]) {
            throw std::invalid_argument(
                "mask apply failed: tensor " + std::string(tensors[tensor].name) + " has " +
                std::to_string(tensors[tensor].element_count) + " elements, the mask " +
                std::to_string(element_counts_[tensor]) +
                "; pass the tensors of the model the masks were made for");
        }
        apply_to(tensor, tensors[tensor].data);
    }
}

void MaskSet::apply_to(uint32_t tensor, float* buffer) const {
    const std::vector<uint8_t>& mask = masks_[tensor];
    if (mask.empty() || buffer == nullptr) return;
    // A select rather than a product, so -0.0 and NaN times 0 never survive in a pruned slot.
    for (size_t element = 0; element < mask.size(); ++element) {
        buffer[element] = mask[element] != 0 ? buffer[element] : 0.0f;
    }
}

const uint8_t* MaskSet::mask(uint32_t tensor) const {
    return masks_[tensor].empty() ? nullptr : masks_[tensor].data();
}

std::vector<uint8_t> MaskSet::pruned_unit_flags(const UnitSet& units) const {
    std::vector<uint8_t> flags(units.size(), 0);
    auto recorded = unit_flags_.find(units.granularity());
    for (uint64_t unit = 0; unit < units.size(); ++unit) {
        if (recorded != unit_flags_.end() && unit < recorded->second.size() &&
            recorded->second[unit] != 0) {
            flags[unit] = 1;
            continue;
        }
        bool all_pruned = true;
        bool any_element = false;
        units.for_each_element(unit, [&](uint32_t tensor, uint64_t element) {
            any_element = true;
            if (masks_[tensor].empty() || masks_[tensor][element] != 0) all_pruned = false;
        });
        flags[unit] = (any_element && all_pruned) ? 1 : 0;
    }
    return flags;
}

std::vector<uint64_t> MaskSet::pruned_units(recprune_granularity_t granularity) const {
    std::vector<uint64_t> result;
    auto recorded = unit_flags_.find(granularity);
    if (recorded == unit_flags_.end()) return result;
    for (uint64_t unit = 0; unit < recorded->second.size(); ++unit) {
        if (recorded->second[unit] != 0) result.push_back(unit);
    }
    return result;
}

std::vector<std::vector<uint32_t>> MaskSet::row_remap(uint32_t field_count) const {
    std::vector<std::vector<uint32_t>> remap(field_count);
    for (const auto& [field, rows] : pruned_rows_) {
        if (field >= field_count) continue;
        std::vector<uint32_t>& map = remap[field];
        map.resize(rows.size());
        for (uint32_t row = 0; row < rows.size(); ++row) map[row] = rows[row] != 0 ? 0 : row;
    }
    return remap;
}

std::vector<uint32_t> MaskSet::fields_with_all_rows_pruned() const {
    std::vector<uint32_t> fields;
    for (const auto& [field, rows] : pruned_rows_) {
        if (!rows.empty() && std::all_of(rows.begin(), rows.end(),
                                         [](uint8_t pruned) { return pruned != 0; })) {
            fields.push_back(field);
        }
    }
    std::sort(fields.begin(), fields.end());
    return fields;
}

}  // namespace recprune::prune
