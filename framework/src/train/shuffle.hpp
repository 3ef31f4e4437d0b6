// Seeded shuffles shared by the trainer and the top-K candidate rows.
#pragma once

#include <cstdint>
#include <numeric>
#include <random>
#include <utility>
#include <vector>

namespace recprune::train {

// Fisher-Yates with a 64-bit Mersenne Twister, so the order depends on the seed only.
inline std::vector<uint64_t> shuffled_rows(uint64_t row_count, uint64_t seed) {
    std::vector<uint64_t> rows(row_count);
    std::iota(rows.begin(), rows.end(), uint64_t{0});
    std::mt19937_64 engine(seed);
    for (uint64_t i = row_count; i > 1; --i) {
        std::uniform_int_distribution<uint64_t> pick(0, i - 1);
        std::swap(rows[i - 1], rows[pick(engine)]);
    }
    return rows;
}

}  // namespace recprune::train
