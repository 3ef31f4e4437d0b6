// What the result store does for resumed runs: one row per cell even when a cell runs again,
// and readers that survive a torn last line. The folder lock is tested through the CLI,
// because a forked child would share the parent's lock.
#include "core/errors.hpp"
#include "results/result_store.hpp"

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

using recprune::results::ResultStore;

namespace {

class Folder {
public:
    Folder() {
        std::string pattern =
            (std::filesystem::temp_directory_path() / "recprune-store-test-XXXXXX").string();
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

void write_text(const std::filesystem::path& path, const std::string& text) {
    std::filesystem::create_directories(path.parent_path());
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
}

boost::json::object row(const std::string& id, const std::string& status) {
    return boost::json::object{{"cell_id", id}, {"status", status}};
}

}  // namespace

TEST_CASE("result store: a cell run again replaces its row in place") {
    Folder scratch;
    ResultStore store(scratch / "out");
    store.append(row("c1", "ok"));
    store.append(row("c2", "failed"));
    store.append(row("c3", "ok"));

    const std::string line = store.append(row("c2", "ok"));
    CHECK(line == R"({"cell_id":"c2","status":"ok"})");
    CHECK(text_of(store.rows_path()) == "{\"cell_id\":\"c1\",\"status\":\"ok\"}\n"
                                        "{\"cell_id\":\"c2\",\"status\":\"ok\"}\n"
                                        "{\"cell_id\":\"c3\",\"status\":\"ok\"}\n");

    // Appends after the rewrite go to the new file.
    store.append_line(R"({"cell_id":"c4","status":"ok"})");
    CHECK(recprune::results::read_rows(store.rows_path()).size() == 4);
    CHECK_THROWS_AS(store.append_line("not json"), std::invalid_argument);
    CHECK_THROWS_AS(store.append_line(R"({"status":"ok"})"), std::invalid_argument);
}

TEST_CASE("result store: duplicate cell rows are rewritten on open") {
    Folder scratch;
    const auto rows_path = scratch / "out" / "results.jsonl";
    write_text(rows_path, "{\"cell_id\":\"c1\",\"status\":\"failed\"}\n"
                          "{\"cell_id\":\"c2\",\"status\":\"ok\"}\n"
                          "not a row\n"
                          "{\"cell_id\":\"c1\",\"status\":\"ok\"}\n");
    ResultStore store(scratch / "out");
    CHECK(store.superseded_rows() == 1);
    CHECK(store.damaged_lines() == 1);
    CHECK(store.previous().at("c1").at("status") == "ok");
    // The last row of c1 takes the place of its first.
    CHECK(text_of(rows_path) == "{\"cell_id\":\"c1\",\"status\":\"ok\"}\n"
                                "{\"cell_id\":\"c2\",\"status\":\"ok\"}\n");
}

TEST_CASE("read rows: a torn last line is skipped and repeated cells collapse") {
    Folder scratch;
    const auto rows_path = scratch / "rows" / "results.jsonl";
    write_text(rows_path, "{\"cell_id\":\"c1\",\"status\":\"failed\"}\n"
                          "{\"cell_id\":\"c2\",\"status\":\"ok\"}\n"
                          "{\"cell_id\":\"c1\",\"status\":\"ok\"}\n"
                          "{\"cell_id\":\"c3\",\"sta");
    const auto rows = recprune::results::read_rows(rows_path);
    REQUIRE(rows.size() == 2);
    CHECK(rows[0] == row("c1", "ok"));
    CHECK(rows[1] == row("c2", "ok"));

    // A complete line that does not parse is corruption, not a kill: it is reported.
    write_text(rows_path, "{\"cell_id\":\"c1\",\"status\":\"ok\"}\n{oops}\n");
    CHECK_THROWS_WITH_AS(recprune::results::read_rows(rows_path),
                         ("malformed results: " + rows_path.string() +
                          ":2: not a JSON object with a \"cell_id\"; remove the line")
                             .c_str(),
                         recprune::DataError);
}

TEST_CASE("result store: edited rows stop the run") {
    // A row whose status or metrics were edited into something no run writes must not be
    // reused as a finished cell.
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"{\"cell_id\":\"c1\",\"status\":\"maybe\"}",
         ":1: status \"maybe\" is not ok, target_not_reached or failed;"},
        {"{\"cell_id\":\"c1\",\"status\":\"ok\",\"metrics\":\"oops\"}",
         ":1: \"metrics\" is not an object;"},
    };
    for (const auto& [line, problem] : cases) {
        CAPTURE(line);
        Folder scratch;
        const auto rows_path = scratch / "out" / "results.jsonl";
        write_text(rows_path, line + "\n");
        try {
            ResultStore store(scratch / "out");
            FAIL("the edited row was accepted");
        } catch (const recprune::DataError& error) {
            const std::string message = error.what();
            CHECK(message.rfind("malformed results: " + rows_path.string() + problem, 0) == 0);
        }
        CHECK(text_of(rows_path) == line + "\n");
    }
}
