// Deterministic random numbers for model initialisation and dropout.
//
// The standard library's distributions are implementation-defined, so a seed would give other
// weights with another standard library. These generators produce the same stream everywhere.
#pragma once

#include "recprune/sdk.hpp"

#include <cmath>
#include <cstdint>
#include <numbers>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

namespace recprune::nn {

/// SplitMix64 step (Steele, Lea and Flood, "Fast splittable pseudorandom number generators",
/// OOPSLA 2014): mixes `state` after adding the golden-ratio increment.
inline uint64_t splitmix64(uint64_t& state) {
    state += 0x9e3779b97f4a7c15ULL;
    uint64_t z = state;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/// Derives an independent seed for a named stream (a tensor, the dropout of a layer) from the
/// model seed, so that adding a tensor does not change the values of the others.
inline uint64_t derive_seed(uint64_t seed, std::string_view stream_name) {
    uint64_t hash = 0xcbf29ce484222325ULL;  // FNV-1a 64-bit offset basis
    for (char c : stream_name) {
        hash ^= static_cast<unsigned char>(c);
        hash *= 0x100000001b3ULL;
    }
    uint64_t state = seed ^ hash;
    return splitmix64(state);
}

/// xoshiro256** generator (Blackman and Vigna, "Scrambled linear pseudorandom number
/// generators", ACM TOMS 2021), seeded through SplitMix64 as its authors recommend.
class Rng {
public:
    explicit Rng(uint64_t seed) {
        for (uint64_t& word : state_) word = splitmix64(seed);
    }

    uint64_t next() {
        const uint64_t result = rotl(state_[1] * 5, 7) * 9;
        const uint64_t t = state_[1] << 17;
        state_[2] ^= state_[0];
        state_[3] ^= state_[1];
        state_[1] ^= state_[2];
        state_[0] ^= state_[3];
        state_[2] ^= t;
        state_[3] = rotl(state_[3], 45);
        return result;
    }

    /// Returns a double uniform in [0, 1) with 53 random bits.
    double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

    /// Returns a standard normal draw (Box-Muller; the second value of each pair is dropped so
    /// that the stream does not depend on how many draws came before).
    double normal() {
        double u1 = uniform();
        while (u1 <= 0.0) u1 = uniform();
        const double u2 = uniform();
        return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
    }

private:
    static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
    uint64_t state_[4];
};

/// Fills `values` with N(0, std^2) draws.
inline void fill_normal(std::span<float> values, double std, uint64_t seed) {
    Rng rng(seed);
    for (float& value : values) value = static_cast<float>(rng.normal() * std);
}

/// Fills `values` with U(-limit, limit) draws.
inline void fill_uniform(std::span<float> values, double limit, uint64_t seed) {
    Rng rng(seed);
    for (float& value : values) value = static_cast<float>((2.0 * rng.uniform() - 1.0) * limit);
}

/// Initialises a dense weight [outputs, inputs] by `scheme`: "xavier_uniform" or
/// "xavier_normal" (Glorot and Bengio, AISTATS 2010: variance 2 / (inputs + outputs)),
/// "he_uniform" or "he_normal" (He et al., ICCV 2015: variance 2 / inputs).
inline void init_dense_weight(std::span<float> values, uint64_t outputs, uint64_t inputs,
                              const std::string& scheme, uint64_t seed) {
    const double fan_in = static_cast<double>(inputs);
    const double fan_sum = static_cast<double>(inputs + outputs);
    if (scheme == "xavier_uniform") return fill_uniform(values, std::sqrt(6.0 / fan_sum), seed);
    if (scheme == "xavier_normal") return fill_normal(values, std::sqrt(2.0 / fan_sum), seed);
    if (scheme == "he_uniform") return fill_uniform(values, std::sqrt(6.0 / fan_in), seed);
    if (scheme == "he_normal") return fill_normal(values, std::sqrt(2.0 / fan_in), seed);
    throw InvalidArgument("invalid parameter: dense_init: \"" + scheme +
                          "\" is not one of xavier_uniform, xavier_normal, he_uniform, "
                          "he_normal; pick one of those");
}

}  // namespace recprune::nn
