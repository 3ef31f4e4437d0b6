// Hand-built PreparedData for the top-K tests: parts with a user and an item field, built row
// by row, and a seeded random data set for the sampling tests.
#pragma once

#include "data/prepare.hpp"

#include "recprune/abi.h"

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

namespace recprune::test {

/// One interaction of a hand-built part.
struct Interaction {
    uint32_t user;
    uint32_t item;
    float label;
};

/// Builds a part whose field 0 is the user id and field 1 the item id (their vocabulary
/// indices are the ids themselves), as prepare() lays out a user and an item feature column.
inline data::Part make_part(const std::vector<Interaction>& rows) {
    data::Part part;
    part.row_count = rows.size();
    part.ids.resize(2);
    part.offsets.resize(2);
    for (const Interaction& row : rows) {
        part.ids[0].push_back(row.user);
        part.ids[1].push_back(row.item);
        part.labels.push_back(row.label);
        part.users.push_back(row.user);
        part.items.push_back(row.item);
    }
    return part;
}

/// Top-K data with fields "user" (user role) and "item" (item role).
inline data::PreparedData make_topk_data(const std::vector<Interaction>& train,
                                         const std::vector<Interaction>& validation,
                                         const std::vector<Interaction>& test,
                                         uint32_t user_vocabulary, uint32_t item_vocabulary) {
    data::PreparedData data;
    data.task = "topk";
    data.settings.task = "topk";
    data.fields = {
        {"user", user_vocabulary, false,
         RECPRUNE_COLUMN_ROLE_FEATURE | RECPRUNE_COLUMN_ROLE_USER},
        {"item", item_vocabulary, false,
         RECPRUNE_COLUMN_ROLE_FEATURE | RECPRUNE_COLUMN_ROLE_ITEM},
    };
    data.train = make_part(train);
    data.validation = make_part(validation);
    data.test = make_part(test);
    return data;
}

/// Returns `user_count` users (ids 1..user_count) with `per_user` distinct random items each,
/// out of items 1..item_count, about two thirds of them positive. Each user's last interaction
/// is its test row and the one before it its validation row.
inline data::PreparedData make_random_topk_data(uint32_t user_count, uint32_t item_count,
                                                uint32_t per_user, uint64_t seed) {
    std::mt19937_64 engine(seed);
    std::vector<Interaction> train, validation, test;
    std::vector<uint32_t> items(item_count);
    for (uint32_t item = 0; item < item_count; ++item) items[item] = item + 1;
    for (uint32_t user = 1; user <= user_count; ++user) {
        std::shuffle(items.begin(), items.end(), engine);
        for (uint32_t position = 0; position < per_user; ++position) {
            float label = engine() % 3 == 0 ? 0.0f : 1.0f;
            Interaction row{user, items[position], label};
            if (position + 1 == per_user) {
                test.push_back(row);
            } else if (position + 2 == per_user) {
                validation.push_back(row);
            } else {
                train.push_back(row);
            }
        }
    }
    return make_topk_data(train, validation, test, user_count + 1, item_count + 1);
}

}  // namespace recprune::test
