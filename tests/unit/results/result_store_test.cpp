// The result store: one JSON line per finished cell, repair of a line cut by a kill, numbers
// that JSON cannot hold, and the atomic final table.
#include "../plugin/plugin_test_support.hpp"

#include "results/result_store.hpp"

#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

using recprune::results::ResultStore;
using recprune::test::contains;
using recprune::test::read_file;
using recprune::test::ScratchDir;

namespace {

boost::json::object make_row(const std::string& id, double auc) {
    return boost::json::object{{"cell_id", id},
                               {"status", "ok"},
                               {"metrics", {{"test", {{"auc", {{"value", auc},
                                                               {"status", "ok"}}}}}}}};
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    size_t begin = 0;
    while (begin < text.size()) {
        size_t end = text.find('\n', begin);
        if (end == std::string::npos) end = text.size();
        lines.push_back(text.substr(begin, end - begin));
        begin = end + 1;
    }
    return lines;
}

// Appends bytes as they are, the way a process killed in the middle of a write leaves them.
void append_raw(const std::filesystem::path& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::app);
    out << bytes;
}

// Boost.JSON with default options is a strict RFC 8259 parser: no NaN, Infinity or comments.
bool parses_strictly(const std::string& text) {
    boost::system::error_code ec;
    boost::json::parse(text, ec);
    return !ec;
}

ino_t inode_of(const std::filesystem::path& path) {
    struct stat info {};
    REQUIRE(::stat(path.c_str(), &info) == 0);
    return info.st_ino;
}

}  // namespace

TEST_CASE("result store: appended rows read back after reopening") {
    ScratchDir scratch;
    const auto folder = scratch.path() / "out";
    {
        ResultStore store(folder);
        CHECK(store.previous().empty());
        store.append(make_row("c1", 0.75));
        store.append(make_row("c2", 0.5));
        store.append(make_row("c3", 0.625));
        // Each row is on disk as soon as append returns, one line per row.
        CHECK(lines_of(read_file(store.rows_path())).size() == 3);
    }
    ResultStore reopened(folder);
    CHECK(reopened.damaged_lines() == 0);
    REQUIRE(reopened.previous().size() == 3);
    CHECK(reopened.previous().at("c1") == make_row("c1", 0.75));
    CHECK(reopened.previous().at("c2") == make_row("c2", 0.5));
    CHECK(reopened.previous().at("c3") == make_row("c3", 0.625));

    auto rows = recprune::results::read_rows(reopened.rows_path());
    REQUIRE(rows.size() == 3);
    CHECK(rows[0].at("cell_id") == "c1");
    CHECK(rows[2].at("cell_id") == "c3");
}

TEST_CASE("result store: a torn last line is cut off and reported") {
    ScratchDir scratch;
    const auto folder = scratch.path() / "out";
    std::filesystem::path rows_path;
    std::string complete;
    {
        ResultStore store(folder);
        store.append(make_row("c1", 0.75));
        store.append(make_row("c2", 0.5));
        rows_path = store.rows_path();
        complete = read_file(rows_path);
    }
    append_raw(rows_path, R"({"cell_id":"c3","status":"ok","metrics":{"te)");

    ResultStore reopened(folder);
    CHECK(reopened.damaged_lines() == 1);
    CHECK(reopened.previous().size() == 2);
    CHECK(reopened.previous().count("c3") == 0);
    // The file is back to its complete lines, byte for byte.
    CHECK(read_file(rows_path) == complete);

    // The rerun of c3 appends a whole line after them.
    reopened.append(make_row("c3", 0.625));
    auto lines = lines_of(read_file(rows_path));
    REQUIRE(lines.size() == 3);
    for (const auto& line : lines) CHECK(parses_strictly(line));
    ResultStore again(folder);
    CHECK(again.damaged_lines() == 0);
    CHECK(again.previous().size() == 3);
}

