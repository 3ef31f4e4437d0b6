#include "dataset_plugin_fixture.hpp"
#include "recprune/sdk/text.hpp"
#include "temp_dir.hpp"

#include <doctest/doctest.h>

#include <set>
#include <string>

using namespace recprune::data;
using recprune::test::column_named;
using recprune::test::DatasetPlugin;
using recprune::test::PluginCallError;
using recprune::test::TempDir;
namespace text = recprune::text;

namespace {

const std::string kHeader =
    "id,click,hour,C1,banner_pos,site_id,site_domain,site_category,app_id,app_domain,"
    "app_category,device_id,device_ip,device_model,device_type,device_conn_type,C14,C15,C16,"
    "C17,C18,C19,C20,C21";

// A row with a 20-digit id (above the int64 range) and C20 = -1.
const std::string kRow =
    "10000174058809263569,1,14102100,1005,0,235ba823,f6ebf28e,f028772b,ecad2386,7801e8d9,"
    "07d7df22,a99f214a,69f45779,0eb711ec,1,0,8330,320,50,761,3,175,-1,23";

}  // namespace

TEST_CASE("avazu: header, hour and unknown values") {
    TempDir dir;
    std::string path = dir.write("train.csv", kHeader + "\n" + kRow + "\n");
    DatasetPlugin plugin("avazu");

    RawTable table = plugin.load({{"path", path}});

    REQUIRE(table.row_count == 1);
    CHECK(column_named(table, "click").numeric[0] == 1.0);
    // 2014-10-21 00:00 UTC is day 16,364 after 1970-01-01 (1,413,849,600 s, checked with
    // `date -u -d 2014-10-21 +%s`), a Tuesday (weekday 1 with Monday = 0).
    CHECK(column_named(table, "timestamp").numeric[0] == 1413849600.0);
    CHECK(column_named(table, "hour_of_day").keys[0] == 0);
    CHECK(column_named(table, "weekday").keys[0] == 1);
    CHECK(column_named(table, "C20").keys[0] == text::hash_token("-1"));
    CHECK(column_named(table, "device_ip").keys[0] == text::hash_token("69f45779"));
    CHECK_THROWS(column_named(table, "id"));
    auto metadata = boost::json::parse(table.metadata_json).as_object();
    CHECK(metadata.at("has_header").as_bool());
}

TEST_CASE("avazu: a file without header or click column") {
    TempDir dir;
    std::string without_click = kRow;
    without_click.erase(without_click.find(",1,"), 2);
    std::string path = dir.write("test.csv", without_click);
    DatasetPlugin plugin("avazu");

    RawTable table = plugin.load({{"path", path}});

    REQUIRE(table.row_count == 1);
    CHECK(table.find_role(RECPRUNE_COLUMN_ROLE_LABEL) == -1);
    CHECK(column_named(table, "C21").keys[0] == text::hash_token("23"));
}

TEST_CASE("avazu: a bad hour names line and field") {
    TempDir dir;
    std::string bad = kRow;
    bad.replace(bad.find("14102100"), 8, "14132100");
    std::string path = dir.write("train.csv", kHeader + "\n" + kRow + "\n" + bad + "\n");
    DatasetPlugin plugin("avazu");

    CHECK_THROWS_WITH_AS(plugin.load({{"path", path}}),
                         (("malformed data: " + path +
                           ":3: field \"hour\": expected YYMMDDHH, "
                           "found \"14132100\"; fix the value, or set \"on_bad_line\": "
                           "\"skip\" in the grid's dataset entry to drop such lines")
                              .c_str()),
                         PluginCallError);
}

TEST_CASE("avazu: loads the shared sample when present") {
    std::string folder = recprune::test::shared_dataset("avazu-sample");
    if (folder.empty()) {
        MESSAGE("skipped: avazu-sample is not in the shared datasets folder");
        return;
    }
    DatasetPlugin plugin("avazu");

    RawTable train = plugin.load({{"path", folder + "/train.csv"}});
    RawTable test = plugin.load({{"path", folder + "/test.csv"}});

    // The sample's provenance notes: train has a header and 8,999 rows with 1,563 clicks and
    // 6,678 distinct device_ip values; test has no header and 1,000 rows with 143 clicks.
    CHECK(train.row_count == 8999);
    CHECK(test.row_count == 1000);
    double clicks = 0;
    for (double click : column_named(train, "click").numeric) clicks += click;
    CHECK(clicks == 1563);
    double test_clicks = 0;
    for (double click : column_named(test, "click").numeric) test_clicks += click;
    CHECK(test_clicks == 143);
    const RawColumn& ip = column_named(train, "device_ip");
    CHECK(std::set<uint64_t>(ip.keys.begin(), ip.keys.end()).size() == 6678);
}
