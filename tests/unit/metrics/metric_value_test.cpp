#include "metrics/metric_value.hpp"

#include "core/json_io.hpp"
#include "metrics/classification.hpp"

#include <doctest/doctest.h>

#include <array>
#include <cctype>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

using recprune::metrics::MeanOverDefined;
using recprune::metrics::mean_over_defined;
using recprune::metrics::metric_value_from_json;
using recprune::metrics::MetricValue;

namespace {

constexpr double kNan = std::numeric_limits<double>::quiet_NaN();
constexpr double kInfinity = std::numeric_limits<double>::infinity();

// True when `text` contains a token outside strings that is neither a JSON number nor true, false
// or null, such as a bare NaN or -Infinity, which a strict JSON parser rejects.
bool has_non_json_token(const std::string& text) {
    auto is_token_char = [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '+' || c == '-';
    };
    auto is_json_token = [](const std::string& token) {
        if (token == "true" || token == "false" || token == "null") return true;
        size_t first_digit = token[0] == '-' ? 1 : 0;
        return first_digit < token.size() &&
               std::isdigit(static_cast<unsigned char>(token[first_digit]));
    };
    bool in_string = false;
    std::string token;
    for (size_t i = 0; i <= text.size(); ++i) {
        char c = i < text.size() ? text[i] : ' ';
        if (in_string) {
            if (c == '\\') ++i;
            if (c == '"') in_string = false;
            continue;
        }
        if (is_token_char(c)) {
            token += c;
            continue;
        }
        if (!token.empty() && !is_json_token(token)) return true;
        token.clear();
        if (c == '"') in_string = true;
    }
    return false;
}

}  // namespace

TEST_CASE("metric value: from_double maps NaN and infinity") {
    MetricValue finite = MetricValue::from_double(0.25);
    MetricValue nan = MetricValue::from_double(kNan);
    MetricValue positive = MetricValue::from_double(kInfinity);
    MetricValue negative = MetricValue::from_double(-kInfinity);

    CHECK(finite.status == "ok");
    CHECK(*finite.value == 0.25);
    CHECK_FALSE(nan.value.has_value());
    CHECK(nan.status == "undefined_nan");
    CHECK_FALSE(positive.value.has_value());
    CHECK(positive.status == "infinite");
    CHECK(positive.reason.find("+infinity") != std::string::npos);
    CHECK(negative.reason.find("-infinity") != std::string::npos);
}

TEST_CASE("metric value: JSON has reason only when not ok") {
    boost::json::object ok = to_json(MetricValue::defined(0.75));
    boost::json::object undefined =
        to_json(MetricValue::undefined("undefined_single_class", "one class"));

    CHECK(ok.at("value").as_double() == 0.75);
    CHECK(ok.at("status").as_string() == "ok");
    CHECK_FALSE(ok.contains("reason"));
    CHECK(undefined.at("value").is_null());
    CHECK(undefined.at("status").as_string() == "undefined_single_class");
    CHECK(undefined.at("reason").as_string() == "one class");
}

TEST_CASE("metric value: non-finite value set by hand becomes null") {
    // A value assigned directly, bypassing the factories, still must not reach JSON as NaN.
    MetricValue by_hand;
    by_hand.value = kNan;

    boost::json::object json = to_json(by_hand);

    CHECK(json.at("value").is_null());
    CHECK(json.at("status").as_string() == "undefined_nan");
}

TEST_CASE("metric value: token check catches bare NaN and Infinity") {
    // The checker used below must itself fail on the tokens it looks for.
    CHECK(has_non_json_token(R"({"auc":NaN})"));
    CHECK(has_non_json_token(R"({"loss":-Infinity})"));
    CHECK_FALSE(has_non_json_token(R"({"eps":1e-15,"status":"infinite","ok":true})"));
}

