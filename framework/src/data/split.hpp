// Dividing a table's rows into train, validation and test parts.
#pragma once

#include "data/raw_table.hpp"
#include "data/settings.hpp"

#include <cstdint>
#include <vector>

namespace recprune::data {

/// Row indices of each part, ascending, plus what the user filter removed.
struct SplitRows {
    std::vector<uint64_t> train;
    std::vector<uint64_t> validation;
    std::vector<uint64_t> test;
    uint64_t rows_dropped_by_user_filter = 0;
    uint64_t users_dropped_by_user_filter = 0;
    /// For "time": the first timestamp of the validation and test parts (NaN when empty).
    double validation_start_time = 0.0;
    double test_start_time = 0.0;
};

/// Splits the rows of `table` as `settings` says. Throws ConfigError when the method needs a
/// column the table lacks (a user column for "leave_one_out" and the user filter, a timestamp
/// column for "time"), and DataError when a timestamp is missing (NaN) or the training part
/// comes out empty.
SplitRows split_rows(const RawTable& table, const SplitSettings& settings);

/// SplitMix64: a small, fully specified generator, so splits are the same on every platform
/// and standard library (std::shuffle's algorithm is not specified).
class SplitMix64 {
public:
    explicit SplitMix64(uint64_t seed) : state_(seed) {}
    uint64_t next() {
        uint64_t value = (state_ += 0x9e3779b97f4a7c15ULL);
        value = (value ^ (value >> 30)) * 0xbf58476d1ce4e5b9ULL;
        value = (value ^ (value >> 27)) * 0x94d049bb133111ebULL;
        return value ^ (value >> 31);
    }
    /// Uniform integer in [0, bound) by rejection, so no value is favoured.
    uint64_t below(uint64_t bound) {
        uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
        uint64_t value = next();
        while (value >= limit) value = next();
        return value % bound;
    }

private:
    uint64_t state_;
};

}  // namespace recprune::data
