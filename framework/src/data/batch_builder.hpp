// Gathering rows of a part into the contiguous batch a model reads.
#pragma once

#include "data/prepare.hpp"

#include "recprune/abi.h"

#include <cstdint>
#include <span>
#include <vector>

namespace recprune::data {

/// Returns the embedding row of vocabulary index `id` of field `field` under `remap` (empty:
/// unchanged). Throws std::out_of_range, naming `owner`, for an id past the map.
uint32_t remapped_id(const std::vector<uint32_t>& remap, uint32_t id, uint32_t field,
                     const char* owner);

/// Gathers chosen rows of a Part into buffers it owns and returns the C batch view over them.
/// Not thread-safe; use one per thread. The part must outlive the builder.
class BatchBuilder {
public:
    /// Throws std::invalid_argument when the part's field or dense layout does not match.
    BatchBuilder(const Part& part, uint32_t field_count, uint32_t dense_count);

    /// Sets, per field, a map from vocabulary index to embedding row (old row -> new row), as
    /// left by embedding-row pruning or compaction; an empty map leaves that field unchanged.
    /// Fewer maps than fields leave the remaining fields unchanged.
    void set_row_remap(std::vector<std::vector<uint32_t>> remap);

    /// Gathers `rows` (indices into the part) and returns the batch, valid until the next
    /// call. Throws std::out_of_range for a row past the part or an id past its remap.
    const recprune_batch_t& build(std::span<const uint64_t> rows);

private:
    const Part& part_;
    uint32_t field_count_;
    uint32_t dense_count_;
    std::vector<std::vector<uint32_t>> remap_;
    std::vector<std::vector<uint32_t>> ids_;
    std::vector<std::vector<uint64_t>> offsets_;
    std::vector<const uint32_t*> id_pointers_;
    std::vector<const uint64_t*> offset_pointers_;
    std::vector<float> dense_;
    std::vector<float> labels_;
    recprune_batch_t batch_{};
};

}  // namespace recprune::data
