#include "data/prepare.hpp"

#include "core/errors.hpp"
#include "data/split.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <string>
#include <vector>

using namespace recprune::data;

namespace {

RawColumn categorical(const std::string& name, std::vector<uint64_t> keys, uint32_t roles) {
    RawColumn column;
    column.name = name;
    column.type = RECPRUNE_COLUMN_TYPE_CATEGORICAL;
    column.roles = roles;
    column.keys = std::move(keys);
    return column;
}

RawColumn numeric(const std::string& name, std::vector<double> values, uint32_t roles) {
    RawColumn column;
    column.name = name;
    column.type = RECPRUNE_COLUMN_TYPE_NUMERIC;
    column.roles = roles;
    column.numeric = std::move(values);
    return column;
}

// Rows in time order: the first `train_rows` timestamps are the earliest, so a time split with
// test = 1 - train_rows / n puts exactly the later rows in test.
RawTable items_by_time(std::vector<uint64_t> items, std::vector<double> labels) {
    RawTable table;
    table.row_count = items.size();
    std::vector<double> times(items.size());
    for (size_t row = 0; row < times.size(); ++row) times[row] = 100.0 + row;
    table.columns.push_back(categorical("item", std::move(items),
                                        RECPRUNE_COLUMN_ROLE_FEATURE | RECPRUNE_COLUMN_ROLE_ITEM));
    table.columns.push_back(numeric("label", std::move(labels), RECPRUNE_COLUMN_ROLE_LABEL));
    table.columns.push_back(numeric("time", std::move(times), RECPRUNE_COLUMN_ROLE_TIMESTAMP));
    return table;
}

DataSettings time_split(double validation, double test) {
    DataSettings settings;
    settings.split.method = "time";
    settings.split.validation = validation;
    settings.split.test = test;
    return settings;
}

// A table of `users` users with `per_user` interactions each, timestamps increasing per user.
RawTable interactions(uint64_t users, uint64_t per_user) {
    RawTable table;
    std::vector<uint64_t> user_keys, item_keys;
    std::vector<double> labels, times;
    for (uint64_t user = 0; user < users; ++user) {
        for (uint64_t k = 0; k < per_user; ++k) {
            user_keys.push_back(1000 + user);
            item_keys.push_back((user * 7 + k * 3) % 50);
            labels.push_back(static_cast<double>((user + k) % 5 + 1));
            // Interleave users in time, with the per-user order reversed against file order
            // for odd users, so "last" must come from the timestamp, not the row.
            times.push_back(user % 2 == 0 ? static_cast<double>(k * 10 + user)
                                          : static_cast<double>((per_user - k) * 10 + user));
        }
    }
    table.row_count = user_keys.size();
    table.columns.push_back(categorical("user", std::move(user_keys),
                                        RECPRUNE_COLUMN_ROLE_FEATURE | RECPRUNE_COLUMN_ROLE_USER));
    table.columns.push_back(categorical("item", std::move(item_keys),
                                        RECPRUNE_COLUMN_ROLE_FEATURE | RECPRUNE_COLUMN_ROLE_ITEM));
    table.columns.push_back(numeric("rating", std::move(labels), RECPRUNE_COLUMN_ROLE_LABEL));
    table.columns.push_back(numeric("time", std::move(times), RECPRUNE_COLUMN_ROLE_TIMESTAMP));
    table.metadata_json = R"({"task_hint": "ctr", "positive_threshold": 4})";
    return table;
}

}  // namespace

TEST_CASE("prepare: vocabulary comes from train only and unseen test ids map to 0") {
    // Case B18: train item ids [10, 20, 20], test item ids [20, 30].
    RawTable table = items_by_time({10, 20, 20, 20, 30}, {1, 0, 1, 0, 1});

    PreparedData data = prepare(table, time_split(0.0, 0.4));

    REQUIRE(data.fields.size() == 1);
    // {10 -> 1, 20 -> 2} plus the out-of-vocabulary row 0: 3 rows, not 4 (30 must not leak).
    CHECK(data.fields[0].vocabulary_size == 3);
    CHECK(data.train.ids[0] == std::vector<uint32_t>{1, 2, 2});
    CHECK(data.test.ids[0] == std::vector<uint32_t>{2, 0});
    CHECK(data.metadata.at("oov_counts").at("test").at("item").as_uint64() == 1);
    CHECK(data.metadata.at("row_counts").at("test").as_uint64() == 2);
}

