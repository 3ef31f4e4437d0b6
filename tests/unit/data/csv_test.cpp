#include "data/prepare.hpp"

#include "dataset_plugin_fixture.hpp"
#include "recprune/sdk/text.hpp"
#include "temp_dir.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <string>

using namespace recprune::data;
using recprune::test::column_named;
using recprune::test::DatasetPlugin;
using recprune::test::PluginCallError;
using recprune::test::TempDir;
namespace text = recprune::text;

namespace {

boost::json::array user_item_label() {
    return boost::json::array{
        boost::json::object{{"name", "user"}, {"roles", boost::json::array{"feature", "user"}}},
        boost::json::object{{"name", "item"}, {"roles", boost::json::array{"feature", "item"}}},
        boost::json::object{{"name", "label"}, {"type", "numeric"}, {"roles", "label"}}};
}

DataSettings no_split() {
    DataSettings settings;
    settings.split.validation = 0.0;
    settings.split.test = 0.0;
    return settings;
}

}  // namespace

TEST_CASE("csv: a header, CRLF endings and no final newline") {
    // Case B16.1: bytes "user,item,label\r\n1,10,1\r\n2,10,0" with a header.
    TempDir dir;
    std::string path = dir.write("clicks.csv", "user,item,label\r\n1,10,1\r\n2,10,0");
    DatasetPlugin plugin("csv");

    RawTable table =
        plugin.load({{"path", path}, {"header", true}, {"columns", user_item_label()}});
    PreparedData data = prepare(table, no_split());

    REQUIRE(table.row_count == 2);
    CHECK(column_named(table, "user").keys[0] == text::hash_token("1"));
    CHECK(column_named(table, "item").keys[1] == text::hash_token("10"));
    CHECK(column_named(table, "label").numeric == std::vector<double>{1.0, 0.0});
    REQUIRE(data.fields.size() == 2);
    CHECK(data.fields[1].name == "item");
    CHECK(data.fields[1].vocabulary_size == 2);  // the one item "10" + OOV
    CHECK(data.train.labels == std::vector<float>{1.0f, 0.0f});
}

TEST_CASE("csv: a header read as data is an error on line 1") {
    // Case B16.2: the same bytes with header = false.
    TempDir dir;
    std::string path = dir.write("clicks.csv", "user,item,label\r\n1,10,1\r\n2,10,0");
    DatasetPlugin plugin("csv");

    CHECK_THROWS_WITH_AS(
        plugin.load({{"path", path}, {"header", false}, {"columns", user_item_label()}}),
        (("malformed data: " + path +
          ":1: field \"label\": expected a finite number, found "
          "\"label\"; fix the value, or set \"on_bad_line\": \"skip\" in the grid's "
          "dataset entry to drop such lines")
             .c_str()),
        PluginCallError);
}

TEST_CASE("csv: header columns are matched by name") {
    TempDir dir;
    std::string path =
        dir.write("ratings.tsv", "ts\titem\trating\tuser\n5\ta\t4\tu1\n6\tb\t2\tu2\n");
    DatasetPlugin plugin("csv");
    boost::json::array columns{
        boost::json::object{{"name", "user"}, {"roles", boost::json::array{"feature", "user"}}},
        boost::json::object{{"name", "rating"}, {"type", "numeric"}, {"roles", "label"}},
        boost::json::object{{"name", "ts"}, {"type", "numeric"}, {"roles", "timestamp"}}};

    RawTable table = plugin.load({{"path", path}, {"separator", "\t"}, {"columns", columns}});

    REQUIRE(table.columns.size() == 3);
    CHECK(column_named(table, "user").keys[1] == text::hash_token("u2"));
    CHECK(column_named(table, "rating").numeric == std::vector<double>{4, 2});
    CHECK(column_named(table, "ts").numeric == std::vector<double>{5, 6});
}

TEST_CASE("csv: a column missing from the header names the header") {
    TempDir dir;
    std::string path = dir.write("x.csv", "a,b\n1,2\n");
    DatasetPlugin plugin("csv");

    CHECK_THROWS_WITH_AS(
        plugin.load(
            {{"path", path}, {"columns", boost::json::array{boost::json::object{{"name", "c"}}}}}),
        (("malformed data: " + path +
          ":1: field \"c\": not in the header line, which has: a, b; "
          "fix the column name in the grid, or set header to false")
             .c_str()),
        PluginCallError);
}

