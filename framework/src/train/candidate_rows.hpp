// Feature rows for (user, item) pairs, so that top-K training and ranking can score pairs the
// data has no row for. Each field is filled from the user's row, from the item's row, or with
// the out-of-vocabulary id when it describes neither (context such as the time of a rating).
#pragma once

#include "data/prepare.hpp"

#include "recprune/abi.h"

#include <boost/json.hpp>

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace recprune::train {

/// The source of a field's value in a candidate row.
enum class FieldSide { User, Item, Context };

std::string_view field_side_name(FieldSide side);

/// The sides of the fields and dense inputs, and one data row per user and per item.
///
/// A field is on the user side when its column has the user role, or else when its value is
/// the same on all training rows of each user; likewise for the item side. A field constant on
/// both sides goes to the side with more training rows confirming it. Dense inputs follow the
/// same constancy rule. Every other field is context:
/// it gets the out-of-vocabulary id 0 (a dense input gets 0, the value of a missing number),
/// because a ranked candidate has no context of its own. A user's (item's) row is its first
/// training row, or its first row in validation, then test, for one that has no training row.
class CandidateRows {
public:
    /// `data` must outlive this object. Throws DataError when the data lacks user or item ids.
    explicit CandidateRows(const data::PreparedData& data);

    FieldSide field_side(uint32_t field) const { return field_sides_[field]; }
    FieldSide dense_side(uint32_t input) const { return dense_sides_[input]; }
    uint32_t field_count() const { return static_cast<uint32_t>(field_sides_.size()); }
    uint32_t dense_count() const { return static_cast<uint32_t>(dense_sides_.size()); }
    uint32_t user_id_count() const { return static_cast<uint32_t>(user_rows_.size()); }
    uint32_t item_id_count() const { return static_cast<uint32_t>(item_rows_.size()); }

    /// For permutation importance: a map from each user (item) id to the id whose row feeds
    /// `field` instead, shuffled with `seed` among the ids that have a row. Empty for a
    /// context field, which no permutation changes.
    std::vector<uint32_t> permuted_sources(uint32_t field, uint64_t seed) const;

    /// {"<field name>": "user" | "item" | "context", ...}, dense inputs included.
    boost::json::object sides_json() const;

private:
    friend class CandidateBatchBuilder;

    /// A row of one part: 0 train, 1 validation, 2 test.
    struct RowRef {
        uint32_t part = kNoPart;
        uint64_t row = 0;
    };
    static constexpr uint32_t kNoPart = UINT32_MAX;

    const data::Part& part(uint32_t index) const { return *parts_[index]; }

    const data::PreparedData& data_;
    const data::Part* parts_[3];
    std::vector<FieldSide> field_sides_;
    std::vector<FieldSide> dense_sides_;
    std::vector<RowRef> user_rows_;
    std::vector<RowRef> item_rows_;
};

/// Gathers candidate rows for (user, item) pairs into buffers it owns, as data::BatchBuilder
/// does for data rows. Not thread-safe; use one per thread. The rows must outlive it.
class CandidateBatchBuilder {
public:
    explicit CandidateBatchBuilder(const CandidateRows& rows);

    /// Per field, a map from vocabulary index to embedding row, as data::BatchBuilder takes it.
    void set_row_remap(std::vector<std::vector<uint32_t>> remap);
    /// Feeds `field` from the row of `sources[id]` instead of the pair's own user or item (see
    /// CandidateRows::permuted_sources); an empty map undoes it.
    void set_field_permutation(uint32_t field, std::vector<uint32_t> sources);

    /// Builds the rows of the pairs (users[i], items[i]), with `labels` as targets (empty for
    /// scoring, which leaves the batch's labels NULL). Returns a view valid until the next call.
    /// Throws std::invalid_argument for spans of different lengths and std::out_of_range for an
    /// id with no row or past a row map.
    const recprune_batch_t& build(std::span<const uint32_t> users, std::span<const uint32_t> items,
                                  std::span<const float> labels);

private:
    /// The row that feeds `field` (RECPRUNE_NO_FIELD for a dense input) of the pair.
    CandidateRows::RowRef source_row(uint32_t field, FieldSide side, uint32_t user,
                                     uint32_t item) const;

    const CandidateRows& rows_;
    std::vector<std::vector<uint32_t>> remap_;
    uint32_t permuted_field_ = RECPRUNE_NO_FIELD;
    std::vector<uint32_t> permuted_sources_;
    std::vector<std::vector<uint32_t>> ids_;
    std::vector<std::vector<uint64_t>> offsets_;
    std::vector<const uint32_t*> id_pointers_;
    std::vector<const uint64_t*> offset_pointers_;
    std::vector<float> dense_;
    std::vector<float> labels_;
    recprune_batch_t batch_{};
};

}  // namespace recprune::train
