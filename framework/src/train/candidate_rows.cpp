#include "train/candidate_rows.hpp"

#include "data/batch_builder.hpp"
#include "train/interactions.hpp"
#include "train/shuffle.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace recprune::train {
namespace {

constexpr uint64_t kNoRow = UINT64_MAX;

// Whether a field (or dense input) has one value over all training rows of each entity, and
// on how many rows that was checked (rows after each entity's first).
struct Constancy {
    bool constant = true;
    uint64_t rows_checked = 0;
};

template <typename Equal>
Constancy check_constancy(std::span<const uint32_t> entity_of_row, uint32_t entity_count,
                          Equal equal_rows) {
    Constancy result;
    std::vector<uint64_t> first_row(entity_count, kNoRow);
    for (uint64_t row = 0; row < entity_of_row.size(); ++row) {
        uint64_t& first = first_row[entity_of_row[row]];
        if (first == kNoRow) {
            first = row;
            continue;
        }
        ++result.rows_checked;
        if (!equal_rows(first, row)) {
            result.constant = false;
            return result;
        }
    }
    return result;
}

// Explicit roles first; then the side on which the value is constant. A value constant on both
// sides (always so when every user has one training row) goes to the side where more rows
// confirmed it, which is the side it describes unless the data is tiny.
FieldSide choose_side(uint32_t roles, const Constancy& per_user, const Constancy& per_item) {
    if (roles & RECPRUNE_COLUMN_ROLE_USER) return FieldSide::User;
    if (roles & RECPRUNE_COLUMN_ROLE_ITEM) return FieldSide::Item;
    if (per_user.constant && per_item.constant) {
        return per_item.rows_checked > per_user.rows_checked ? FieldSide::Item : FieldSide::User;
    }
    if (per_user.constant) return FieldSide::User;
    if (per_item.constant) return FieldSide::Item;
    return FieldSide::Context;
}

}  // namespace

std::string_view field_side_name(FieldSide side) {
    switch (side) {
        case FieldSide::User: return "user";
        case FieldSide::Item: return "item";
        case FieldSide::Context: return "context";
    }
    return "context";
}

CandidateRows::CandidateRows(const data::PreparedData& data)
    : data_(data), parts_{&data.train, &data.validation, &data.test} {
    // Entity ids as Interactions counts them: the largest id of any part, plus one.
    require_user_item_ids(data);
    uint32_t user_id_count = 1;
    uint32_t item_id_count = 1;
    for (const data::Part* part : parts_) {
        for (uint32_t user : part->users) user_id_count = std::max(user_id_count, user + 1);
        for (uint32_t item : part->items) item_id_count = std::max(item_id_count, item + 1);
    }

    // The first row of each entity, training rows first.
    user_rows_.assign(user_id_count, RowRef{});
    item_rows_.assign(item_id_count, RowRef{});
    for (uint32_t index = 0; index < 3; ++index) {
        const data::Part& source = *parts_[index];
        for (uint64_t row = 0; row < source.row_count; ++row) {
            RowRef& user_row = user_rows_[source.users[row]];
            if (user_row.part == kNoPart) user_row = RowRef{index, row};
            RowRef& item_row = item_rows_[source.items[row]];
            if (item_row.part == kNoPart) item_row = RowRef{index, row};
        }
    }

    const data::Part& train = data.train;
    field_sides_.resize(data.fields.size());
    for (uint32_t field = 0; field < data.fields.size(); ++field) {
        const auto& ids = train.ids[field];
        const auto& offsets = train.offsets[field];
        auto equal_rows = [&](uint64_t a, uint64_t b) {
            if (offsets.empty()) return ids[a] == ids[b];
            return std::equal(ids.begin() + static_cast<int64_t>(offsets[a]),
                              ids.begin() + static_cast<int64_t>(offsets[a + 1]),
                              ids.begin() + static_cast<int64_t>(offsets[b]),
                              ids.begin() + static_cast<int64_t>(offsets[b + 1]));
        };
        field_sides_[field] =
            choose_side(data.fields[field].roles,
                        check_constancy(train.users, user_id_count, equal_rows),
                        check_constancy(train.items, item_id_count, equal_rows));
    }
    dense_sides_.resize(data.dense_count);
    for (uint32_t input = 0; input < data.dense_count; ++input) {
        auto equal_rows = [&](uint64_t a, uint64_t b) {
            return train.dense[a * data.dense_count + input] ==
                   train.dense[b * data.dense_count + input];
        };
        dense_sides_[input] =
            choose_side(0, check_constancy(train.users, user_id_count, equal_rows),
                        check_constancy(train.items, item_id_count, equal_rows));
    }
}

std::vector<uint32_t> CandidateRows::permuted_sources(uint32_t field, uint64_t seed) const {
    const FieldSide side = field_sides_.at(field);
    if (side == FieldSide::Context) return {};
    const std::vector<RowRef>& rows = side == FieldSide::User ? user_rows_ : item_rows_;
    std::vector<uint32_t> with_row;
    for (uint32_t id = 0; id < rows.size(); ++id) {
        if (rows[id].part != kNoPart) with_row.push_back(id);
    }
    std::vector<uint32_t> sources(rows.size());
    for (uint32_t id = 0; id < rows.size(); ++id) sources[id] = id;
    std::vector<uint64_t> order = shuffled_rows(with_row.size(), seed);
    for (size_t position = 0; position < with_row.size(); ++position) {
        sources[with_row[position]] = with_row[order[position]];
    }
    return sources;
}

