#include "data/prepare.hpp"

#include "dataset_plugin_fixture.hpp"
#include "recprune/sdk/text.hpp"

#include <doctest/doctest.h>

#include <set>
#include <string>

using namespace recprune::data;
using recprune::test::column_named;
using recprune::test::DatasetPlugin;
using recprune::test::PluginCallError;

namespace {

const std::string kShipped = std::string(RECPRUNE_SOURCE_DIR) + "/experiments/data/movietweetings";
const std::string kFixtures = std::string(RECPRUNE_TEST_FIXTURES_DIR) + "/data";

}  // namespace

TEST_CASE("movietweetings: loads the shipped 100K snapshot") {
    DatasetPlugin plugin("movietweetings");
    std::vector<std::string> sources;

    RawTable table = plugin.load({{"path", kShipped}}, &sources);

    // Counts from the snapshot's provenance notes, rechecked with a Python one-liner over the
    // same files: 100,000 ratings, 16,554 users, 10,506 movies, 25 genres, 66 movies without
    // genre, 50,542 ratings >= 8.
    CHECK(table.row_count == 100000);
    REQUIRE(sources.size() == 2);
    CHECK(sources[0] == kShipped + "/ratings.dat");
    const RawColumn& users = column_named(table, "user");
    const RawColumn& items = column_named(table, "item");
    const RawColumn& genres = column_named(table, "genres");
    const RawColumn& rating = column_named(table, "rating");
    CHECK(std::set<uint64_t>(users.keys.begin(), users.keys.end()).size() == 16554);
    CHECK(std::set<uint64_t>(items.keys.begin(), items.keys.end()).size() == 10506);
    CHECK(std::set<uint64_t>(genres.keys.begin(), genres.keys.end()).size() == 25);
    CHECK(users.roles == (RECPRUNE_COLUMN_ROLE_FEATURE | RECPRUNE_COLUMN_ROLE_USER));
    CHECK(genres.type == RECPRUNE_COLUMN_TYPE_MULTI_HOT);
    uint64_t positives = 0;
    for (double value : rating.numeric) positives += value >= 8.0;
    CHECK(positives == 50542);
    auto metadata = boost::json::parse(table.metadata_json).as_object();
    CHECK(metadata.at("positive_threshold").as_double() == 8.0);
    CHECK(metadata.at("movie_count").as_int64() == 10506);
    CHECK(metadata.at("ratings_without_movie").as_int64() == 0);
    CHECK(metadata.at("skipped_lines").as_int64() == 0);
}

TEST_CASE("movietweetings: movie ids keep their leading zeros") {
    DatasetPlugin plugin("movietweetings");

    RawTable table = plugin.load({{"path", kShipped}});

    // The second rating is movie "1853728"; the third is "0104257", whose key must be the hash
    // of the 7-character string, not of the number 104257.
    const RawColumn& items = column_named(table, "item");
    CHECK(items.keys[2] == recprune::text::hash_token("0104257"));
    CHECK(items.keys[2] != recprune::text::hash_token("104257"));
}

TEST_CASE("movietweetings: the shipped data prepares with the 8-of-10 threshold") {
    DatasetPlugin plugin("movietweetings");
    RawTable table = plugin.load({{"path", kShipped}});
    DataSettings settings;
    settings.split.validation = 0.0;
    settings.split.test = 0.0;

    PreparedData data = prepare(table, settings);

    // 50,542 of 100,000 ratings are >= 8 (see above).
    double positives = 0;
    for (float label : data.train.labels) positives += label;
    CHECK(positives == 50542);
    REQUIRE(data.fields.size() == 3);
    CHECK(data.fields[2].name == "genres");
    CHECK(data.fields[2].multi_hot);
    CHECK(data.fields[2].vocabulary_size == 26);  // 25 genres + OOV
}

TEST_CASE("movietweetings: a bad line is reported with file, line and field") {
    DatasetPlugin plugin("movietweetings");
    std::string folder = kFixtures + "/movietweetings-bad";

    try {
        plugin.load({{"path", folder}});
        FAIL("no error");
    } catch (const PluginCallError& error) {
        CHECK(error.status == RECPRUNE_STATUS_DATA_ERROR);
        CHECK(std::string(error.what()) ==
              "malformed data: " + folder +
                  "/ratings.dat:3: field \"rating\": expected a finite "
                  "number, found \"x\"; fix the value, or set \"on_bad_line\": \"skip\" in the "
                  "grid's dataset entry to drop such lines");
    }
}

TEST_CASE("movietweetings: skipping bad lines counts them and keeps the rest") {
    DatasetPlugin plugin("movietweetings");

    RawTable table =
        plugin.load({{"path", kFixtures + "/movietweetings-bad"}, {"on_bad_line", "skip"}});

    // 4 lines, line 3 is bad; the CRLF lines and the last line without newline are kept.
    CHECK(table.row_count == 3);
    auto metadata = boost::json::parse(table.metadata_json).as_object();
    CHECK(metadata.at("skipped_lines").as_int64() == 1);
    const RawColumn& rating = column_named(table, "rating");
    CHECK(rating.numeric == std::vector<double>{8, 9, 10});
    const RawColumn& genres = column_named(table, "genres");
    CHECK(genres.offsets == std::vector<uint64_t>{0, 2, 4, 6});
}

TEST_CASE("movietweetings: a title that is not UTF-8 is an error") {
    DatasetPlugin plugin("movietweetings");
    std::string folder = kFixtures + "/movietweetings-latin1";

    CHECK_THROWS_WITH_AS(plugin.load({{"path", folder}}),
                         doctest::Contains((folder + "/movies.dat:1: field \"title\": expected "
                                                     "UTF-8 text, found byte 0xE9")
                                               .c_str()),
                         PluginCallError);
}

TEST_CASE("movietweetings: a missing folder names the file and the parameter") {
    DatasetPlugin plugin("movietweetings");

    CHECK_THROWS_WITH_AS(
        plugin.load({{"path", "/nonexistent/movietweetings"}}),
        doctest::Contains("missing data file: /nonexistent/movietweetings/movies.dat"),
        PluginCallError);
    CHECK_THROWS_WITH_AS(plugin.load({{"path", ""}}),
                         doctest::Contains("invalid parameter: movietweetings.path"),
                         PluginCallError);
}
