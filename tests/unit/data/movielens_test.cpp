#include "data/prepare.hpp"

#include "dataset_plugin_fixture.hpp"
#include "recprune/sdk/text.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <set>
#include <string>

using namespace recprune::data;
using recprune::test::column_named;
using recprune::test::DatasetPlugin;
using recprune::test::PluginCallError;
namespace text = recprune::text;

namespace {

const std::string kFixtures = std::string(RECPRUNE_TEST_FIXTURES_DIR) + "/data";

std::vector<uint64_t> genres_of_row(const RawTable& table, uint64_t row) {
    const RawColumn& genres = column_named(table, "genres");
    return {genres.keys.begin() + static_cast<ptrdiff_t>(genres.offsets[row]),
            genres.keys.begin() + static_cast<ptrdiff_t>(genres.offsets[row + 1])};
}

}  // namespace

TEST_CASE("movielens: a Latin-1 u.item title reads as UTF-8 with its genre flags") {
    // Case B14: item 1683 "Caf\xE9 Society (1999)" with flags at index 5 (Comedy) and 8 (Drama).
    DatasetPlugin plugin("movielens");

    RawTable table =
        plugin.load({{"path", kFixtures + "/movielens-100k-mini"}, {"include_titles", true}});

    auto metadata = boost::json::parse(table.metadata_json).as_object();
    CHECK(metadata.at("variant").as_string() == "100k");
    CHECK(metadata.at("titles").at("1683").as_string() == "Caf\xC3\xA9 Society (1999)");
    // Row 0 of u.data rates item 1683.
    CHECK(genres_of_row(table, 0) ==
          std::vector<uint64_t>{text::hash_token("Comedy"), text::hash_token("Drama")});
    // Row 1 rates item 2: Action, Adventure, Thriller.
    CHECK(genres_of_row(table, 1) == std::vector<uint64_t>{text::hash_token("Action"),
                                                           text::hash_token("Adventure"),
                                                           text::hash_token("Thriller")});
}

TEST_CASE("movielens: 100K user side features are bucketed and keyed") {
    DatasetPlugin plugin("movielens");

    RawTable table = plugin.load({{"path", kFixtures + "/movielens-100k-mini"}});

    REQUIRE(table.row_count == 6);
    // Users 1 (24, M, technician, 85711), 2 (53, F, other, 94043), 3 (17, M, writer, T8H1N).
    // Ages bucket to the 1M codes: 24 -> 18, 53 -> 50, 17 -> 1.
    const RawColumn& age = column_named(table, "age");
    CHECK(age.keys == std::vector<uint64_t>{18, 18, 50, 50, 1, 1});
    const RawColumn& zip = column_named(table, "zip_prefix");
    CHECK(zip.keys[0] == text::hash_token("857"));
    CHECK(zip.keys[4] == text::hash_token("T8H"));
    const RawColumn& gender = column_named(table, "gender");
    CHECK(gender.keys[2] == text::hash_token("F"));
    const RawColumn& occupation = column_named(table, "occupation");
    CHECK(occupation.keys[4] == text::hash_token("writer"));
    auto metadata = boost::json::parse(table.metadata_json).as_object();
    CHECK(metadata.at("positive_threshold").as_double() == 4.0);
}

TEST_CASE("movielens: the 1M layout reads :: files and Latin-1 titles") {
    DatasetPlugin plugin("movielens");
    std::vector<std::string> sources;

    RawTable table = plugin.load(
        {{"path", kFixtures + "/movielens-1m-mini"}, {"include_titles", true}}, &sources);

    auto metadata = boost::json::parse(table.metadata_json).as_object();
    CHECK(metadata.at("variant").as_string() == "1m");
    REQUIRE(sources.size() == 3);
    CHECK(sources[0] == kFixtures + "/movielens-1m-mini/ratings.dat");
    CHECK(table.row_count == 4);
    CHECK(metadata.at("titles").at("3408").as_string() == "Caf\xC3\xA9 au lait (1993)");
    CHECK(column_named(table, "age").keys == std::vector<uint64_t>{1, 1, 56, 56});
    CHECK(genres_of_row(table, 1) == std::vector<uint64_t>{text::hash_token("Animation"),
                                                           text::hash_token("Children's"),
                                                           text::hash_token("Musical")});
    CHECK(column_named(table, "rating").numeric == std::vector<double>{5, 3, 4, 2});
}

TEST_CASE("movielens: a folder with neither layout is a clear error") {
    DatasetPlugin plugin("movielens");
    std::string folder = kFixtures + "/movietweetings-bad";

    CHECK_THROWS_WITH_AS(plugin.load({{"path", folder}, {"variant", "auto"}}),
                         doctest::Contains(("missing data file: " + folder).c_str()),
                         PluginCallError);
    CHECK_THROWS_WITH_AS(
        plugin.load({{"path", kFixtures + "/movielens-100k-mini"}, {"variant", "1m"}}),
        doctest::Contains("/users.dat: the users file"), PluginCallError);
}

TEST_CASE("movielens: loads the real 100K set when present") {
    std::string folder = recprune::test::shared_dataset("ml-100k");
    if (folder.empty()) {
        MESSAGE("skipped: ml-100k is not in the shared datasets folder");
        return;
    }
    DatasetPlugin plugin("movielens");

    RawTable table = plugin.load({{"path", folder}, {"include_titles", true}});

    // Counts from the dataset's u.info and its README: 100,000 ratings by 943 users on 1,682
    // items. Ratings 4 (34,174) and 5 (21,201) make 55,375 positives at threshold 4.
    CHECK(table.row_count == 100000);
    const RawColumn& users = column_named(table, "user");
    const RawColumn& items = column_named(table, "item");
    CHECK(std::set<uint64_t>(users.keys.begin(), users.keys.end()).size() == 943);
    CHECK(std::set<uint64_t>(items.keys.begin(), items.keys.end()).size() == 1682);
    const RawColumn& rating = column_named(table, "rating");
    CHECK(std::count_if(rating.numeric.begin(), rating.numeric.end(),
                        [](double value) { return value >= 4.0; }) == 55375);
    auto metadata = boost::json::parse(table.metadata_json).as_object();
    CHECK(metadata.at("ratings_without_user").as_int64() == 0);
    CHECK(metadata.at("ratings_without_movie").as_int64() == 0);
    // Item 1 is "Toy Story (1995)" in u.item, and every converted title is valid UTF-8.
    CHECK(metadata.at("titles").at("1").as_string() == "Toy Story (1995)");
    for (const auto& [id, title] : metadata.at("titles").as_object()) {
        CHECK(text::find_invalid_utf8(std::string(title.as_string())) == std::string::npos);
    }
}
