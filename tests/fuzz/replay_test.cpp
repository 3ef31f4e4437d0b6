// Replays the seed corpus and the regression inputs of every fuzz target through the harness
// the fuzzers run, so each crash found once stays fixed in every build, with or without
// libFuzzer.
#include "harness/harness.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace {

std::vector<std::filesystem::path> inputs_in(const std::filesystem::path& folder) {
    std::vector<std::filesystem::path> files;
    if (!std::filesystem::is_directory(folder)) return files;
    for (const auto& entry : std::filesystem::directory_iterator(folder)) {
        if (entry.is_regular_file()) files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    return files;
}

std::string read_bytes(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

const recprune::fuzz::Target& target_named(const std::string& name) {
    for (const auto& target : recprune::fuzz::all_targets()) {
        if (target.name == name) return target;
    }
    throw std::invalid_argument("no fuzz target " + name);
}

// Runs every file of corpus/<name>/ and regressions/<name>/; returns the seeds run.
size_t replay(const std::string& name) {
    const recprune::fuzz::Target& target = target_named(name);
    const std::filesystem::path root = RECPRUNE_FUZZ_SOURCE_DIR;
    size_t seeds = 0;
    for (const char* kind : {"corpus", "regressions"}) {
        for (const auto& path : inputs_in(root / kind / name)) {
            INFO("input " << path.string());
            CHECK_NOTHROW(target.run(read_bytes(path)));
            if (std::string(kind) == "corpus") ++seeds;
        }
    }
    return seeds;
}

}  // namespace

TEST_CASE("fuzz replay: grid inputs") { CHECK(replay("grid") > 0); }

TEST_CASE("fuzz replay: text toolkit inputs") { CHECK(replay("text") > 0); }

TEST_CASE("fuzz replay: result file inputs") { CHECK(replay("results") > 0); }

TEST_CASE("fuzz replay: plugin descriptor inputs") { CHECK(replay("descriptor") > 0); }

TEST_CASE("fuzz replay: avazu inputs") { CHECK(replay("dataset_avazu") > 0); }

TEST_CASE("fuzz replay: criteo inputs") { CHECK(replay("dataset_criteo") > 0); }

TEST_CASE("fuzz replay: csv inputs") { CHECK(replay("dataset_csv") > 0); }

TEST_CASE("fuzz replay: libsvm inputs") { CHECK(replay("dataset_libsvm") > 0); }

TEST_CASE("fuzz replay: movielens inputs") { CHECK(replay("dataset_movielens") > 0); }

TEST_CASE("fuzz replay: movietweetings inputs") { CHECK(replay("dataset_movietweetings") > 0); }

TEST_CASE("fuzz replay: every target has a seed folder") {
    const std::filesystem::path root = RECPRUNE_FUZZ_SOURCE_DIR;
    for (const auto& target : recprune::fuzz::all_targets()) {
        INFO("target " << target.name);
        CHECK(std::filesystem::is_directory(root / "corpus" / target.name));
    }
}
