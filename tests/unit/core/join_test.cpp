#include "core/join.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <initializer_list>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace recprune {
namespace {

TEST_CASE("join separates names with a comma and a space") {
    const std::vector<std::string> names = {"random", "magnitude", "snip"};
    CHECK(join(names) == "random, magnitude, snip");
}

TEST_CASE("join of one name or none has no separator") {
    CHECK(join(std::vector<std::string>{"auc"}) == "auc");
    CHECK(join(std::vector<std::string>{}).empty());
}

TEST_CASE("join takes any range of text and any separator") {
    const std::set<std::string> keys = {"seeds", "datasets"};
    CHECK(join(keys) == "datasets, seeds");
    CHECK(join(std::initializer_list<std::string_view>{"sum", "mean"}, " or ") == "sum or mean");
}

TEST_CASE("join_mapped turns each item into text first") {
    const std::vector<std::filesystem::path> folders = {"/opt/a", "/opt/b"};
    const auto text = [](const std::filesystem::path& folder) { return folder.string(); };
    CHECK(join_mapped(folders, text, ":") == "/opt/a:/opt/b");
    const std::vector<int> counts = {1, 22};
    CHECK(join_mapped(counts, [](int count) { return std::to_string(count); }) == "1, 22");
}

}  // namespace
}  // namespace recprune
