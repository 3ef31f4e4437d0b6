#include "train/interactions.hpp"

#include "core/errors.hpp"

#include <algorithm>
#include <cassert>
#include <string>

namespace recprune::train {
namespace {

const char* const kPartNames[3] = {"train", "validation", "test"};

// Ids run from 1 (0 is never an entity, see Part::users), so the count is the largest id + 1.
uint32_t id_count(std::span<const data::Part* const> parts, bool users) {
    uint32_t largest = 0;
    for (const data::Part* part : parts) {
        const auto& ids = users ? part->users : part->items;
        for (uint32_t id : ids) largest = std::max(largest, id);
    }
    return largest + 1;
}

std::vector<uint32_t> catalogue_of(std::span<const data::Part* const> parts,
                                   uint32_t item_id_count) {
    std::vector<bool> present(item_id_count, false);
    for (const data::Part* part : parts) {
        for (uint32_t item : part->items) present[item] = true;
    }
    std::vector<uint32_t> catalogue;
    for (uint32_t item = 0; item < item_id_count; ++item) {
        if (present[item]) catalogue.push_back(item);
    }
    return catalogue;
}

}  // namespace

ItemSets ItemSets::collect(std::span<const data::Part* const> parts, uint32_t user_id_count) {
    // Counting sort by user, then sort and deduplicate each user's items in place.
    std::vector<uint64_t> starts(uint64_t{user_id_count} + 1, 0);
    for (const data::Part* part : parts) {
        for (uint32_t user : part->users) {
            assert(user < user_id_count && "user id beyond the count given");
            ++starts[user + 1];
        }
    }
    for (uint32_t user = 0; user < user_id_count; ++user) starts[user + 1] += starts[user];
    std::vector<uint32_t> items(starts.back());
    std::vector<uint64_t> next(starts.begin(), starts.end() - 1);
    for (const data::Part* part : parts) {
        for (uint64_t row = 0; row < part->users.size(); ++row) {
            items[next[part->users[row]]++] = part->items[row];
        }
    }

    ItemSets sets;
    sets.offsets_.assign(uint64_t{user_id_count} + 1, 0);
    uint64_t kept = 0;
    for (uint32_t user = 0; user < user_id_count; ++user) {
        auto begin = items.begin() + static_cast<int64_t>(starts[user]);
        auto end = items.begin() + static_cast<int64_t>(starts[user + 1]);
        std::sort(begin, end);
        end = std::unique(begin, end);
        kept = static_cast<uint64_t>(
            std::copy(begin, end, items.begin() + static_cast<int64_t>(kept)) - items.begin());
        sets.offsets_[user + 1] = kept;
    }
    items.resize(kept);
    sets.items_ = std::move(items);
    return sets;
}

std::span<const uint32_t> ItemSets::items_of(uint32_t user) const {
    if (uint64_t{user} + 1 >= offsets_.size()) return {};
    return {items_.data() + offsets_[user], offsets_[user + 1] - offsets_[user]};
}

bool ItemSets::contains(uint32_t user, uint32_t item) const {
    auto items = items_of(user);
    return std::binary_search(items.begin(), items.end(), item);
}

void require_user_item_ids(const data::PreparedData& data) {
    const data::Part* parts[3] = {&data.train, &data.validation, &data.test};
    for (int index = 0; index < 3; ++index) {
        const data::Part& part = *parts[index];
        if (part.users.size() == part.row_count && part.items.size() == part.row_count) continue;
        throw DataError("top-K task failed: " + std::string(kPartNames[index]) + " part: " +
                        std::to_string(part.row_count) + " rows but " +
                        std::to_string(part.users.size()) + " user and " +
                        std::to_string(part.items.size()) +
                        " item ids; the task needs a categorical column with the user role and "
                        "one with the item role, so use a dataset plugin that marks them");
    }
}

Interactions::Interactions(const data::PreparedData& data) {
    require_user_item_ids(data);
    const data::Part* parts[3] = {&data.train, &data.validation, &data.test};
    user_id_count_ = id_count(parts, true);
    item_id_count_ = id_count(parts, false);
    training_items_ = ItemSets::collect(std::span(parts, 1), user_id_count_);
    all_items_ = ItemSets::collect(parts, user_id_count_);
    training_catalogue_ = catalogue_of(std::span(parts, 1), item_id_count_);
    catalogue_ = catalogue_of(parts, item_id_count_);
}

uint64_t unseen_count(std::span<const uint32_t> catalogue, std::span<const uint32_t> seen) {
    assert(seen.size() <= catalogue.size() && "seen items must be a subset of the catalogue");
    return catalogue.size() - seen.size();
}

uint32_t unseen_item_at(std::span<const uint32_t> catalogue, std::span<const uint32_t> seen,
                        uint64_t rank) {
    assert(rank < unseen_count(catalogue, seen) && "rank beyond the unseen items");
    // unseen(p) = unseen items among catalogue[0..p]. It grows by one exactly at unseen items,
    // so the first position where it exceeds `rank` is the requested item's.
    auto unseen_through = [&](uint64_t position) {
        auto seen_through = std::upper_bound(seen.begin(), seen.end(), catalogue[position]);
        return position + 1 - static_cast<uint64_t>(seen_through - seen.begin());
    };
    uint64_t low = 0;
    uint64_t high = catalogue.size() - 1;
    while (low < high) {
        uint64_t middle = low + (high - low) / 2;
        if (unseen_through(middle) > rank) {
            high = middle;
        } else {
            low = middle + 1;
        }
    }
    return catalogue[low];
}

uint32_t draw_unseen_item(std::span<const uint32_t> catalogue, std::span<const uint32_t> seen,
                          std::mt19937_64& engine) {
    const uint64_t available = unseen_count(catalogue, seen);
    assert(available > 0 && "no unseen item to draw");
    std::uniform_int_distribution<uint64_t> pick(0, available - 1);
    return unseen_item_at(catalogue, seen, pick(engine));
}

void sample_unseen_items(std::span<const uint32_t> catalogue, std::span<const uint32_t> seen,
                         uint64_t count, std::mt19937_64& engine, std::vector<uint32_t>& out) {
    out.clear();
    const uint64_t available = unseen_count(catalogue, seen);
    if (count >= available) {
        std::set_difference(catalogue.begin(), catalogue.end(), seen.begin(), seen.end(),
                            std::back_inserter(out));
        return;
    }

    // Floyd's algorithm: `count` distinct ranks out of `available` with one draw each.
    std::vector<uint64_t> ranks;
    ranks.reserve(count);
    for (uint64_t limit = available - count; limit < available; ++limit) {
        std::uniform_int_distribution<uint64_t> pick(0, limit);
        uint64_t rank = pick(engine);
        auto position = std::lower_bound(ranks.begin(), ranks.end(), rank);
        if (position != ranks.end() && *position == rank) {
            rank = limit;
            position = std::lower_bound(ranks.begin(), ranks.end(), rank);
        }
        ranks.insert(position, rank);
    }
    out.reserve(count);
    for (uint64_t rank : ranks) out.push_back(unseen_item_at(catalogue, seen, rank));
}

}  // namespace recprune::train
