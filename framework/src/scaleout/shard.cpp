#include "scaleout/shard.hpp"

#include "core/errors.hpp"
#include "core/hash.hpp"

#include <charconv>

namespace recprune::scaleout {
namespace {

bool parse_positive(std::string_view text, uint32_t& value) {
    if (text.empty()) return false;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    return ec == std::errc() && end == text.data() + text.size() && value > 0;
}

}  // namespace

Shard parse_shard(std::string_view text) {
    const std::string given(text);
    const size_t slash = text.find('/');
    Shard shard;
    if (slash == std::string_view::npos || !parse_positive(text.substr(0, slash), shard.index) ||
        !parse_positive(text.substr(slash + 1), shard.count)) {
        throw ConfigError("invalid option: --shard " + given +
                          ": expected K/N with whole numbers 1 <= K <= N; give for example "
                          "--shard 1/4 for the first of four shards");
    }
    if (shard.index > shard.count) {
        throw ConfigError("invalid option: --shard " + given + ": shard " +
                          std::to_string(shard.index) + " of " + std::to_string(shard.count) +
                          " does not exist; K runs from 1 to N (Slurm: --array=1-N and --shard "
                          "$SLURM_ARRAY_TASK_ID/N)");
    }
    return shard;
}

uint32_t shard_of(std::string_view cell_id, uint32_t count) {
    // derive_seed mixes the FNV-1a hash with SplitMix64, so consecutive ids spread evenly.
    const uint64_t mixed = derive_seed(fnv1a64(cell_id), "shard");
    return static_cast<uint32_t>(mixed % count) + 1;
}

}  // namespace recprune::scaleout
