// An open-addressing hash map from 64-bit raw keys to 32-bit values, for vocabularies and
// counts over tens of millions of rows, where std::unordered_map's node per key costs too much.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace recprune::data {

/// Map from uint64 keys (any value, RECPRUNE_MISSING_KEY included) to nonzero uint32 values.
/// A value of 0 means "absent", so callers store counts or 1-based indices.
class KeyTable {
public:
    explicit KeyTable(size_t expected_keys = 16) { rehash(capacity_for(expected_keys)); }

    /// Returns the value stored for `key`, or 0 when absent.
    uint32_t get(uint64_t key) const {
        size_t slot = probe(key);
        return values_[slot];
    }

    /// Returns a reference to the value of `key`, inserting 0 when absent. The caller must
    /// store a nonzero value before the next call, or the key stays absent. The reference is
    /// valid until the next call.
    uint32_t& at(uint64_t key) {
        if ((size_ + 1) * 4 > values_.size() * 3) rehash(values_.size() * 2);
        size_t slot = probe(key);
        if (values_[slot] == 0) {
            keys_[slot] = key;
            ++size_;
        }
        return values_[slot];
    }

    /// Number of keys inserted through at() (including any left at 0 by the caller).
    size_t size() const { return size_; }

private:
    static size_t capacity_for(size_t keys) {
        size_t capacity = 16;
        while (capacity * 3 < keys * 4 + 4) capacity *= 2;
        return capacity;
    }

    static uint64_t mix(uint64_t key) {
        key ^= key >> 33;
        key *= 0xff51afd7ed558ccdULL;
        key ^= key >> 33;
        return key;
    }

    size_t probe(uint64_t key) const {
        size_t mask = values_.size() - 1;
        size_t slot = static_cast<size_t>(mix(key)) & mask;
        while (values_[slot] != 0 && keys_[slot] != key) slot = (slot + 1) & mask;
        return slot;
    }

    void rehash(size_t capacity) {
        std::vector<uint64_t> old_keys(capacity);
        std::vector<uint32_t> old_values(capacity, 0);
        old_keys.swap(keys_);
        old_values.swap(values_);
        for (size_t slot = 0; slot < old_values.size(); ++slot) {
            if (old_values[slot] == 0) continue;
            size_t target = probe(old_keys[slot]);
            keys_[target] = old_keys[slot];
            values_[target] = old_values[slot];
        }
    }

    std::vector<uint64_t> keys_;
    std::vector<uint32_t> values_;
    size_t size_ = 0;
};

}  // namespace recprune::data
