// Static shards: parsing --shard K/N and the slice a cell id falls in.
#include "core/errors.hpp"
#include "scaleout/shard.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using recprune::scaleout::parse_shard;
using recprune::scaleout::shard_of;

TEST_CASE("shard: parses K/N from 1/1 up") {
    const auto first = parse_shard("1/4");
    CHECK(first.index == 1);
    CHECK(first.count == 4);
    CHECK(first.text() == "1/4");
    CHECK_FALSE(first.whole());
    CHECK(parse_shard("1/1").whole());
    CHECK(parse_shard("12/12").index == 12);
}

TEST_CASE("shard: rejects malformed and out-of-range text") {
    for (const char* text : {"", "1", "/4", "1/", "0/4", "5/4", "a/4", "1/b", "-1/4", "1/4x",
                             "1.5/4", "1/0"}) {
        CAPTURE(text);
        CHECK_THROWS_AS(parse_shard(text), recprune::ConfigError);
    }
    CHECK_THROWS_WITH(parse_shard("5/4"),
                      "invalid option: --shard 5/4: shard 5 of 4 does not exist; K runs from 1 "
                      "to N (Slurm: --array=1-N and --shard $SLURM_ARRAY_TASK_ID/N)");
}

TEST_CASE("shard: each cell id has one stable shard") {
    // The same id always lands in the same shard, whatever else the grid holds.
    CHECK(shard_of("d83f58133c853ff3", 4) == shard_of("d83f58133c853ff3", 4));
    CHECK(shard_of("anything", 1) == 1);

    // 1000 ids spread over 4 shards: each count is Binomial(1000, 1/4), mean 250 and standard
    // deviation 13.7, so 200 to 300 is more than 3.6 deviations wide on either side.
    std::vector<int> counts(5, 0);
    for (int i = 0; i < 1000; ++i) {
        const uint32_t shard = shard_of("cell-" + std::to_string(i), 4);
        REQUIRE(shard >= 1);
        REQUIRE(shard <= 4);
        ++counts[shard];
    }
    for (int shard = 1; shard <= 4; ++shard) {
        CAPTURE(shard);
        CHECK(counts[shard] > 200);
        CHECK(counts[shard] < 300);
    }
}
