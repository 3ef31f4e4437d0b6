// Per-user item sets, the item catalogues, and the sampling of items a user has no row with:
// the negatives of top-K training and of leave-one-out evaluation.
#pragma once

#include "data/prepare.hpp"

#include <cstdint>
#include <random>
#include <span>
#include <vector>

namespace recprune::train {

/// Throws DataError unless every part has a user and an item id per row, which the "topk"
/// task needs (prepare() sets them from the columns with the user and item roles).
void require_user_item_ids(const data::PreparedData& data);

/// Sorted, distinct item ids per user id, stored flat (CSR).
class ItemSets {
public:
    ItemSets() = default;

    /// Collects the (user, item) pairs of every row of `parts`, with any label. Users at or
    /// above `user_id_count` are not allowed.
    static ItemSets collect(std::span<const data::Part* const> parts, uint32_t user_id_count);

    /// The items of `user`, ascending; empty for a user with no row or an id out of range.
    std::span<const uint32_t> items_of(uint32_t user) const;
    bool contains(uint32_t user, uint32_t item) const;

private:
    std::vector<uint64_t> offsets_;  // user_id_count + 1 entries
    std::vector<uint32_t> items_;
};

/// The interactions of a prepared data set, for the "topk" task. Every row counts as an
/// interaction, whatever its label, so a disliked item is never sampled as a negative.
class Interactions {
public:
    /// Throws DataError as require_user_item_ids().
    explicit Interactions(const data::PreparedData& data);

    /// User ids (Part::users) are below this; so are item ids for item_id_count().
    uint32_t user_id_count() const { return user_id_count_; }
    uint32_t item_id_count() const { return item_id_count_; }

    /// Items each user has a training row with.
    const ItemSets& training_items() const { return training_items_; }
    /// Items each user has a row with in any part.
    const ItemSets& all_items() const { return all_items_; }
    /// Items with at least one training row, ascending: what training negatives are drawn from.
    std::span<const uint32_t> training_catalogue() const { return training_catalogue_; }
    /// Items with a row in any part, ascending: the items evaluation ranks.
    std::span<const uint32_t> catalogue() const { return catalogue_; }

private:
    uint32_t user_id_count_ = 0;
    uint32_t item_id_count_ = 0;
    ItemSets training_items_;
    ItemSets all_items_;
    std::vector<uint32_t> training_catalogue_;
    std::vector<uint32_t> catalogue_;
};

/// Number of items of `catalogue` that are not in `seen`. Both are ascending and distinct, and
/// `seen` must be a subset of `catalogue`, as the user's items are of the catalogues above.
uint64_t unseen_count(std::span<const uint32_t> catalogue, std::span<const uint32_t> seen);

/// Returns the item of `catalogue` at position `rank` (0-based) among those not in `seen`, in
/// O(log(catalogue) x log(seen)). Preconditions as unseen_count(), and rank < unseen_count().
uint32_t unseen_item_at(std::span<const uint32_t> catalogue, std::span<const uint32_t> seen,
                        uint64_t rank);

/// Draws one item uniformly from the items of `catalogue` not in `seen`, with one draw of
/// `engine`, so the stream of items depends on the engine's seed only. At least one item must
/// be unseen.
uint32_t draw_unseen_item(std::span<const uint32_t> catalogue, std::span<const uint32_t> seen,
                          std::mt19937_64& engine);

/// Replaces `out` with min(count, unseen) distinct items drawn uniformly, without replacement,
/// from the items of `catalogue` not in `seen` (Floyd's algorithm, so exactly `count` draws),
/// in ascending order. When `count` covers every unseen item, `out` contains them all and the
/// engine is not used.
void sample_unseen_items(std::span<const uint32_t> catalogue, std::span<const uint32_t> seen,
                         uint64_t count, std::mt19937_64& engine, std::vector<uint32_t>& out);

}  // namespace recprune::train
