#include "data/prepare.hpp"

#include "dataset_plugin_fixture.hpp"
#include "recprune/sdk/text.hpp"
#include "temp_dir.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <set>
#include <string>

using namespace recprune::data;
using recprune::test::column_named;
using recprune::test::DatasetPlugin;
using recprune::test::PluginCallError;
using recprune::test::TempDir;

namespace {

// The line of case B17: label "1", I1 "", I2 "-1", I3 "5", I4-I13 "", C1 "", C2 "68fd1e64",
// C3-C26 "", joined by 39 tabs.
std::string b17_line() {
    std::string line = "1\t\t-1\t5";
    for (int i = 4; i <= 13; ++i) line += "\t";
    line += "\t\t68fd1e64";
    for (int i = 3; i <= 26; ++i) line += "\t";
    return line;
}

// A Criteo line with label `label`, integer I1 = `count` and C26 = `c26`.
std::string line_with(int label, int count, const std::string& c26) {
    std::string line = std::to_string(label) + "\t" + std::to_string(count);
    for (int i = 2; i <= 13; ++i) line += "\t" + std::to_string(i);
    for (int i = 1; i <= 25; ++i) line += "\tc" + std::to_string(i % 3);
    return line + "\t" + c26;
}

}  // namespace

TEST_CASE("criteo: empty fields, negative counts and consecutive tabs") {
    TempDir dir;
    std::string path = dir.write("day.txt", b17_line() + "\n" + b17_line() + "\n");
    DatasetPlugin plugin("criteo");

    RawTable table = plugin.load({{"path", path}});

    // 40 fields: label + 13 integer + 26 categorical columns.
    REQUIRE(table.columns.size() == 40);
    REQUIRE(table.row_count == 2);
    CHECK(std::isnan(column_named(table, "I1").numeric[0]));
    CHECK(column_named(table, "I2").numeric[0] == -1.0);
    CHECK(column_named(table, "I3").numeric[0] == 5.0);
    CHECK(column_named(table, "C1").keys[0] == RECPRUNE_MISSING_KEY);
    CHECK(column_named(table, "C2").keys[0] == 0x68fd1e64);
    CHECK(column_named(table, "C26").keys[1] == RECPRUNE_MISSING_KEY);
}

TEST_CASE("criteo: the DLRM transform of an all-missing column stays finite") {
    // Case B17, whole-chunk variant: I1 is empty on both lines.
    TempDir dir;
    std::string path = dir.write("day.txt", b17_line() + "\n" + b17_line());
    DatasetPlugin plugin("criteo");
    RawTable table = plugin.load({{"path", path}});
    DataSettings settings;
    settings.numeric.method = "log1p";
    settings.split.validation = 0.0;
    settings.split.test = 0.0;

    PreparedData data = prepare(table, settings);

    REQUIRE(data.dense_count == 13);
    // ln(1 + 5) = 1.791759 by hand for I3; I1 (missing) and I2 (-1) become 0.
    CHECK(data.train.dense[0] == 0.0f);
    CHECK(data.train.dense[1] == 0.0f);
    CHECK(data.train.dense[2] == doctest::Approx(1.791759).epsilon(1e-6));
    for (float value : data.train.dense) CHECK(std::isfinite(value));
    // C1 is the missing token: its own vocabulary entry, not OOV.
    CHECK(data.fields[0].name == "C1");
    CHECK(data.train.ids[0][0] == 1);
    CHECK(data.fields[0].vocabulary_size == 2);
}

TEST_CASE("criteo: the last field never keeps a line end") {
    // Case B16.3: C26 is e8b83407 on two lines; one ends in "\n", the other in "\r\n" or in
    // nothing at all.
    for (const char* ending : {"", "\r\n"}) {
        TempDir dir;
        std::string path = dir.write(
            "day.txt", line_with(0, 1, "e8b83407") + "\n" + line_with(1, 2, "e8b83407") + ending);
        DatasetPlugin plugin("criteo");
        RawTable table = plugin.load({{"path", path}});
        DataSettings settings;
        settings.split.validation = 0.0;
        settings.split.test = 0.0;

        PreparedData data = prepare(table, settings);

        REQUIRE(data.fields.back().name == "C26");
        CHECK(data.fields.back().vocabulary_size == 2);  // one entry + OOV
        CHECK(data.train.ids.back() == std::vector<uint32_t>{1, 1});
    }
}