TEST_CASE("prepare: no id that occurs only in test is in the train vocabulary") {
    // Leak check of case B18 on a larger random split: every test id that is not among the
    // training keys must map to 0, and the vocabulary size equals the distinct training keys + 1.
    RawTable table;
    table.row_count = 2000;
    std::vector<uint64_t> keys(table.row_count);
    std::vector<double> labels(table.row_count);
    for (uint64_t row = 0; row < table.row_count; ++row) {
        keys[row] = (row * 2654435761ULL) % 1500;  // many keys occur once
        labels[row] = static_cast<double>(row % 2);
    }
    table.columns.push_back(categorical("item", keys, RECPRUNE_COLUMN_ROLE_FEATURE));
    table.columns.push_back(numeric("label", labels, RECPRUNE_COLUMN_ROLE_LABEL));
    DataSettings settings;
    settings.split.seed = 7;

    PreparedData data = prepare(table, settings);
    SplitRows split = split_rows(table, settings.split);

    std::set<uint64_t> train_keys;
    for (uint64_t row : split.train) train_keys.insert(keys[row]);
    CHECK(data.fields[0].vocabulary_size == train_keys.size() + 1);
    uint64_t test_only = 0;
    for (size_t position = 0; position < split.test.size(); ++position) {
        bool seen = train_keys.count(keys[split.test[position]]) > 0;
        if (!seen) {
            ++test_only;
            CHECK(data.test.ids[0][position] == 0);
        } else {
            CHECK(data.test.ids[0][position] != 0);
        }
    }
    CHECK(test_only > 0);  // the check above ran on real test-only ids
    CHECK(data.metadata.at("oov_counts").at("test").at("item").as_uint64() == test_only);
}

TEST_CASE("prepare: ids never reach the vocabulary size") {
    // Case B18.3: raw ids {1, 2} (0 never seen) are remapped, so id 2 cannot index row 2 of a
    // 2-row table.
    RawTable table = items_by_time({1, 2, 2, 1, 2}, {1, 0, 1, 0, 1});

    PreparedData data = prepare(table, time_split(0.0, 0.2));

    for (const Part* part : {&data.train, &data.validation, &data.test}) {
        for (uint32_t id : part->ids[0]) CHECK(id < data.fields[0].vocabulary_size);
    }
    CHECK(data.fields[0].vocabulary_size == 3);
}

TEST_CASE("prepare: min_count drops rare values, not the missing key") {
    const uint64_t missing = RECPRUNE_MISSING_KEY;
    RawTable table = items_by_time({5, 5, 6, missing, 5}, {1, 0, 1, 0, 1});
    DataSettings settings = time_split(0.0, 0.0);
    settings.min_count = 2;

    PreparedData data = prepare(table, settings);

    // 5 appears 3 times (kept, id 1); 6 once (below 2, OOV); the missing key once but kept
    // (id 2). Vocabulary: OOV, 5, missing = 3 rows.
    CHECK(data.fields[0].vocabulary_size == 3);
    CHECK(data.train.ids[0] == std::vector<uint32_t>{1, 1, 0, 2, 1});
    CHECK(data.metadata.at("oov_counts").at("train").at("item").as_uint64() == 1);
}

TEST_CASE("prepare: ctr labels use the plugin threshold unless the grid overrides it") {
    RawTable table = interactions(4, 5);
    DataSettings settings;
    settings.split.test = 0.0;
    settings.split.validation = 0.0;

    PreparedData from_plugin = prepare(table, settings);
    settings.positive_threshold = 5.0;
    PreparedData from_grid = prepare(table, settings);

    // Ratings are (user + k) % 5 + 1 for 4 users x 5 items: each value 1..5 occurs 4 times.
    // Threshold 4 (plugin): ratings 4 and 5 are positive = 8 of 20. Threshold 5: 4 of 20.
    double positives_plugin = 0, positives_grid = 0;
    for (float label : from_plugin.train.labels) positives_plugin += label;
    for (float label : from_grid.train.labels) positives_grid += label;
    CHECK(positives_plugin == 8);
    CHECK(positives_grid == 4);
    CHECK(from_plugin.metadata.at("positive_threshold").as_double() == 4.0);
    CHECK(from_grid.metadata.at("positive_threshold").as_double() == 5.0);
}

