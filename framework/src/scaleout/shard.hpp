// Static shards for cluster job arrays: `--shard K/N` runs the cells whose id hashes to slice K
// of N. A cell's shard depends on its id alone, so adding cells to a grid moves no finished
// cell to another shard. The price is that shard sizes vary by chance: for 100 cells in 4
// shards the standard deviation is about 4 cells around the mean of 25.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace recprune::scaleout {

struct Shard {
    uint32_t index = 1;  ///< 1-based, so "--shard 1/4" is the first of four
    uint32_t count = 1;

    bool whole() const { return count == 1; }
    std::string text() const { return std::to_string(index) + "/" + std::to_string(count); }
};

/// Parses "K/N" with 1 <= K <= N. Throws ConfigError naming the option and the fix.
Shard parse_shard(std::string_view text);

/// The 1-based shard of `count` that owns the cell with this id.
uint32_t shard_of(std::string_view cell_id, uint32_t count);

}  // namespace recprune::scaleout
