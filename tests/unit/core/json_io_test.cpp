#include "core/json_io.hpp"

#include "core/errors.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <random>
#include <string>

namespace recprune {
namespace {

std::string parse_error(const std::string& text) {
    try {
        json_io::parse(text, "test.json");
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "";
}

TEST_CASE("json_io reads a double back as written") {
    // 2/13: Boost.JSON 1.81's own reader returns 0.15384615384615383 for this text.
    const boost::json::value value = json_io::parse("[0.15384615384615385]", "test.json");
    CHECK(value.as_array()[0].as_double() == 2.0 / 13.0);
    CHECK(json_io::serialize(value) == "[0.15384615384615385]");
}

TEST_CASE("json_io round-trips many doubles bit for bit") {
    std::mt19937_64 generator(7);
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    int differing = 0;
    for (int i = 0; i < 20000; ++i) {
        const double written = i % 2 == 0 ? unit(generator) : unit(generator) * 1e-7;
        const std::string text = json_io::serialize(boost::json::value(written));
        if (json_io::parse(text, "test.json").as_double() != written) ++differing;
    }
    CHECK(differing == 0);
}

TEST_CASE("json_io rejects a key repeated in one object") {
    const std::string message = parse_error("{\"seeds\": [7],\n \"seeds\": [1]}");
    CHECK(message.find("invalid JSON: test.json:2:") != std::string::npos);
    CHECK(message.find("duplicate key \"seeds\"") != std::string::npos);
    // The same key in two different objects is fine.
    CHECK(parse_error("[{\"a\": 1}, {\"a\": 2}]").empty());
}

TEST_CASE("json_io names a byte order mark") {
    const std::string message = parse_error("\xEF\xBB\xBF{}");
    CHECK(message.find("byte order mark") != std::string::npos);
}

TEST_CASE("json_io try_parse reports without throwing") {
    std::string problem;
    CHECK_FALSE(json_io::try_parse("{\"a\": }", &problem).has_value());
    CHECK(problem.rfind("1:7: ", 0) == 0);
    CHECK(json_io::try_parse("{\"a\": 1} // done\n").has_value());
}

}  // namespace
}  // namespace recprune
