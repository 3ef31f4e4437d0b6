#include "data/content_hash.hpp"

#include "core/errors.hpp"

#include <cerrno>
#include <cstring>
#include <memory>

#include <fcntl.h>
#include <unistd.h>

namespace recprune::data {
namespace {

constexpr uint64_t kPrime1 = 0x9e3779b185ebca87ULL;
constexpr uint64_t kPrime2 = 0xc2b2ae3d27d4eb4fULL;
constexpr uint64_t kPrime3 = 0x165667b19e3779f9ULL;

uint64_t rotate_left(uint64_t value, int bits) {
    return (value << bits) | (value >> (64 - bits));
}

uint64_t load64(const unsigned char* bytes) {
    uint64_t value;
    std::memcpy(&value, bytes, sizeof(value));
    return value;  // the host is little-endian (x86-64, aarch64); the cache is not portable
}

uint64_t avalanche(uint64_t value) {
    value ^= value >> 33;
    value *= kPrime2;
    value ^= value >> 29;
    value *= kPrime3;
    value ^= value >> 32;
    return value;
}

// One lane step: four independent lanes keep the multiplier pipelines busy.
uint64_t lane_step(uint64_t lane, uint64_t word) {
    lane += word * kPrime2;
    lane = rotate_left(lane, 31);
    return lane * kPrime1;
}

}  // namespace

ContentHasher::ContentHasher() : lanes_{kPrime1 + kPrime2, kPrime2, 0, 0 - kPrime1} {}

void ContentHasher::consume_block(const unsigned char* block) {
    for (int lane = 0; lane < 4; ++lane) {
        lanes_[lane] = lane_step(lanes_[lane], load64(block + 8 * lane));
    }
}

void ContentHasher::update(const void* data, size_t size) {
    // An empty array may have no storage (data is nullptr), and memcpy from nullptr is
    // undefined even for zero bytes.
    if (size == 0) return;
    const auto* bytes = static_cast<const unsigned char*>(data);
    total_size_ += size;
    if (pending_size_ > 0) {
        size_t take = std::min(size, sizeof(pending_) - pending_size_);
        std::memcpy(pending_ + pending_size_, bytes, take);
        pending_size_ += take;
        bytes += take;
        size -= take;
        if (pending_size_ < sizeof(pending_)) return;
        consume_block(pending_);
        pending_size_ = 0;
    }
    while (size >= 32) {
        consume_block(bytes);
        bytes += 32;
        size -= 32;
    }
    std::memcpy(pending_, bytes, size);
    pending_size_ = size;
}

void ContentHasher::update_field(std::string_view text) {
    update_u64(text.size());
    update(text);
}

void ContentHasher::update_u64(uint64_t value) {
    update(&value, sizeof(value));
}

void ContentHasher::update_file(const std::filesystem::path& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        throw DataError("missing data file: " + path.string() + ": " + std::strerror(errno) +
                        "; check the dataset's parameters");
    }
    constexpr size_t kBufferBytes = 1 << 20;
    auto buffer = std::make_unique<unsigned char[]>(kBufferBytes);
    for (;;) {
        ssize_t count = ::read(fd, buffer.get(), kBufferBytes);
        if (count < 0 && errno == EINTR) continue;
        if (count < 0) {
            int error = errno;
            ::close(fd);
            throw DataError("cannot read data file: " + path.string() + ": " +
                            std::strerror(error) + "; check the file and the disk");
        }
        if (count == 0) break;
        update(buffer.get(), static_cast<size_t>(count));
    }
    ::close(fd);
}

void ContentHasher::finish() {
    if (finished_) return;
    finished_ = true;
    uint64_t tail[4] = {0, 0, 0, 0};
    std::memcpy(tail, pending_, pending_size_);
    uint64_t a = lanes_[0] ^ avalanche(tail[0] + total_size_);
    uint64_t b = lanes_[1] ^ avalanche(tail[1] + kPrime1);
    uint64_t c = lanes_[2] ^ avalanche(tail[2] + kPrime2);
    uint64_t d = lanes_[3] ^ avalanche(tail[3] + kPrime3);
    uint64_t merged =
        rotate_left(a, 1) + rotate_left(b, 7) + rotate_left(c, 12) + rotate_left(d, 18);
    result_[0] = avalanche(merged ^ a ^ total_size_);
    result_[1] = avalanche((merged + kPrime3) ^ b ^ c ^ rotate_left(d, 29));
}

std::string ContentHasher::hex_digest() {
    finish();
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(32);
    for (uint64_t word : result_) {
        for (int shift = 60; shift >= 0; shift -= 4) out += kHex[(word >> shift) & 0xF];
    }
    return out;
}

uint64_t ContentHasher::digest64() {
    finish();
    return result_[0];
}

}  // namespace recprune::data