TEST_CASE("prepare: the rating task keeps the raw rating as label") {
    RawTable table = interactions(2, 3);
    DataSettings settings;
    settings.task = "rating";
    settings.split.test = 0.0;
    settings.split.validation = 0.0;

    PreparedData data = prepare(table, settings);

    // Row order is kept within a part: user 0 has ratings 1, 2, 3.
    CHECK(data.train.labels[0] == 1.0f);
    CHECK(data.train.labels[2] == 3.0f);
    CHECK(data.metadata.at("positive_threshold").is_null());
}

TEST_CASE("prepare: labels other than 0 and 1 need a threshold") {
    RawTable table = interactions(2, 3);
    table.metadata_json = "{}";
    DataSettings settings;

    CHECK_THROWS_WITH_AS(prepare(table, settings),
                         doctest::Contains("set positive_threshold in the grid's dataset entry"),
                         recprune::DataError);
}

TEST_CASE("split: random split sizes follow the fractions and the seed") {
    RawTable table = interactions(10, 10);  // 100 rows
    SplitSettings settings;
    settings.validation = 0.1;
    settings.test = 0.2;

    SplitRows first = split_rows(table, settings);
    SplitRows again = split_rows(table, settings);
    settings.seed = 43;
    SplitRows other = split_rows(table, settings);

    CHECK(first.train.size() == 70);
    CHECK(first.validation.size() == 10);
    CHECK(first.test.size() == 20);
    CHECK(first.test == again.test);
    CHECK(first.test != other.test);
    std::set<uint64_t> all(first.train.begin(), first.train.end());
    all.insert(first.validation.begin(), first.validation.end());
    all.insert(first.test.begin(), first.test.end());
    CHECK(all.size() == 100);
}

TEST_CASE("split: a time cut puts no training row after a test row") {
    RawTable table = interactions(10, 10);
    const auto& times = table.columns[3].numeric;
    SplitSettings settings;
    settings.method = "time";
    settings.validation = 0.1;
    settings.test = 0.2;

    SplitRows split = split_rows(table, settings);

    double latest_train = 0, earliest_validation = 1e18, latest_validation = 0;
    double earliest_test = 1e18;
    for (uint64_t row : split.train) latest_train = std::max(latest_train, times[row]);
    for (uint64_t row : split.validation) {
        earliest_validation = std::min(earliest_validation, times[row]);
        latest_validation = std::max(latest_validation, times[row]);
    }
    for (uint64_t row : split.test) earliest_test = std::min(earliest_test, times[row]);
    CHECK(latest_train < earliest_validation);
    CHECK(latest_validation < earliest_test);
    CHECK(split.test.size() >= 20);
    CHECK(split.test_start_time == earliest_test);
}

TEST_CASE("split: rows sharing the cut timestamp all go to the later part") {
    RawTable table = items_by_time({1, 2, 3, 4}, {0, 1, 0, 1});
    table.columns[2].numeric = {1, 2, 2, 2};
    SplitSettings settings;
    settings.method = "time";
    settings.validation = 0.0;
    settings.test = 0.25;

    SplitRows split = split_rows(table, settings);

    CHECK(split.train == std::vector<uint64_t>{0});
    CHECK(split.test == std::vector<uint64_t>{1, 2, 3});
}

TEST_CASE("split: leave-one-out holds out each user's latest interactions") {
    RawTable table = interactions(4, 5);
    const auto& users = table.columns[0].keys;
    const auto& times = table.columns[3].numeric;
    SplitSettings settings;
    settings.method = "leave_one_out";
    settings.validation = 0.1;

    SplitRows split = split_rows(table, settings);

    REQUIRE(split.test.size() == 4);
    REQUIRE(split.validation.size() == 4);
    CHECK(split.train.size() == 12);
    for (uint64_t test_row : split.test) {
        for (uint64_t row = 0; row < table.row_count; ++row) {
            if (users[row] == users[test_row] && row != test_row)
                CHECK(times[row] < times[test_row]);
        }
    }
    // Odd users have decreasing timestamps in file order, so their held-out row is the first.
    CHECK(std::count(split.test.begin(), split.test.end(), 5) == 1);
}

TEST_CASE("split: users below min_user_interactions are dropped first") {
    RawTable table = interactions(3, 4);
    // Give the last user a single extra row under a new key: that user has 1 interaction.
    table.columns[0].keys.back() = 9999;
    SplitSettings settings;
    settings.method = "leave_one_out";
    settings.validation = 0.0;
    settings.min_user_interactions = 2;

    SplitRows split = split_rows(table, settings);

    CHECK(split.rows_dropped_by_user_filter == 1);
    CHECK(split.users_dropped_by_user_filter == 1);
    CHECK(split.train.size() + split.test.size() == 11);
}

