#include "data/prepare.hpp"

#include "dataset_plugin_fixture.hpp"
#include "temp_dir.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace recprune::data;
using recprune::test::column_named;
using recprune::test::DatasetPlugin;
using recprune::test::PluginCallError;
using recprune::test::TempDir;

TEST_CASE("libsvm: FFM fields become columns") {
    TempDir dir;
    // Field 0 has one feature per row (categorical); field 2 has two in row 2 (multi-hot);
    // field 1 is absent from row 1.
    std::string path = dir.write("train.ffm", "1 0:5:1 1:7:1 2:9:1\n0 0:6:1 2:9:1 2:10:1\n");
    DatasetPlugin plugin("libsvm");

    RawTable table = plugin.load({{"path", path}});

    REQUIRE(table.row_count == 2);
    REQUIRE(table.columns.size() == 4);  // f0, f1, f2, label
    CHECK(column_named(table, "f0").keys == std::vector<uint64_t>{5, 6});
    CHECK(column_named(table, "f1").keys == std::vector<uint64_t>{7, RECPRUNE_MISSING_KEY});
    const RawColumn& f2 = column_named(table, "f2");
    CHECK(f2.type == RECPRUNE_COLUMN_TYPE_MULTI_HOT);
    CHECK(f2.offsets == std::vector<uint64_t>{0, 1, 3});
    CHECK(column_named(table, "label").numeric == std::vector<double>{1, 0});
}

TEST_CASE("libsvm: libFM lines map tokens to fields by position") {
    // Frappe-style lines: label -1/1 and the same number of features on every line.
    TempDir dir;
    std::string path = dir.write("frappe.libfm", "-1 10:1 200:1 3000:1\n1 11:1 200:1 3001:1\n");
    DatasetPlugin plugin("libsvm");

    RawTable table = plugin.load({{"path", path}});
    DataSettings settings;
    settings.split.validation = 0.0;
    settings.split.test = 0.0;
    PreparedData data = prepare(table, settings);

    CHECK(column_named(table, "f1").keys == std::vector<uint64_t>{200, 200});
    // Threshold 0.5 from the plugin: -1 is a negative, 1 a positive.
    CHECK(data.train.labels == std::vector<float>{0.0f, 1.0f});
    REQUIRE(data.fields.size() == 3);
    CHECK(data.fields[1].vocabulary_size == 2);
}

TEST_CASE("libsvm: multi_hot mode puts every feature in one column") {
    TempDir dir;
    std::string path = dir.write("a.svm", "1 3:1 4:0.5\n0 4:1\n");
    DatasetPlugin plugin("libsvm");

    RawTable table = plugin.load({{"path", path}, {"libsvm_fields", "multi_hot"}});

    const RawColumn& features = column_named(table, "features");
    CHECK(features.keys == std::vector<uint64_t>{3, 4, 4});
    CHECK(features.offsets == std::vector<uint64_t>{0, 2, 3});
    auto metadata = boost::json::parse(table.metadata_json).as_object();
    CHECK(metadata.at("non_unit_values").as_int64() == 1);  // the 0.5
}

TEST_CASE("libsvm: a token of the other form names line and token") {
    TempDir dir;
    std::string path = dir.write("mixed.ffm", "1 0:5:1 1:7:1\n0 0:6:1 7:1\n");
    DatasetPlugin plugin("libsvm");

    CHECK_THROWS_WITH_AS(plugin.load({{"path", path}}),
                         (("malformed data: " + path +
                           ":2: field \"token 2\": expected "
                           "field:feature:value, found \"7:1\"; use one token form for the whole "
                           "file")
                              .c_str()),
                         PluginCallError);
}

TEST_CASE("libsvm: a non-numeric label names the line") {
    TempDir dir;
    std::string path = dir.write("bad.svm", "1 3:1\nyes 4:1\n");
    DatasetPlugin plugin("libsvm");

    CHECK_THROWS_WITH_AS(plugin.load({{"path", path}}),
                         doctest::Contains((path + ":2: field \"label\": expected a finite number, "
                                                   "found \"yes\"")
                                               .c_str()),
                         PluginCallError);
    RawTable skipped = plugin.load({{"path", path}, {"on_bad_line", "skip"}});
    CHECK(skipped.row_count == 1);
}
