#include "scaleout/wire.hpp"

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

namespace recprune::scaleout {
namespace {

// Tags of the JSON encoding, one byte before each value.
enum JsonTag : uint8_t {
    kNull = 0,
    kFalse = 1,
    kTrue = 2,
    kInt64 = 3,
    kUint64 = 4,
    kDouble = 5,
    kString = 6,
    kArray = 7,
    kObject = 8,
};

// A frame header: magic, type, payload size. The magic catches a peer that writes anything
// else to the socket.
constexpr uint32_t kFrameMagic = 0x52505246;  // "RPRF"
constexpr size_t kHeaderSize = 16;
// Larger than any row or dense model this host keeps in memory; a bigger size means a broken
// stream, not a real message.
constexpr uint64_t kMaxPayload = uint64_t{1} << 40;

}  // namespace

void ByteWriter::put_u64(uint64_t value) {
    char raw[sizeof(value)];
    std::memcpy(raw, &value, sizeof(value));
    bytes_.append(raw, sizeof(raw));
}

void ByteWriter::put_f64(double value) {
    uint64_t bits = 0;
    std::memcpy(&bits, &value, sizeof(bits));
    put_u64(bits);
}

void ByteWriter::put_string(std::string_view text) {
    put_u64(text.size());
    bytes_.append(text);
}

void ByteWriter::put_floats(std::span<const float> values) {
    put_u64(values.size());
    bytes_.append(reinterpret_cast<const char*>(values.data()), values.size_bytes());
}

void ByteWriter::put_json(const boost::json::value& value) {
    switch (value.kind()) {
        case boost::json::kind::null: put_u8(kNull); return;
        case boost::json::kind::bool_: put_u8(value.get_bool() ? kTrue : kFalse); return;
        case boost::json::kind::int64:
            put_u8(kInt64);
            put_u64(static_cast<uint64_t>(value.get_int64()));
            return;
        case boost::json::kind::uint64:
            put_u8(kUint64);
            put_u64(value.get_uint64());
            return;
        case boost::json::kind::double_:
            put_u8(kDouble);
            put_f64(value.get_double());
            return;
        case boost::json::kind::string:
            put_u8(kString);
            put_string(value.get_string());
            return;
        case boost::json::kind::array:
            put_u8(kArray);
            put_u64(value.get_array().size());
            for (const auto& item : value.get_array()) put_json(item);
            return;
        case boost::json::kind::object:
            put_u8(kObject);
            put_u64(value.get_object().size());
            for (const auto& entry : value.get_object()) {
                put_string(entry.key());
                put_json(entry.value());
            }
            return;
    }
}

std::string_view ByteReader::take(size_t size) {
    if (size > bytes_.size() - offset_) {
        throw std::runtime_error("truncated message: needed " + std::to_string(size) +
                                 " bytes at offset " + std::to_string(offset_) + " of " +
                                 std::to_string(bytes_.size()));
    }
    std::string_view part = bytes_.substr(offset_, size);
    offset_ += size;
    return part;
}

uint8_t ByteReader::get_u8() { return static_cast<uint8_t>(take(1)[0]); }

uint64_t ByteReader::get_u64() {
    uint64_t value = 0;
    std::memcpy(&value, take(sizeof(value)).data(), sizeof(value));
    return value;
}

double ByteReader::get_f64() {
    uint64_t bits = get_u64();
    double value = 0.0;
    std::memcpy(&value, &bits, sizeof(value));
    return value;
}

std::string ByteReader::get_string() {
    uint64_t size = get_u64();
    return std::string(take(size));
}

std::vector<float> ByteReader::get_floats() {
    uint64_t count = get_u64();
    if (count > (bytes_.size() - offset_) / sizeof(float)) {
        throw std::runtime_error("truncated message: " + std::to_string(count) +
                                 " floats announced, fewer bytes left");
    }
    std::vector<float> values(count);
    std::string_view raw = take(count * sizeof(float));
    // memcpy must not get the null data() of an empty vector.
    if (count > 0) std::memcpy(values.data(), raw.data(), raw.size());
    return values;
}

boost::json::value ByteReader::get_json() {
    const uint8_t tag = get_u8();
    switch (tag) {
        case kNull: return nullptr;
        case kFalse: return false;
        case kTrue: return true;
        case kInt64: return static_cast<int64_t>(get_u64());
        case kUint64: return get_u64();
        case kDouble: return get_f64();
        case kString: return boost::json::string(get_string());
        case kArray: {
            boost::json::array array;
            const uint64_t count = get_u64();
            for (uint64_t i = 0; i < count; ++i) array.push_back(get_json());
            return array;
        }
        case kObject: {
            boost::json::object object;
            const uint64_t count = get_u64();
            for (uint64_t i = 0; i < count; ++i) {
                std::string key = get_string();
                object[key] = get_json();
            }
            return object;
        }
        default:
            throw std::runtime_error("malformed message: unknown JSON tag " +
                                     std::to_string(tag) + " at offset " +
                                     std::to_string(offset_ - 1));
    }
}

std::string encode_baseline(const run::DenseBaseline& baseline) {
    ByteWriter out;
    out.put_u8(baseline.ok ? 1 : 0);
    out.put_string(baseline.message);
    out.put_f64(baseline.validation_score);
    out.put_json(baseline.test_metrics);
    out.put_json(baseline.validation_metrics);
    out.put_json(baseline.cost);
    out.put_u64(baseline.weights.size());
    for (const auto& tensor : baseline.weights) out.put_floats(tensor);
    return out.take();
}

std::shared_ptr<const run::DenseBaseline> decode_baseline(std::string_view bytes) {
    ByteReader in(bytes);
    auto baseline = std::make_shared<run::DenseBaseline>();
    baseline->ok = in.get_u8() != 0;
    baseline->message = in.get_string();
    baseline->validation_score = in.get_f64();
    baseline->test_metrics = in.get_json().as_object();
    baseline->validation_metrics = in.get_json().as_object();
    baseline->cost = in.get_json().as_object();
    const uint64_t tensors = in.get_u64();
    for (uint64_t i = 0; i < tensors; ++i) baseline->weights.push_back(in.get_floats());
    if (!in.at_end()) throw std::runtime_error("malformed baseline: bytes left after the end");
    return baseline;
}

void send_frame(int socket, uint32_t type, std::string_view payload) {
    ByteWriter header;
    header.put_u64((uint64_t{type} << 32) | kFrameMagic);
    header.put_u64(payload.size());
    for (std::string_view part : {std::string_view(header.bytes()), payload}) {
        size_t sent = 0;
        while (sent < part.size()) {
            ssize_t n = ::send(socket, part.data() + sent, part.size() - sent, MSG_NOSIGNAL);
            if (n < 0) {
                if (errno == EINTR) continue;
                throw std::runtime_error(std::string("cannot send to the peer process: ") +
                                         std::strerror(errno));
            }
            sent += static_cast<size_t>(n);
        }
    }
}

namespace {

// Reads exactly `size` bytes; returns the count read before the peer closed.
size_t read_exactly(int socket, char* buffer, size_t size) {
    size_t done = 0;
    while (done < size) {
        ssize_t n = ::recv(socket, buffer + done, size - done, 0);
        if (n == 0) return done;
        if (n < 0) {
            if (errno == EINTR) continue;
            throw std::runtime_error(std::string("cannot read from the peer process: ") +
                                     std::strerror(errno));
        }
        done += static_cast<size_t>(n);
    }
    return done;
}

}  // namespace

bool receive_frame(int socket, uint32_t& type, std::string& payload) {
    char header[kHeaderSize];
    const size_t got = read_exactly(socket, header, kHeaderSize);
    if (got == 0) return false;
    if (got < kHeaderSize) {
        throw std::runtime_error("the peer process closed the connection inside a message");
    }
    ByteReader reader(std::string_view(header, kHeaderSize));
    const uint64_t word = reader.get_u64();
    const uint64_t size = reader.get_u64();
    if ((word & 0xffffffffULL) != kFrameMagic || size > kMaxPayload) {
        throw std::runtime_error("malformed message from the peer process: bad frame header");
    }
    type = static_cast<uint32_t>(word >> 32);
    payload.resize(size);
    if (read_exactly(socket, payload.data(), size) < size) {
        throw std::runtime_error("the peer process closed the connection inside a message");
    }
    return true;
}

}  // namespace recprune::scaleout
