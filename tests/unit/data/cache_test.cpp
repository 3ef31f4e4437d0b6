#include "data/cache.hpp"

#include "core/errors.hpp"
#include "dataset_plugin_fixture.hpp"
#include "temp_dir.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>

using namespace recprune::data;
using recprune::test::TempDir;

namespace {

RawTable sample_table() {
    RawTable table;
    table.row_count = 3;
    RawColumn user{"user",
                   RECPRUNE_COLUMN_TYPE_CATEGORICAL,
                   RECPRUNE_COLUMN_ROLE_FEATURE | RECPRUNE_COLUMN_ROLE_USER,
                   {},
                   {5, 6, 5},
                   {}};
    RawColumn tags{"tags", RECPRUNE_COLUMN_TYPE_MULTI_HOT, RECPRUNE_COLUMN_ROLE_FEATURE,
                   {},     {1, RECPRUNE_MISSING_KEY, 3},   {0, 2, 2, 3}};
    RawColumn rating{"rating",
                     RECPRUNE_COLUMN_TYPE_NUMERIC,
                     RECPRUNE_COLUMN_ROLE_LABEL,
                     {4.5, std::nan(""), -1.0},
                     {},
                     {}};
    table.columns = {user, tags, rating};
    table.metadata_json = R"({"task_hint":"ctr","title":"Caf\u00e9"})";
    return table;
}

void check_identical(const RawTable& a, const RawTable& b) {
    REQUIRE(a.row_count == b.row_count);
    REQUIRE(a.columns.size() == b.columns.size());
    CHECK(a.metadata_json == b.metadata_json);
    for (size_t index = 0; index < a.columns.size(); ++index) {
        const RawColumn& x = a.columns[index];
        const RawColumn& y = b.columns[index];
        CHECK(x.name == y.name);
        CHECK(x.type == y.type);
        CHECK(x.roles == y.roles);
        CHECK(x.keys == y.keys);
        CHECK(x.offsets == y.offsets);
        REQUIRE(x.numeric.size() == y.numeric.size());
        // Bitwise, so NaN compares equal to itself.
        // An empty column may have no storage, and memcmp must not get a null pointer.
        CHECK((x.numeric.size() == 0 ||
               std::memcmp(x.numeric.data(), y.numeric.data(),
                           x.numeric.size() * sizeof(double)) == 0));
    }
}

}  // namespace

TEST_CASE("cache: a written table reads back identical") {
    TempDir dir;
    RawTable table = sample_table();
    auto path = cache_file_path(dir.path(), "abc");

    write_cache(path, "abc", table);
    RawTable read;
    std::string reason;
    bool ok = read_cache(path, "abc", read, reason);

    REQUIRE(ok);
    check_identical(table, read);
}

TEST_CASE("cache: another fingerprint, a cut file or a flipped byte is not used") {
    TempDir dir;
    auto path = cache_file_path(dir.path(), "abc");
    write_cache(path, "abc", sample_table());
    RawTable read;
    std::string reason;

    CHECK_FALSE(read_cache(path, "abd", read, reason));
    CHECK(reason == "cache written for another fingerprint");

    auto size = std::filesystem::file_size(path);
    std::string bytes(size, '\0');
    std::ifstream(path, std::ios::binary).read(bytes.data(), static_cast<std::streamsize>(size));
    std::string flipped = bytes;
    flipped[size - 40] ^= 0x01;  // inside the arrays, before checksum and end marker
    dir.write("flipped.rpcache", flipped);
    CHECK_FALSE(read_cache(dir.path() / "flipped.rpcache", "abc", read, reason));
    CHECK(reason == "cache checksum mismatch");

    dir.write("cut.rpcache", bytes.substr(0, size - 20));
    CHECK_FALSE(read_cache(dir.path() / "cut.rpcache", "abc", read, reason));
    CHECK_FALSE(read_cache(dir.path() / "absent.rpcache", "abc", read, reason));
    CHECK(reason == "no cache file");
}

TEST_CASE("cache: load_cached parses once and then reads the cache") {
    TempDir dir;
    int parses = 0;
    auto parse = [&] {
        ++parses;
        return sample_table();
    };

    RawTable first = load_cached(dir.path() / "cache", "f1", parse);
    RawTable second = load_cached(dir.path() / "cache", "f1", parse);
    RawTable other = load_cached(dir.path() / "cache", "f2", parse);
    RawTable uncached = load_cached({}, "f1", parse);

    CHECK(parses == 3);  // f1 once, f2 once, and once with caching off
    check_identical(first, second);
    CHECK(std::filesystem::exists(cache_file_path(dir.path() / "cache", "f1")));
}

TEST_CASE("cache: a corrupt cache file is replaced by a fresh parse") {
    TempDir dir;
    dir.write("f1.rpcache", "RPRCACHE garbage");
    int parses = 0;

    RawTable table = load_cached(dir.path(), "f1", [&] {
        ++parses;
        return sample_table();
    });
    RawTable again = load_cached(dir.path(), "f1", [&] {
        ++parses;
        return sample_table();
    });

    CHECK(parses == 1);
    check_identical(table, again);
}

TEST_CASE("fingerprint: changes with file content, parameters and settings") {
    TempDir dir;
    std::string file = dir.write("ratings.dat", "1::2::3::4\n");

    std::string base = fingerprint("movietweetings", "1.0.0", "{}", {file}, "{}");
    std::string same = fingerprint("movietweetings", "1.0.0", "{}", {file}, "{}");
    std::string params = fingerprint("movietweetings", "1.0.0", R"({"a":1})", {file}, "{}");
    std::string settings = fingerprint("movietweetings", "1.0.0", "{}", {file}, R"({"s":1})");
    std::string version = fingerprint("movietweetings", "1.0.1", "{}", {file}, "{}");
    dir.write("ratings.dat", "1::2::3::5\n");
    std::string content = fingerprint("movietweetings", "1.0.0", "{}", {file}, "{}");

    CHECK(base.size() == 32);
    CHECK(base == same);
    CHECK(base != params);
    CHECK(base != settings);
    CHECK(base != version);
    CHECK(base != content);
    CHECK_THROWS_AS(fingerprint("m", "1", "{}", {(dir.path() / "absent").string()}, "{}"),
                    recprune::DataError);
}

TEST_CASE("cache: a cached MovieTweetings table equals a fresh parse") {
    TempDir dir;
    recprune::test::DatasetPlugin plugin("movietweetings");
    boost::json::object params{
        {"path", std::string(RECPRUNE_SOURCE_DIR) + "/experiments/data/movietweetings"}};
    std::vector<std::string> sources;
    RawTable fresh = plugin.load(params, &sources);
    std::string key =
        fingerprint("movietweetings", "1.0.0", boost::json::serialize(params), sources, "{}");

    load_cached(dir.path(), key, [&] { return plugin.load(params); });
    RawTable cached = load_cached(dir.path(), key, []() -> RawTable {
        throw std::runtime_error("the cache should have been used");
    });

    check_identical(fresh, cached);
}