boost::json::object CandidateRows::sides_json() const {
    boost::json::object sides;
    for (uint32_t field = 0; field < field_sides_.size(); ++field) {
        sides[data_.fields[field].name] = field_side_name(field_sides_[field]);
    }
    for (uint32_t input = 0; input < dense_sides_.size(); ++input) {
        const std::string name = input < data_.dense_names.size()
                                     ? data_.dense_names[input]
                                     : "dense " + std::to_string(input);
        sides[name] = field_side_name(dense_sides_[input]);
    }
    return sides;
}

CandidateBatchBuilder::CandidateBatchBuilder(const CandidateRows& rows) : rows_(rows) {
    const uint32_t field_count = rows.field_count();
    remap_.resize(field_count);
    ids_.resize(field_count);
    offsets_.resize(field_count);
    id_pointers_.resize(field_count);
    offset_pointers_.resize(field_count);
}

void CandidateBatchBuilder::set_row_remap(std::vector<std::vector<uint32_t>> remap) {
    if (remap.size() > rows_.field_count()) {
        throw std::invalid_argument("candidate batch builder: " + std::to_string(remap.size()) +
                                    " row maps for " + std::to_string(rows_.field_count()) +
                                    " fields");
    }
    remap.resize(rows_.field_count());
    remap_ = std::move(remap);
}

void CandidateBatchBuilder::set_field_permutation(uint32_t field, std::vector<uint32_t> sources) {
    permuted_field_ = sources.empty() ? RECPRUNE_NO_FIELD : field;
    permuted_sources_ = std::move(sources);
}

CandidateRows::RowRef CandidateBatchBuilder::source_row(uint32_t field, FieldSide side,
                                                        uint32_t user, uint32_t item) const {
    const bool from_user = side == FieldSide::User;
    uint32_t id = from_user ? user : item;
    const std::vector<CandidateRows::RowRef>& table = from_user ? rows_.user_rows_
                                                                : rows_.item_rows_;
    if (field == permuted_field_ && id < permuted_sources_.size()) id = permuted_sources_[id];
    if (id >= table.size() || table[id].part == CandidateRows::kNoPart) {
        throw std::out_of_range(std::string("candidate batch builder: ") +
                                (from_user ? "user " : "item ") + std::to_string(id) +
                                " has no row in the data");
    }
    return table[id];
}

const recprune_batch_t& CandidateBatchBuilder::build(std::span<const uint32_t> users,
                                                     std::span<const uint32_t> items,
                                                     std::span<const float> labels) {
    if (users.size() != items.size() || (!labels.empty() && labels.size() != users.size())) {
        throw std::invalid_argument("candidate batch builder: " + std::to_string(users.size()) +
                                    " users, " + std::to_string(items.size()) + " items and " +
                                    std::to_string(labels.size()) +
                                    " labels; give one user and one item per pair");
    }
    const size_t pair_count = users.size();

    for (uint32_t field = 0; field < rows_.field_count(); ++field) {
        const FieldSide side = rows_.field_side(field);
        const std::vector<uint32_t>& remap = remap_[field];
        auto mapped = [&](uint32_t id) {
            return data::remapped_id(remap, id, field, "candidate batch builder");
        };
        std::vector<uint32_t>& ids = ids_[field];
        ids.clear();
        const bool multi_hot = rows_.data_.fields[field].multi_hot;
        if (!multi_hot) {
            ids.resize(pair_count);
            for (size_t pair = 0; pair < pair_count; ++pair) {
                if (side == FieldSide::Context) {
                    ids[pair] = mapped(0);
                    continue;
                }
                auto source = source_row(field, side, users[pair], items[pair]);
                ids[pair] = mapped(rows_.part(source.part).ids[field][source.row]);
            }
            id_pointers_[field] = ids.data();
            offset_pointers_[field] = nullptr;
            continue;
        }
        std::vector<uint64_t>& offsets = offsets_[field];
        offsets.assign(1, 0);
        for (size_t pair = 0; pair < pair_count; ++pair) {
            if (side == FieldSide::Context) {
                ids.push_back(mapped(0));
            } else {
                auto source = source_row(field, side, users[pair], items[pair]);
                const data::Part& part = rows_.part(source.part);
                const auto& part_offsets = part.offsets[field];
                for (uint64_t value = part_offsets[source.row];
                     value < part_offsets[source.row + 1]; ++value) {
                    ids.push_back(mapped(part.ids[field][value]));
                }
            }
            offsets.push_back(ids.size());
        }
        id_pointers_[field] = ids.data();
        offset_pointers_[field] = offsets.data();
    }

    const uint32_t dense_count = rows_.dense_count();
    dense_.assign(pair_count * dense_count, 0.0f);
    for (uint32_t input = 0; input < dense_count; ++input) {
        const FieldSide side = rows_.dense_side(input);
        if (side == FieldSide::Context) continue;
        for (size_t pair = 0; pair < pair_count; ++pair) {
            auto source = source_row(RECPRUNE_NO_FIELD, side, users[pair], items[pair]);
            dense_[pair * dense_count + input] =
                rows_.part(source.part).dense[source.row * dense_count + input];
        }
    }
    labels_.assign(labels.begin(), labels.end());

    batch_ = recprune_batch_t{};
    batch_.struct_size = sizeof(recprune_batch_t);
    batch_.field_count = rows_.field_count();
    batch_.row_count = pair_count;
    batch_.ids = id_pointers_.data();
    batch_.offsets = offset_pointers_.data();
    batch_.dense = dense_count > 0 ? dense_.data() : nullptr;
    batch_.dense_count = dense_count;
    batch_.labels = labels_.empty() ? nullptr : labels_.data();
    return batch_;
}

}  // namespace recprune::train