TEST_CASE("criteo: a non-numeric count names file, line and field") {
    TempDir dir;
    std::string bad = line_with(1, 99, "aa");
    bad.replace(bad.find("\t3\t"), 3, "\tx3\t");
    std::string path = dir.write("day.txt", line_with(0, 1, "aa") + "\n" + bad + "\n");
    DatasetPlugin plugin("criteo");

    CHECK_THROWS_WITH_AS(plugin.load({{"path", path}}),
                         (("malformed data: " + path +
                           ":2: field \"I3\": expected an integer "
                           "count, found \"x3\"; fix the value, or set \"on_bad_line\": "
                           "\"skip\" in the grid's dataset entry to drop such lines")
                              .c_str()),
                         PluginCallError);
}

TEST_CASE("criteo: a line with too few fields is a field-count error") {
    TempDir dir;
    std::string path = dir.write("day.txt", line_with(0, 1, "aa") + "\n1\t2\t3\n");
    DatasetPlugin plugin("criteo");

    CHECK_THROWS_WITH_AS(plugin.load({{"path", path}}),
                         (("malformed data: " + path +
                           ":2: expected 40 fields separated by "
                           "\"\t\", found 3; check for a cut line or a wrong separator")
                              .c_str()),
                         PluginCallError);
}

TEST_CASE("criteo: skipped lines are counted and rows keep file order") {
    TempDir dir;
    std::string text;
    for (int row = 0; row < 50; ++row) {
        text += (row % 10 == 3 ? std::string("broken") : line_with(row % 2, row, "x")) + "\n";
    }
    std::string path = dir.write("day.txt", text);
    DatasetPlugin plugin("criteo");

    // A tiny chunk size is not a parameter, so threads 1 and 2 are compared on the same file.
    RawTable one = plugin.load({{"path", path}, {"on_bad_line", "skip"}, {"threads", 1}});
    RawTable two = plugin.load({{"path", path}, {"on_bad_line", "skip"}, {"threads", 2}});

    // Lines 4, 14, 24, 34, 44 are broken: 45 rows remain.
    CHECK(one.row_count == 45);
    auto metadata = boost::json::parse(one.metadata_json).as_object();
    CHECK(metadata.at("skipped_lines").as_int64() == 5);
    const RawColumn& counts = column_named(one, "I1");
    CHECK(counts.numeric[3] == 4.0);  // row 3 was dropped, so position 3 holds line 5
    CHECK(column_named(two, "I1").numeric == counts.numeric);
    CHECK(boost::json::parse(one.metadata_json) == boost::json::parse(two.metadata_json));
}

TEST_CASE("criteo: a file without labels has 39 columns") {
    TempDir dir;
    std::string line = line_with(0, 1, "aa");
    std::string path = dir.write("test.txt", line.substr(line.find('\t') + 1) + "\n");
    DatasetPlugin plugin("criteo");

    RawTable table = plugin.load({{"path", path}});

    CHECK(table.columns.size() == 39);
    CHECK(table.find_role(RECPRUNE_COLUMN_ROLE_LABEL) == -1);
}

TEST_CASE("criteo: loads the shared 10,000-line sample when present") {
    std::string folder = recprune::test::shared_dataset("criteo-sample");
    if (folder.empty()) {
        MESSAGE("skipped: criteo-sample is not in the shared datasets folder");
        return;
    }
    DatasetPlugin plugin("criteo");

    RawTable table = plugin.load({{"path", folder + "/train.txt"}});

    // The sample's provenance notes: 10,000 rows, 2,182 clicks, 3 distinct C9 values and 5,521
    // distinct C3 values, one of which is the empty field (5,520 hashes, rechecked in Python).
    CHECK(table.row_count == 10000);
    double clicks = 0;
    for (double label : column_named(table, "label").numeric) clicks += label;
    CHECK(clicks == 2182);
    const RawColumn& c9 = column_named(table, "C9");
    CHECK(std::set<uint64_t>(c9.keys.begin(), c9.keys.end()).size() == 3);
    const RawColumn& c3 = column_named(table, "C3");
    std::set<uint64_t> c3_values(c3.keys.begin(), c3.keys.end());
    CHECK(c3_values.size() == 5521);
    CHECK(c3_values.count(RECPRUNE_MISSING_KEY) == 1);
}
