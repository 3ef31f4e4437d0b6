// Candidate rows for (user, item) pairs (train/candidate_rows.hpp): which side feeds each field,
// and the batch built from the user's and the item's rows.
#include "train/candidate_rows.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <vector>

using recprune::data::Part;
using recprune::data::PreparedData;
using recprune::train::CandidateBatchBuilder;
using recprune::train::CandidateRows;
using recprune::train::FieldSide;

namespace {

// Fields: 0 user (user role), 1 item (item role), 2 genres (multi-hot, constant per item),
// 3 age (constant per user), 4 hour (varies within users and items). One dense input, price,
// constant per item. Training rows (user, item, genres, age, hour, price):
//   (1, 1, [5 6], 2, 1, 0.5)  (1, 2, [7], 2, 2, 1.5)  (2, 1, [5 6], 3, 3, 0.5)
//   (2, 3, [], 3, 1, 2.5)
// Test row: (3, 2, [7], 4, 2, 1.5), user 3 having no training row.
PreparedData side_data() {
    PreparedData data;
    data.task = "topk";
    data.fields = {{"user", 4, false, RECPRUNE_COLUMN_ROLE_FEATURE | RECPRUNE_COLUMN_ROLE_USER},
                   {"item", 4, false, RECPRUNE_COLUMN_ROLE_FEATURE | RECPRUNE_COLUMN_ROLE_ITEM},
                   {"genres", 8, true, RECPRUNE_COLUMN_ROLE_FEATURE},
                   {"age", 5, false, RECPRUNE_COLUMN_ROLE_FEATURE},
                   {"hour", 4, false, RECPRUNE_COLUMN_ROLE_FEATURE}};
    data.dense_count = 1;
    data.dense_names = {"price"};

    Part& train = data.train;
    train.row_count = 4;
    train.ids = {{1, 1, 2, 2}, {1, 2, 1, 3}, {5, 6, 7, 5, 6}, {2, 2, 3, 3}, {1, 2, 3, 1}};
    train.offsets = {{}, {}, {0, 2, 3, 5, 5}, {}, {}};
    train.dense = {0.5f, 1.5f, 0.5f, 2.5f};
    train.labels = {1, 1, 1, 1};
    train.users = {1, 1, 2, 2};
    train.items = {1, 2, 1, 3};

    Part& test = data.test;
    test.row_count = 1;
    test.ids = {{3}, {2}, {7}, {4}, {2}};
    test.offsets = {{}, {}, {0, 1}, {}, {}};
    test.dense = {1.5f};
    test.labels = {1};
    test.users = {3};
    test.items = {2};

    data.validation.ids.resize(5);
    data.validation.offsets = {{}, {}, {0}, {}, {}};
    return data;
}

}  // namespace

TEST_CASE("candidate rows: roles and constancy decide the sides") {
    PreparedData data = side_data();
    CandidateRows rows(data);

    CHECK(rows.field_side(0) == FieldSide::User);
    CHECK(rows.field_side(1) == FieldSide::Item);
    CHECK(rows.field_side(2) == FieldSide::Item);
    CHECK(rows.field_side(3) == FieldSide::User);
    CHECK(rows.field_side(4) == FieldSide::Context);
    CHECK(rows.dense_side(0) == FieldSide::Item);
    CHECK(rows.sides_json().at("hour") == "context");
    CHECK(rows.sides_json().at("price") == "item");
}

TEST_CASE("candidate rows: a batch takes user fields, item fields and OOV context") {
    PreparedData data = side_data();
    CandidateRows rows(data);
    CandidateBatchBuilder builder(rows);
    const std::vector<uint32_t> users{2, 3, 1};
    const std::vector<uint32_t> items{2, 1, 3};
    const std::vector<float> labels{1, 0, 0};

    const recprune_batch_t& batch = builder.build(users, items, labels);

    REQUIRE(batch.row_count == 3);
    // user ids and ages from each user's first row; user 3's from its test row.
    CHECK(std::vector<uint32_t>(batch.ids[0], batch.ids[0] + 3) == std::vector<uint32_t>{2, 3, 1});
    CHECK(std::vector<uint32_t>(batch.ids[3], batch.ids[3] + 3) == std::vector<uint32_t>{3, 4, 2});
    // item ids, and genres from each item's first training row (item 3 has none).
    CHECK(std::vector<uint32_t>(batch.ids[1], batch.ids[1] + 3) == std::vector<uint32_t>{2, 1, 3});
    CHECK(std::vector<uint64_t>(batch.offsets[2], batch.offsets[2] + 4) ==
          std::vector<uint64_t>{0, 1, 3, 3});
    CHECK(std::vector<uint32_t>(batch.ids[2], batch.ids[2] + 3) == std::vector<uint32_t>{7, 5, 6});
    // The hour is context: out-of-vocabulary id 0 on every row.
    CHECK(std::vector<uint32_t>(batch.ids[4], batch.ids[4] + 3) == std::vector<uint32_t>{0, 0, 0});
    CHECK(std::vector<float>(batch.dense, batch.dense + 3) == std::vector<float>{1.5f, 0.5f, 2.5f});
    CHECK(std::vector<float>(batch.labels, batch.labels + 3) == labels);
    CHECK(builder.build(users, items, {}).labels == nullptr);
}

TEST_CASE("candidate rows: row remap and permutation apply to candidates") {
    PreparedData data = side_data();
    CandidateRows rows(data);
    CandidateBatchBuilder builder(rows);
    // Item row 2 pruned to 0; the user field fed by another user's row.
    builder.set_row_remap({{}, {0, 1, 0, 3}});
    std::vector<uint32_t> sources = rows.permuted_sources(0, 5);
    REQUIRE(sources.size() == 4);
    builder.set_field_permutation(0, sources);
    const std::vector<uint32_t> users{1, 2, 3};
    const std::vector<uint32_t> items{2, 2, 1};

    const recprune_batch_t& batch = builder.build(users, items, {});

    CHECK(std::vector<uint32_t>(batch.ids[1], batch.ids[1] + 3) == std::vector<uint32_t>{0, 0, 1});
    // The user ids with a row are 1, 2 and 3, so the permuted sources are a permutation of them
    // and each user reads its source's id.
    std::vector<uint32_t> permuted(sources.begin() + 1, sources.end());
    std::sort(permuted.begin(), permuted.end());
    CHECK(permuted == std::vector<uint32_t>{1, 2, 3});
    for (size_t pair = 0; pair < 3; ++pair) CHECK(batch.ids[0][pair] == sources[users[pair]]);
    // Age is not permuted: it stays with the pair's own user.
    CHECK(std::vector<uint32_t>(batch.ids[3], batch.ids[3] + 3) == std::vector<uint32_t>{2, 3, 4});
    // A context field has nothing to permute.
    CHECK(rows.permuted_sources(4, 5).empty());
}

TEST_CASE("candidate rows: an id without any row is rejected") {
    PreparedData data = side_data();
    CandidateRows rows(data);
    CandidateBatchBuilder builder(rows);
    const std::vector<uint32_t> users{1};
    const std::vector<uint32_t> items{9};

    CHECK_THROWS_WITH_AS(builder.build(users, items, {}),
                         doctest::Contains("item 9 has no row in the data"), std::out_of_range);
}
