#include "core/hash.hpp"

#include "core/json_io.hpp"

#include <algorithm>
#include <cstdio>
#include <vector>

namespace recprune {
namespace {

boost::json::value sorted_copy(const boost::json::value& value) {
    if (value.is_array()) {
        boost::json::array out;
        for (const auto& item : value.as_array()) out.push_back(sorted_copy(item));
        return out;
    }
    if (!value.is_object()) return value;
    std::vector<std::string> keys;
    for (const auto& entry : value.as_object()) keys.emplace_back(entry.key());
    std::sort(keys.begin(), keys.end());
    boost::json::object out;
    for (const auto& key : keys) out[key] = sorted_copy(value.as_object().at(key));
    return out;
}

uint64_t splitmix64(uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

}  // namespace

std::string to_hex(uint64_t value) {
    char buffer[17];
    std::snprintf(buffer, sizeof(buffer), "%016llx", static_cast<unsigned long long>(value));
    return buffer;
}

std::string canonical_json(const boost::json::value& value) {
    return json_io::serialize(sorted_copy(value));
}

std::string stable_id(const boost::json::value& value) {
    return to_hex(fnv1a64(canonical_json(value)));
}

uint64_t derive_seed(uint64_t base_seed, std::string_view purpose) {
    return splitmix64(splitmix64(base_seed) ^ fnv1a64(purpose));
}

}  // namespace recprune
