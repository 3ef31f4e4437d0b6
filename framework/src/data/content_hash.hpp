// A fast non-cryptographic 128-bit content hash for fingerprints and cache checksums. It only
// has to tell changed inputs apart, not resist an adversary, and must hash a 1 GB data file in
// well under a second.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace recprune::data {

/// Streaming hasher: feed bytes in any chunking, the result depends only on the byte sequence.
class ContentHasher {
public:
    ContentHasher();

    void update(const void* data, size_t size);
    void update(std::string_view text) { update(text.data(), text.size()); }
    /// Feeds a string with its length first, so ("ab","c") and ("a","bc") differ.
    void update_field(std::string_view text);
    void update_u64(uint64_t value);
    /// Reads a file through a buffer and feeds its bytes; throws DataError when unreadable.
    void update_file(const std::filesystem::path& path);

    /// Returns the 128-bit digest as 32 lower-case hex digits. The hasher may not be updated
    /// after this.
    std::string hex_digest();
    /// Returns the first 64 bits of the digest.
    uint64_t digest64();

private:
    void consume_block(const unsigned char* block);
    void finish();

    uint64_t lanes_[4];
    unsigned char pending_[32];
    size_t pending_size_ = 0;
    uint64_t total_size_ = 0;
    uint64_t result_[2] = {0, 0};
    bool finished_ = false;
};

}  // namespace recprune::data
