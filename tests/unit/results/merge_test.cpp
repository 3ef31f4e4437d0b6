// Merging shard folders: what is expected comes from each folder's cell manifest, rows are
// copied byte for byte, and folders of different grids are rejected.
#include "core/errors.hpp"
#include "results/merge.hpp"

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

using recprune::results::merge_results;

namespace {

class Folder {
public:
    Folder() {
        std::string pattern =
            (std::filesystem::temp_directory_path() / "recprune-merge-test-XXXXXX").string();
        REQUIRE(::mkdtemp(pattern.data()) != nullptr);
        path_ = pattern;
    }
    ~Folder() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

private:
    std::filesystem::path path_;
};

std::string text_of(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
}

// A shard folder of a three-cell grid: cells a and b in shard 1, cell c in shard 2.
void write_shard(const std::filesystem::path& folder, int index, const std::string& grid_id,
                 const std::vector<std::string>& lines) {
    std::filesystem::create_directories(folder);
    boost::json::array cells;
    for (const auto& [id, shard] : {std::pair{"a", 1}, {"b", 1}, {"c", 2}}) {
        cells.push_back(boost::json::object{{"cell_id", id},
                                            {"kind", "pruned"},
                                            {"shard", shard},
                                            {"cell", std::string("cell ") + id}});
    }
    boost::json::object manifest{{"schema_version", 1},
                                 {"grid_name", "three"},
                                 {"grid_id", grid_id},
                                 {"shard", {{"index", index}, {"count", 2}}},
                                 {"grid", {{"name", "three"}}},
                                 {"cells", cells}};
    std::ofstream(folder / "cells.json") << boost::json::serialize(manifest);
    std::ofstream rows(folder / "results.jsonl");
    for (const auto& line : lines) rows << line << "\n";
}

const std::string kRowA = R"({"cell_id":"a","status":"ok","metrics":{"auc":0.75}})";
const std::string kRowB = R"({"cell_id":"b","status":"failed","message":"cell failed: x"})";
const std::string kRowC = R"({"cell_id":"c","status":"ok","metrics":{"auc":0.5}})";

}  // namespace

TEST_CASE("merge: rows are copied byte for byte in grid order") {
    Folder scratch;
    write_shard(scratch / "two", 2, "g", {kRowC, R"({"cell_id":"z","status":"ok"})"});
    write_shard(scratch / "one", 1, "g", {kRowB, kRowA});
    const auto report = merge_results(scratch / "out", {scratch / "one", scratch / "two"});

    CHECK(report.expected == 3);
    CHECK(report.merged == 3);
    CHECK(report.failed == 1);
    CHECK(report.extra == 1);  // cell z is not in the grid
    CHECK(report.complete());
    CHECK(text_of(scratch / "out" / "results.jsonl") == kRowA + "\n" + kRowB + "\n" + kRowC + "\n");
    const auto table = boost::json::parse(text_of(scratch / "out" / "results.json"));
    CHECK(table.at("grid") == boost::json::object{{"name", "three"}});
    CHECK(table.at("rows").as_array().size() == 3);
    const auto manifest = boost::json::parse(text_of(scratch / "out" / "cells.json"));
    CHECK(manifest.at("shard").at("count") == 1);
}

TEST_CASE("merge: a missing cell names its shard") {
    Folder scratch;
    write_shard(scratch / "one", 1, "g", {kRowA, kRowB});
    const auto report = merge_results(scratch / "out", {scratch / "one"});
    CHECK_FALSE(report.complete());
    REQUIRE(report.missing.size() == 1);
    CHECK(report.missing[0].cell_id == "c");
    CHECK(report.missing[0].cell == "cell c");
    CHECK(report.missing[0].detail == "shard 2/2 has no row for it");
}

TEST_CASE("merge: rejects folders of different grids and bad folders") {
    Folder scratch;
    write_shard(scratch / "one", 1, "grid-1", {kRowA});
    write_shard(scratch / "two", 2, "grid-2", {kRowC});
    std::filesystem::create_directories(scratch / "empty");

    CHECK_THROWS_AS(merge_results(scratch / "out", {scratch / "one", scratch / "two"}),
                    recprune::ConfigError);
    CHECK_THROWS_WITH(merge_results(scratch / "out", {scratch / "empty"}),
                      ("cannot merge: " + (scratch / "empty").string() +
                       ": no cells.json in the folder; give output folders of recprune run")
                          .c_str());
    CHECK_THROWS_AS(merge_results(scratch / "one", {scratch / "one"}), recprune::ConfigError);
    CHECK_THROWS_AS(merge_results(scratch / "out", {}), recprune::ConfigError);
}
