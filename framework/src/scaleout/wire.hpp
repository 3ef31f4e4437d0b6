// Bytes between processes: a compact binary form of JSON values and dense baselines, and
// framed messages over a stream socket. Worker processes (--isolate) and MPI ranks exchange
// dense weights and rows this way. Doubles travel as their bits, so a value that crossed a
// process boundary is the value the cell computed, NaN and infinity included.
//
// Known limit: numbers are written in the byte order of the machine, so every process of a
// run must share it (x86-64 and AArch64 Linux are both little-endian).
#pragma once

#include "run/cell_runner.hpp"

#include <boost/json.hpp>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace recprune::scaleout {

/// Appends fixed-size numbers, strings and JSON values to a byte string.
class ByteWriter {
public:
    void put_u8(uint8_t value) { bytes_.push_back(static_cast<char>(value)); }
    void put_u64(uint64_t value);
    void put_f64(double value);
    void put_string(std::string_view text);
    void put_floats(std::span<const float> values);
    void put_json(const boost::json::value& value);

    const std::string& bytes() const { return bytes_; }
    std::string take() { return std::move(bytes_); }

private:
    std::string bytes_;
};

/// Reads what ByteWriter wrote, in the same order. Throws std::runtime_error on truncated or
/// malformed input.
class ByteReader {
public:
    explicit ByteReader(std::string_view bytes) : bytes_(bytes) {}

    uint8_t get_u8();
    uint64_t get_u64();
    double get_f64();
    std::string get_string();
    std::vector<float> get_floats();
    boost::json::value get_json();
    bool at_end() const { return offset_ == bytes_.size(); }

private:
    std::string_view take(size_t size);

    std::string_view bytes_;
    size_t offset_ = 0;
};

/// Serialises a dense baseline: status, message, weights, validation score and metrics.
std::string encode_baseline(const run::DenseBaseline& baseline);
std::shared_ptr<const run::DenseBaseline> decode_baseline(std::string_view bytes);

/// Writes one message (type and payload) to a stream socket. Throws std::runtime_error when
/// the peer is gone or the write fails; never raises SIGPIPE.
void send_frame(int socket, uint32_t type, std::string_view payload);

/// Reads one message. Returns false when the peer closed the socket before the message
/// began; throws std::runtime_error when it closed in the middle of a message.
bool receive_frame(int socket, uint32_t& type, std::string& payload);

}  // namespace recprune::scaleout