TEST_CASE("split: leave-one-out without a user column is a configuration error") {
    RawTable table = items_by_time({1, 2, 3}, {0, 1, 0});
    SplitSettings settings;
    settings.method = "leave_one_out";

    CHECK_THROWS_WITH_AS(split_rows(table, settings),
                         doctest::Contains("needs a categorical user column"),
                         recprune::ConfigError);
}

TEST_CASE("prepare: log1p gives the DLRM transform and zeroes missing and negative counts") {
    // Case B17: I1 missing -> 0, I2 = -1 -> 0, I3 = 5 -> ln(6) = 1.791759.
    RawTable table;
    table.row_count = 2;
    const double missing = std::nan("");
    table.columns.push_back(numeric("I1", {missing, missing}, RECPRUNE_COLUMN_ROLE_FEATURE));
    table.columns.push_back(numeric("I2", {-1, -1}, RECPRUNE_COLUMN_ROLE_FEATURE));
    table.columns.push_back(numeric("I3", {5, 5}, RECPRUNE_COLUMN_ROLE_FEATURE));
    table.columns.push_back(numeric("label", {1, 0}, RECPRUNE_COLUMN_ROLE_LABEL));
    DataSettings settings;
    settings.numeric.method = "log1p";
    settings.split.validation = 0.0;
    settings.split.test = 0.0;

    PreparedData data = prepare(table, settings);

    REQUIRE(data.dense_count == 3);
    CHECK(data.fields.empty());
    REQUIRE(data.train.dense.size() == 6);
    CHECK(data.train.dense[0] == 0.0f);
    CHECK(data.train.dense[1] == 0.0f);
    // ln(6) by hand; float rounding tolerance.
    CHECK(data.train.dense[2] == doctest::Approx(1.791759).epsilon(1e-6));
    for (float value : data.train.dense) CHECK(std::isfinite(value));
}

TEST_CASE("prepare: standardize keeps an all-missing column finite") {
    RawTable table;
    table.row_count = 3;
    const double missing = std::nan("");
    table.columns.push_back(
        numeric("empty", {missing, missing, missing}, RECPRUNE_COLUMN_ROLE_FEATURE));
    table.columns.push_back(numeric("x", {1, 2, 3}, RECPRUNE_COLUMN_ROLE_FEATURE));
    table.columns.push_back(numeric("label", {1, 0, 1}, RECPRUNE_COLUMN_ROLE_LABEL));
    DataSettings settings;
    settings.numeric.method = "standardize";
    settings.split.validation = 0.0;
    settings.split.test = 0.0;

    PreparedData data = prepare(table, settings);

    // x: mean 2, population std sqrt(2/3); row 0 -> -1 / 0.816497 = -1.224745.
    CHECK(data.train.dense[0] == 0.0f);
    CHECK(data.train.dense[1] == doctest::Approx(-1.224745).epsilon(1e-6));
    for (float value : data.train.dense) CHECK(std::isfinite(value));
}

TEST_CASE("prepare: log_squared turns counts into tokens without merging ranges") {
    RawTable table;
    table.row_count = 6;
    const double missing = std::nan("");
    // 1 -> token "1"; 3 -> floor(ln(3)^2) = floor(1.2069) = 1 in the log range, kept apart;
    // 100 -> floor(4.6052^2) = 21; 150 -> floor(5.0106^2) = 25; -1 must not become the
    // missing key.
    table.columns.push_back(
        numeric("count", {1, 3, 100, 150, -1, missing}, RECPRUNE_COLUMN_ROLE_FEATURE));
    table.columns.push_back(numeric("label", {1, 0, 1, 0, 1, 0}, RECPRUNE_COLUMN_ROLE_LABEL));
    DataSettings settings;
    settings.numeric.method = "log_squared";
    settings.split.validation = 0.0;
    settings.split.test = 0.0;

    PreparedData data = prepare(table, settings);

    REQUIRE(data.fields.size() == 1);
    CHECK(data.dense_count == 0);
    // Six distinct tokens (1, log 1, 21, 25, -1, missing) + OOV.
    CHECK(data.fields[0].vocabulary_size == 7);
    CHECK(data.train.ids[0] == std::vector<uint32_t>{1, 2, 3, 4, 5, 6});
}

