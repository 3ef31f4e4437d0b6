// Stable 64-bit hashes for cell ids, group ids and fingerprints.
#pragma once

#include <boost/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace recprune {

/// FNV-1a 64 over bytes, continuing from `seed`; stable across runs, machines and builds.
inline uint64_t fnv1a64(std::string_view bytes, uint64_t seed = 0xcbf29ce484222325ULL) {
    uint64_t hash = seed;
    for (unsigned char byte : bytes) {
        hash ^= byte;
        hash *= 0x100000001b3ULL;
    }
    return hash;
}

/// 16 lower-case hex digits.
std::string to_hex(uint64_t value);

/// JSON text with object keys sorted at every level, so equal values give equal text whatever
/// order the grid wrote them in.
std::string canonical_json(const boost::json::value& value);

/// Hex id of a JSON value: to_hex(fnv1a64(canonical_json(value))).
std::string stable_id(const boost::json::value& value);

/// Derives an independent 64-bit seed for a purpose ("model", "pruner", "shuffle") from a base
/// seed (SplitMix64 over the pair), so streams of one cell never overlap.
uint64_t derive_seed(uint64_t base_seed, std::string_view purpose);

}  // namespace recprune
