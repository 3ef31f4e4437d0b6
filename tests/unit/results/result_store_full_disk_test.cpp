// A results.jsonl write that fails because the disk is full: the append throws with the cause,
// the rows written before stay readable, and the next run cuts the partial line off. The full
// disk is a file-size limit (RLIMIT_FSIZE) set in a child process, which makes write() fail
// with EFBIG the way a full file system makes it fail with ENOSPC, without needing a mount.
#include "../core/child_process.hpp"
#include "../data/temp_dir.hpp"

#include "results/result_store.hpp"

#include <doctest/doctest.h>

#include <csignal>
#include <cstring>
#include <filesystem>
#include <string>

#include <sys/resource.h>

using recprune::results::ResultStore;
using recprune::test::TempDir;

namespace {

boost::json::object make_row(const std::string& id, size_t padding) {
    return boost::json::object{{"cell_id", id},
                               {"status", "ok"},
                               {"note", std::string(padding, 'x')}};
}

// Runs one append in a child process whose files may not grow past `limit_bytes`, and returns
// the child's exit code and the message of the exception the append threw.
std::pair<int, std::string> append_with_file_limit(const std::filesystem::path& folder,
                                                   uint64_t limit_bytes) {
    return recprune::test::run_in_child([&]() -> std::pair<int, std::string> {
        // Ignored, SIGXFSZ no longer kills the process and write() returns EFBIG instead.
        std::signal(SIGXFSZ, SIG_IGN);
        rlimit limit{limit_bytes, limit_bytes};
        ::setrlimit(RLIMIT_FSIZE, &limit);
        try {
            ResultStore store(folder);
            store.append(make_row("second", 200));
        } catch (const std::exception& e) {
            return {0, e.what()};
        }
        return {1, "the append did not fail"};
    });
}

}  // namespace

TEST_CASE("result store: a full disk fails the append with its cause") {
    TempDir dir;
    { ResultStore(dir.path()).append(make_row("first", 10)); }
    const uint64_t first_size = std::filesystem::file_size(dir.path() / "results.jsonl");

    auto [code, message] = append_with_file_limit(dir.path(), first_size + 20);

    CHECK(code == 0);
    CHECK(message == "cannot append to " + (dir.path() / "results.jsonl").string() +
                         ": File too large; free disk space and rerun, finished rows are kept");
}

TEST_CASE("result store: rows written before a full disk stay readable") {
    TempDir dir;
    { ResultStore(dir.path()).append(make_row("first", 10)); }
    const auto path = dir.path() / "results.jsonl";
    const uint64_t first_size = std::filesystem::file_size(path);

    append_with_file_limit(dir.path(), first_size + 20);

    // The failed write left 20 bytes of the second row behind the first one.
    CHECK(std::filesystem::file_size(path) == first_size + 20);
    auto rows = recprune::results::read_rows(path);
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].at("cell_id") == "first");

    // The next run cuts the partial line off and appends after the first row.
    ResultStore reopened(dir.path());
    CHECK(reopened.previous().size() == 1);
    CHECK(reopened.damaged_lines() == 1);
    CHECK(std::filesystem::file_size(path) == first_size);
}