TEST_CASE("metric value: result row with NaN and inf is strict JSON") {
    // The AUC comes from single-class labels and the log loss from a confident wrong
    // prediction with eps = 0, the two non-finite results a row can carry.
    std::vector<float> labels{1.0f, 1.0f, 1.0f};
    std::vector<float> scores{0.2f, 0.5f, 0.9f};
    std::vector<float> loss_labels{0.0f};
    std::vector<float> loss_probabilities{1.0f};
    boost::json::object row;
    row["config"] = "c1";
    row["auc"] = to_json(recprune::metrics::auc(scores, labels));
    row["logloss"] = to_json(recprune::metrics::log_loss(loss_probabilities, loss_labels, 0.0));
    row["params"] = 12345;

    std::string text = recprune::json_io::serialize(row);

    CHECK_FALSE(has_non_json_token(text));
    CHECK(text.find(R"("auc":{"value":null,"status":"undefined_single_class")") !=
          std::string::npos);
    CHECK(text.find(R"("logloss":{"value":null,"status":"infinite")") != std::string::npos);
    // boost::json::parse with default options is a strict RFC 8259 parser.
    boost::json::value parsed = boost::json::parse(text);
    MetricValue auc_back = metric_value_from_json(parsed.at("auc"));
    MetricValue logloss_back = metric_value_from_json(parsed.at("logloss"));
    CHECK_FALSE(auc_back.value.has_value());
    CHECK(auc_back.status == "undefined_single_class");
    CHECK_FALSE(auc_back.reason.empty());
    CHECK_FALSE(logloss_back.value.has_value());
    CHECK(logloss_back.status == "infinite");
}

TEST_CASE("metric value: finite value reads back to the same bits") {
    // 0.1 has no exact binary form, so only shortest round-trip text gives the same double.
    std::string text = recprune::json_io::serialize(to_json(MetricValue::defined(0.1)));

    MetricValue back = metric_value_from_json(boost::json::parse(text));

    REQUIRE(back.value.has_value());
    CHECK(*back.value == 0.1);
    CHECK(back.status == "ok");
}

TEST_CASE("metric value: null with status ok is rejected") {
    boost::json::value json = boost::json::parse(R"({"value": null, "status": "ok"})");

    CHECK_THROWS_AS(metric_value_from_json(json), std::invalid_argument);
}

TEST_CASE("mean over defined: counts undefined and infinite") {
    // Mean of 0.5 and 1.0 is 0.75 by hand; the undefined entry is left out and counted.
    std::array<MetricValue, 3> values{MetricValue::defined(0.5),
                                      MetricValue::undefined("undefined_no_positive", "none"),
                                      MetricValue::defined(1.0)};

    MeanOverDefined mean = mean_over_defined(values);

    REQUIRE(mean.mean.value.has_value());
    CHECK(*mean.mean.value == 0.75);
    CHECK(mean.n_defined == 2);
    CHECK(mean.n_undefined == 1);
    CHECK(mean.n_infinite == 0);
}

TEST_CASE("mean over defined: an infinite input makes the mean infinite") {
    // The mean of a set containing +inf is +inf, so the infinite fold is not dropped.
    std::array<MetricValue, 2> values{MetricValue::defined(0.5),
                                      MetricValue::from_double(kInfinity)};

    MeanOverDefined mean = mean_over_defined(values);

    CHECK_FALSE(mean.mean.value.has_value());
    CHECK(mean.mean.status == "infinite");
    CHECK(mean.n_defined == 1);
    CHECK(mean.n_infinite == 1);
}

TEST_CASE("mean over defined: all undefined gives null") {
    std::array<MetricValue, 2> values{
        MetricValue::undefined("undefined_single_class", "one class"),
        MetricValue::undefined("undefined_single_class", "one class")};

    MeanOverDefined mean = mean_over_defined(values);

    CHECK_FALSE(mean.mean.value.has_value());
    CHECK(mean.mean.status == "undefined_no_defined_values");
    CHECK(mean.n_undefined == 2);
    boost::json::object json = to_json(mean);
    CHECK(json.at("value").is_null());
    CHECK(json.at("n_undefined").to_number<int>() == 2);
}

TEST_CASE("metric value: details follow value and status in JSON and read back") {
    MetricValue value = MetricValue::defined(0.75);
    value.details["users_used"] = 2;
    value.details["users_left_out"] = 3;
    // A detail may not replace one of the three keys every metric has.
    value.details["status"] = "forged";

    const boost::json::object json = to_json(value);

    std::vector<std::string> keys;
    for (const auto& entry : json) keys.emplace_back(entry.key());
    CHECK(keys == std::vector<std::string>{"value", "status", "users_used", "users_left_out"});
    CHECK(json.at("value") == 0.75);
    CHECK(json.at("status") == "ok");
    CHECK(json.at("users_left_out") == 3);
    const MetricValue back = recprune::metrics::metric_value_from_json(json);
    CHECK(back.status == "ok");
    CHECK(back.details == boost::json::object{{"users_used", 2}, {"users_left_out", 3}});
}

TEST_CASE("metric value: a non-finite value keeps its details") {
    MetricValue value;
    value.value = kInfinity;
    value.details["users_used"] = 4;

    const boost::json::object json = to_json(value);

    CHECK(json.at("value").is_null());
    CHECK(json.at("status") == "infinite");
    CHECK(json.at("users_used") == 4);
}
