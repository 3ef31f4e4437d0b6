#include "data/settings.hpp"

#include "core/json_io.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace recprune::data;

namespace {

boost::json::object entry(const std::string& text) {
    return recprune::json_io::parse(text, "test").as_object();
}

}  // namespace

TEST_CASE("data settings: an entry with only name and params gets every default") {
    std::vector<std::string> problems;

    DataSettings settings = parse_data_settings(
        entry(R"({"name": "movielens", "params": {"path": "x"}})"), "$.datasets[0]", problems);

    CHECK(problems.empty());
    CHECK(settings.task.empty());
    CHECK(settings.split.method == "random");
    CHECK(settings.split.validation == 0.1);
    CHECK(settings.split.test == 0.1);
    CHECK(settings.split.seed == 42);
    CHECK(settings.min_count == 1);
    CHECK(settings.numeric.method == "auto");
    CHECK_FALSE(settings.positive_threshold.has_value());
    CHECK(settings.on_bad_line == "fail");
}

TEST_CASE("data settings: every key is read") {
    std::vector<std::string> problems;

    DataSettings settings = parse_data_settings(
        entry(R"({"name": "m", "task": "rating", "min_count": 3, "positive_threshold": 4,
                  "on_bad_line": "skip", "numeric": {"method": "log1p", "buckets": 8},
                  "split": {"method": "leave_one_out", "validation": 0.05, "test": 0.2,
                            "seed": 9, "min_user_interactions": 5}})"),
        "$.datasets[0]", problems);

    CHECK(problems.empty());
    CHECK(settings.task == "rating");
    CHECK(settings.min_count == 3);
    CHECK(settings.positive_threshold == 4.0);
    CHECK(settings.on_bad_line == "skip");
    CHECK(settings.numeric.method == "log1p");
    CHECK(settings.numeric.buckets == 8);
    CHECK(settings.split.method == "leave_one_out");
    CHECK(settings.split.validation == 0.05);
    CHECK(settings.split.seed == 9);
    CHECK(settings.split.min_user_interactions == 5);
}

TEST_CASE("data settings: each problem names its JSON path and the fix") {
    std::vector<std::string> problems;

    DataSettings settings = parse_data_settings(
        entry(R"({"name": "m", "split": {"method": "foo", "test": 1.5}, "min_count": -1,
                  "task": "clicks", "numeric": 3, "colour": "red"})"),
        "$.datasets[0]", problems);

    REQUIRE(problems.size() == 6);
    CHECK(problems[0] ==
          "invalid grid: $.datasets[0].split.method: \"foo\" is not one of random, time, "
          "leave_one_out; use one of random, time, leave_one_out");
    CHECK(problems[1] ==
          "invalid grid: $.datasets[0].split.test: 1.5 is outside [0, 1); give a "
          "fraction such as 0.1");
    CHECK(problems[2] ==
          "invalid grid: $.datasets[0].min_count: -1 is not a non-negative "
          "integer; give a whole number such as 2");
    CHECK(problems[3].find("$.datasets[0].task: \"clicks\" is not one of ctr, rating, topk") !=
          std::string::npos);
    CHECK(problems[4].find("$.datasets[0].numeric: 3 is not an object") != std::string::npos);
    CHECK(problems[5].find("$.datasets[0].colour: unknown key \"colour\"") != std::string::npos);
    // Defaults stay where the value was wrong.
    CHECK(settings.split.method == "random");
    CHECK(settings.split.test == 0.1);
    CHECK(settings.min_count == 1);
}

TEST_CASE("data settings: fractions that leave no training rows are a problem") {
    std::vector<std::string> problems;

    parse_data_settings(entry(R"({"split": {"validation": 0.5, "test": 0.5}})"), "$.d", problems);

    REQUIRE(problems.size() == 1);
    CHECK(problems[0].find("$.d.split: validation 0.5 + test 0.5 leaves no training rows") !=
          std::string::npos);
}

TEST_CASE("data settings: to_json writes the resolved values") {
    std::vector<std::string> problems;
    DataSettings settings = parse_data_settings(
        entry(R"({"split": {"seed": 7}, "positive_threshold": 8})"), "$.d", problems);

    boost::json::object json = settings.to_json();

    CHECK(recprune::json_io::serialize(json) ==
          R"({"task":"","split":{"method":"random","validation":0.1,"test":0.1,"seed":7,)"
          R"("min_user_interactions":0},"min_count":1,"numeric":{"method":"auto","buckets":16},)"
          R"("positive_threshold":8.0,"on_bad_line":"fail"})");
}

TEST_CASE("data settings: the bad-line policy is passed on to the plugin parameters") {
    DataSettings settings;
    settings.on_bad_line = "skip";

    boost::json::object params = plugin_params_with_settings({{"path", "x"}}, settings);

    CHECK(params.at("path").as_string() == "x");
    CHECK(params.at("on_bad_line").as_string() == "skip");
}
