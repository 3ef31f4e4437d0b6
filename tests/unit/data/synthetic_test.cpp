#include "dataset_plugin_fixture.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <map>
#include <set>
#include <string>

using namespace recprune::data;
using recprune::test::column_named;
using recprune::test::DatasetPlugin;

namespace {

boost::json::object small_params(uint64_t seed) {
    return {
        {"rows", 20000},     {"users", 200},      {"items", 100},      {"informative_fields", 3},
        {"exact_copies", 1}, {"noisy_copies", 1}, {"copy_noise", 0.2}, {"noise_fields", 2},
        {"rare_fields", 1},  {"rare_rate", 0.5},  {"cardinality", 10}, {"signal", 1.5},
        {"seed", seed}};
}

std::string field_of_kind(const boost::json::object& truth, const char* list) {
    return std::string(truth.at(list).as_array().at(0).as_string());
}

// Spread of the click rate across a field's values: the standard deviation of per-value rates.
double click_rate_spread(const RawTable& table, const std::string& field) {
    const RawColumn& values = column_named(table, field);
    const RawColumn& clicks = column_named(table, "click");
    std::map<uint64_t, std::pair<double, double>> per_value;  // value -> (clicks, rows)
    for (uint64_t row = 0; row < table.row_count; ++row) {
        per_value[values.keys[row]].first += clicks.numeric[row];
        per_value[values.keys[row]].second += 1;
    }
    double sum = 0, sum_squares = 0;
    for (const auto& [value, counts] : per_value) {
        double rate = counts.first / counts.second;
        sum += rate;
        sum_squares += rate * rate;
    }
    double mean = sum / per_value.size();
    return std::sqrt(sum_squares / per_value.size() - mean * mean);
}

}  // namespace

TEST_CASE("synthetic: the same seed gives the same rows") {
    DatasetPlugin plugin("synthetic");

    RawTable first = plugin.load(small_params(3));
    RawTable again = plugin.load(small_params(3));
    RawTable other = plugin.load(small_params(4));

    REQUIRE(first.columns.size() == again.columns.size());
    for (size_t index = 0; index < first.columns.size(); ++index) {
        CHECK(first.columns[index].name == again.columns[index].name);
        CHECK(first.columns[index].keys == again.columns[index].keys);
        CHECK(first.columns[index].numeric == again.columns[index].numeric);
    }
    CHECK_FALSE(column_named(first, "click").numeric == column_named(other, "click").numeric);
}

TEST_CASE("synthetic: the truth names every field and hides kinds in names") {
    DatasetPlugin plugin("synthetic");

    RawTable table = plugin.load(small_params(3));

    auto truth = boost::json::parse(table.metadata_json).at("truth").as_object();
    // 3 informative + 1 exact + 1 noisy + 2 noise + 1 rare = 8 fields, plus user, item, click
    // and timestamp columns.
    CHECK(truth.at("fields").as_object().size() == 8);
    CHECK(table.columns.size() == 12);
    CHECK(truth.at("informative_by_importance").as_array().size() == 3);
    for (const auto& [name, entry] : truth.at("fields").as_object()) {
        CHECK(std::string(name).rfind("field_", 0) == 0);
        CHECK_NOTHROW(column_named(table, std::string(name)));
    }
}

TEST_CASE("synthetic: an exact copy is a relabelling of its source") {
    DatasetPlugin plugin("synthetic");
    RawTable table = plugin.load(small_params(3));
    auto truth = boost::json::parse(table.metadata_json).at("truth").as_object();
    std::string copy = field_of_kind(truth, "exact_copies");
    std::string source(truth.at("fields").at(copy).at("source").as_string());

    std::map<uint64_t, std::set<uint64_t>> images;
    std::map<uint64_t, std::set<uint64_t>> preimages;
    const RawColumn& from = column_named(table, source);
    const RawColumn& to = column_named(table, copy);
    for (uint64_t row = 0; row < table.row_count; ++row) {
        images[from.keys[row]].insert(to.keys[row]);
        preimages[to.keys[row]].insert(from.keys[row]);
    }

    CHECK(images.size() == 10);  // every one of the 10 values occurs in 20,000 rows
    for (const auto& [value, targets] : images) CHECK(targets.size() == 1);
    for (const auto& [value, sources] : preimages) CHECK(sources.size() == 1);
}

TEST_CASE("synthetic: a noisy copy disagrees at the noise rate") {
    DatasetPlugin plugin("synthetic");
    RawTable table = plugin.load(small_params(3));
    auto truth = boost::json::parse(table.metadata_json).at("truth").as_object();
    std::string copy = field_of_kind(truth, "noisy_copies");
    std::string source(truth.at("fields").at(copy).at("source").as_string());
    const RawColumn& from = column_named(table, source);
    const RawColumn& to = column_named(table, copy);

    // The relabelling is the most frequent copy value of each source value.
    std::map<uint64_t, std::map<uint64_t, uint64_t>> counts;
    for (uint64_t row = 0; row < table.row_count; ++row) ++counts[from.keys[row]][to.keys[row]];
    uint64_t agree = 0;
    for (const auto& [value, targets] : counts) {
        uint64_t best = 0;
        for (const auto& [target, count] : targets) best = std::max(best, count);
        agree += best;
    }
    double disagree = 1.0 - static_cast<double>(agree) / table.row_count;

    // A random value differs from the relabelled one with probability 9/10, so the expected
    // disagreement is 0.2 x 0.9 = 0.18; 5 binomial standard deviations over 20,000 rows is
    // 5 x sqrt(0.18 x 0.82 / 20000) = 0.0136.
    CHECK(disagree == doctest::Approx(0.18).epsilon(0.0136 / 0.18));
}

TEST_CASE("synthetic: informative fields move the click rate and noise does not") {
    DatasetPlugin plugin("synthetic");

    RawTable table = plugin.load(small_params(3));

    auto truth = boost::json::parse(table.metadata_json).at("truth").as_object();
    std::string strongest(truth.at("informative_by_importance").as_array().at(0).as_string());
    double informative = click_rate_spread(table, strongest);
    for (const auto& noise : truth.at("noise").as_array()) {
        double spread = click_rate_spread(table, std::string(noise.as_string()));
        // Noise spread is sampling error only, about sqrt(p(1-p)/2000) = 0.01 for 10 values of
        // 2,000 rows each; the strongest field's weights (std 1.5) move rates by tenths.
        CHECK(spread < 0.03);
        CHECK(informative > 3 * spread);
    }
}

TEST_CASE("synthetic: a rare field is mostly singletons") {
    DatasetPlugin plugin("synthetic");
    RawTable table = plugin.load(small_params(3));
    auto truth = boost::json::parse(table.metadata_json).at("truth").as_object();
    const RawColumn& rare = column_named(table, field_of_kind(truth, "rare"));

    std::map<uint64_t, uint64_t> counts;
    for (uint64_t key : rare.keys) ++counts[key];
    uint64_t singletons = 0;
    for (const auto& [key, count] : counts) singletons += count == 1;

    // rare_rate 0.5 of 20,000 rows, within 5 standard deviations (5 x sqrt(5000) = 354).
    CHECK(singletons == doctest::Approx(10000).epsilon(354.0 / 10000));
}