TEST_CASE("prepare: quantile buckets come from training values") {
    RawTable table;
    table.row_count = 8;
    table.columns.push_back(numeric("x", {1, 2, 3, 4, 5, 6, 7, 100}, RECPRUNE_COLUMN_ROLE_FEATURE));
    table.columns.push_back(numeric("label", {1, 0, 1, 0, 1, 0, 1, 0}, RECPRUNE_COLUMN_ROLE_LABEL));
    table.columns.push_back(numeric("t", {1, 2, 3, 4, 5, 6, 7, 8}, RECPRUNE_COLUMN_ROLE_TIMESTAMP));
    DataSettings settings = time_split(0.0, 0.125);
    settings.numeric.method = "quantile";
    settings.numeric.buckets = 2;

    PreparedData data = prepare(table, settings);

    // Training values 1..7: the one boundary is the value at position 7 * 1/2 = 3 -> 4. So
    // 1..3 are bucket 0 (id 1), 4..7 bucket 1 (id 2); the test value 100 falls in bucket 1.
    auto boundaries = data.metadata.at("numeric").at("x").at("boundaries").as_array();
    REQUIRE(boundaries.size() == 1);
    CHECK(boundaries[0].as_double() == 4.0);
    CHECK(data.train.ids[0] == std::vector<uint32_t>{1, 1, 1, 2, 2, 2, 2});
    CHECK(data.test.ids[0] == std::vector<uint32_t>{2});
}

TEST_CASE("prepare: multi-hot fields keep per-row offsets") {
    RawTable table;
    table.row_count = 3;
    RawColumn genres;
    genres.name = "genres";
    genres.type = RECPRUNE_COLUMN_TYPE_MULTI_HOT;
    genres.roles = RECPRUNE_COLUMN_ROLE_FEATURE;
    genres.keys = {7, 8, 8};
    genres.offsets = {0, 2, 2, 3};
    table.columns.push_back(genres);
    table.columns.push_back(numeric("label", {1, 0, 1}, RECPRUNE_COLUMN_ROLE_LABEL));
    DataSettings settings = time_split(0.0, 0.0);
    settings.split.method = "random";

    PreparedData data = prepare(table, settings);

    REQUIRE(data.fields.size() == 1);
    CHECK(data.fields[0].multi_hot);
    CHECK(data.fields[0].vocabulary_size == 3);
    CHECK(data.train.offsets[0] == std::vector<uint64_t>{0, 2, 2, 3});
    CHECK(data.train.ids[0] == std::vector<uint32_t>{1, 2, 2});
}

TEST_CASE("prepare: users unseen in training still get distinct user indices") {
    RawTable table = interactions(4, 3);
    // Row 9 (user 3, time 33) is the latest row. Under a new user key it is that user's only
    // row, so the time split leaves this user out of training.
    table.columns[0].keys[9] = 5000;
    DataSettings settings = time_split(0.0, 0.25);

    PreparedData data = prepare(table, settings);

    REQUIRE(data.train.users.size() == data.train.row_count);
    REQUIRE(data.test.users.size() == data.test.row_count);
    uint32_t user_vocabulary = data.fields[0].vocabulary_size;
    for (size_t position = 0; position < data.train.row_count; ++position) {
        CHECK(data.train.users[position] == data.train.ids[0][position]);
    }
    uint64_t unseen = 0;
    for (size_t position = 0; position < data.test.row_count; ++position) {
        if (data.test.ids[0][position] == 0) {
            ++unseen;
            CHECK(data.test.users[position] >= user_vocabulary);
        } else {
            CHECK(data.test.users[position] == data.test.ids[0][position]);
        }
    }
    CHECK(unseen == 1);
}

TEST_CASE("prepare: the schema lists fields with vocabulary sizes and roles") {
    RawTable table = interactions(3, 3);
    DataSettings settings;
    settings.split.test = 0.0;
    settings.split.validation = 0.0;

    PreparedData data = prepare(table, settings);

    // 3 users + OOV = 4 rows; items (7 * user + 3 * k) % 50 are 9 distinct values + OOV = 10.
    CHECK(data.schema_json() ==
          R"({"task":"ctr","fields":[{"name":"user","vocabulary_size":4,"multi_hot":false,)"
          R"("roles":["feature","user"]},{"name":"item","vocabulary_size":10,"multi_hot":false,)"
          R"("roles":["feature","item"]}],"dense_count":0})");
}