TEST_CASE("csv: multi-hot values, empty fields and multi-character separators") {
    TempDir dir;
    std::string path = dir.write("movies.dat", "1::Comedy|Drama::\n2::::3.5\n3::Drama|::7\n");
    DatasetPlugin plugin("csv");
    boost::json::array columns{
        boost::json::object{{"name", "movie"}},
        boost::json::object{{"name", "genres"}, {"type", "multi_hot"}, {"separator", "|"}},
        boost::json::object{{"name", "score"}, {"type", "numeric"}}};

    RawTable table =
        plugin.load({{"path", path}, {"separator", "::"}, {"header", false}, {"columns", columns}});

    REQUIRE(table.row_count == 3);
    const RawColumn& genres = column_named(table, "genres");
    CHECK(genres.offsets == std::vector<uint64_t>{0, 2, 2, 3});
    CHECK(genres.keys[2] == text::hash_token("Drama"));
    const RawColumn& score = column_named(table, "score");
    CHECK(std::isnan(score.numeric[0]));
    CHECK(score.numeric[1] == 3.5);
}

TEST_CASE("csv: quoted fields may hold the separator and quotes") {
    TempDir dir;
    std::string path = dir.write(
        "books.csv", "id,title,rating\n1,\"Dune, Part One\",4\n2,\"The \"\"Best\"\"\",5\n");
    DatasetPlugin plugin("csv");
    boost::json::array columns{
        boost::json::object{{"name", "id"}, {"roles", boost::json::array{"item"}}},
        boost::json::object{{"name", "title"}},
        boost::json::object{{"name", "rating"}, {"type", "numeric"}, {"roles", "label"}}};

    RawTable table = plugin.load({{"path", path}, {"quote", "\""}, {"columns", columns}});

    REQUIRE(table.row_count == 2);
    CHECK(column_named(table, "title").keys[0] == text::hash_token("Dune, Part One"));
    CHECK(column_named(table, "title").keys[1] == text::hash_token("The \"Best\""));
    CHECK(column_named(table, "rating").numeric == std::vector<double>{4, 5});
}

TEST_CASE("csv: invalid UTF-8 in a token names the field") {
    TempDir dir;
    std::string path = dir.write("x.csv", "name\nCaf\xE9\n");
    DatasetPlugin plugin("csv");
    boost::json::array columns{boost::json::object{{"name", "name"}}};

    CHECK_THROWS_WITH_AS(plugin.load({{"path", path}, {"columns", columns}}),
                         doctest::Contains((path + ":2: field \"name\": expected UTF-8 text, "
                                                   "found byte 0xE9")
                                               .c_str()),
                         PluginCallError);
    RawTable latin1 = plugin.load({{"path", path}, {"columns", columns}, {"encoding", "latin-1"}});
    CHECK(latin1.row_count == 1);
}

TEST_CASE("csv: skipped lines leave no partial row") {
    TempDir dir;
    std::string path = dir.write("x.csv", "u,l\na,1\nb,x\nc\nd,0\n");
    DatasetPlugin plugin("csv");
    boost::json::array columns{
        boost::json::object{{"name", "u"}},
        boost::json::object{{"name", "l"}, {"type", "numeric"}, {"roles", "label"}}};

    RawTable table = plugin.load({{"path", path}, {"columns", columns}, {"on_bad_line", "skip"}});

    // Line 3 has a non-numeric label and line 4 too few fields.
    CHECK(table.row_count == 2);
    CHECK(column_named(table, "u").keys ==
          std::vector<uint64_t>{text::hash_token("a"), text::hash_token("d")});
    auto metadata = boost::json::parse(table.metadata_json).as_object();
    CHECK(metadata.at("skipped_lines").as_int64() == 2);
}

TEST_CASE("csv: invalid column descriptions are parameter errors") {
    TempDir dir;
    std::string path = dir.write("x.csv", "a\n1\n");
    DatasetPlugin plugin("csv");

    CHECK_THROWS_WITH_AS(
        plugin.load(
            {{"path", path},
             {"columns", boost::json::array{boost::json::object{{"name", "a"}, {"type", "int"}}}}}),
        "invalid parameter: csv.columns[0].type: \"int\" is not one of categorical, multi_hot, "
        "numeric, skip; use one of them",
        PluginCallError);
    CHECK_THROWS_WITH_AS(
        plugin.load({{"path", path},
                     {"columns",
                      boost::json::array{boost::json::object{{"name", "a"}, {"roles", "label"}}}}}),
        "invalid parameter: csv.columns[0].type: a label or timestamp column must be numeric; set "
        "\"type\": \"numeric\"",
        PluginCallError);
    CHECK_THROWS_WITH_AS(plugin.load({{"path", path}}),
                         doctest::Contains("invalid parameter: csv.columns: missing or empty"),
                         PluginCallError);
}