TEST_CASE("result store: a row with NaN, infinity and 64-bit integers reads back") {
    ScratchDir scratch;
    const auto folder = scratch.path() / "out";
    // An AUC of one class (NaN), an unclipped log loss of a wrong certain guess (+inf), a seed
    // just above 2^53 that a double would turn into 9007199254740992, and the largest uint64.
    const uint64_t seed = 9007199254740993ULL;
    const uint64_t largest = std::numeric_limits<uint64_t>::max();
    boost::json::object row{
        {"cell_id", "c1"},
        {"status", "ok"},
        {"seed", seed},
        {"largest", largest},
        {"params", 12345},
        {"metrics",
         {{"auc", {{"value", std::numeric_limits<double>::quiet_NaN()},
                   {"status", "undefined_single_class"}}},
          {"logloss", {{"value", std::numeric_limits<double>::infinity()},
                       {"status", "infinite"}}},
          {"rmse", {{"value", -std::numeric_limits<double>::infinity()},
                    {"status", "infinite"}}}}}};
    std::filesystem::path rows_path;
    {
        ResultStore store(folder);
        store.append(row);
        rows_path = store.rows_path();
    }

    const std::string text = read_file(rows_path);
    CHECK(contains(text, R"("seed":9007199254740993)"));
    CHECK(contains(text, R"("largest":18446744073709551615)"));
    CHECK(contains(text, R"("auc":{"value":null,"status":"undefined_single_class"})"));
    CHECK(contains(text, R"("logloss":{"value":null,"status":"infinite"})"));
    CHECK(contains(text, R"("rmse":{"value":null,"status":"infinite"})"));
    for (const char* token : {"NaN", "nan", "Infinity", ":inf", ":-inf"}) {
        CHECK_MESSAGE(!contains(text, token), token);
    }
    CHECK(parses_strictly(text));

    // The resume path: reopening reads the row back without an exception.
    ResultStore reopened(folder);
    REQUIRE(reopened.previous().count("c1") == 1);
    const auto& back = reopened.previous().at("c1");
    CHECK_FALSE(back.at("seed").is_double());
    CHECK(back.at("seed").to_number<uint64_t>() == seed);
    CHECK(back.at("largest").is_uint64());
    CHECK(back.at("largest").get_uint64() == largest);
    const auto& metrics = back.at("metrics").as_object();
    CHECK(metrics.at("auc").at("value").is_null());
    CHECK(metrics.at("auc").at("status") == "undefined_single_class");
    CHECK(metrics.at("logloss").at("value").is_null());
    CHECK(metrics.at("logloss").at("status") == "infinite");

    // The same numbers through the final table.
    reopened.write_table(boost::json::object{{"name", "b24"}}, boost::json::object{}, {row});
    const std::string table = read_file(reopened.table_path());
    CHECK(parses_strictly(table));
    auto rows = recprune::results::read_rows(reopened.table_path());
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].at("seed").to_number<uint64_t>() == seed);
    CHECK(rows[0].at("largest").to_number<uint64_t>() == largest);
}

TEST_CASE("result store: the row file passes Python's strict JSON parser") {
    if (::access("/usr/bin/python3", X_OK) != 0) {
        MESSAGE("skipped: /usr/bin/python3 not found");
        return;
    }
    ScratchDir scratch;
    ResultStore store(scratch.path() / "out");
    store.append(boost::json::object{
        {"cell_id", "c1"},
        {"seed", 9007199254740993ULL},
        {"auc", std::numeric_limits<double>::quiet_NaN()},
        {"logloss", std::numeric_limits<double>::infinity()}});
    // parse_constant is called for NaN, Infinity and -Infinity only; raising there makes the
    // parser strict. The seed must come back as the exact integer.
    const auto script = scratch.write("check.py", R"(import json, sys
def reject(token):
    raise ValueError("non-standard JSON token " + token)
for line in open(sys.argv[1]):
    row = json.loads(line, parse_constant=reject)
    assert row["seed"] == 9007199254740993, row["seed"]
    assert row["auc"] is None, row["auc"]
    assert row["logloss"] is None, row["logloss"]
)");
    const std::string command = "/usr/bin/python3 " + script.string() + " " +
                                store.rows_path().string();
    CHECK(std::system(command.c_str()) == 0);
}

TEST_CASE("result store: the final table replaces the old one atomically") {
    ScratchDir scratch;
    ResultStore store(scratch.path() / "out");
    const boost::json::object grid{{"name", "atomic"}};
    const boost::json::object environment{{"threads", 2}};
    store.write_table(grid, environment, {make_row("c1", 0.75)});
    const std::string first = read_file(store.table_path());
    const ino_t first_inode = inode_of(store.table_path());

    auto table = boost::json::parse(first).as_object();
    CHECK(table.at("schema_version") == recprune::results::kSchemaVersion);
    CHECK(table.at("grid") == grid);
    CHECK(table.at("environment") == environment);
    REQUIRE(table.at("rows").as_array().size() == 1);
    CHECK(table.at("rows").as_array()[0] == make_row("c1", 0.75));

    // A second table is written beside the first and renamed over it: a new file, not the old
    // one truncated and rewritten, and no temporary file left behind.
    store.write_table(grid, environment, {make_row("c1", 0.75), make_row("c2", 0.5)});
    CHECK(inode_of(store.table_path()) != first_inode);
    CHECK(boost::json::parse(read_file(store.table_path())).at("rows").as_array().size() == 2);
    size_t files = 0;
    for (const auto& entry : std::filesystem::directory_iterator(store.folder())) {
        CAPTURE(entry.path());
        CHECK((entry.path() == store.table_path() || entry.path() == store.rows_path()));
        ++files;
    }
    CHECK(files == 2);

    // When the new table cannot be written, the old one stays whole. A folder in the place of
    // the temporary file makes the write fail.
    const std::string second = read_file(store.table_path());
    auto blocker = store.table_path();
    blocker += ".tmp." + std::to_string(::getpid());
    std::filesystem::create_directories(blocker);
    CHECK_THROWS(store.write_table(grid, environment, {make_row("c3", 0.1)}));
    CHECK(read_file(store.table_path()) == second);
}
