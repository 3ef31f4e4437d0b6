// Activation buffers in f32 or bf16, and the conversions between the two.
#pragma once

#include <oneapi/dnnl/dnnl.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>

namespace recprune::nn {

using DataType = dnnl::memory::data_type;

/// Returns the size in bytes of one value of `type` (f32 or bf16).
inline size_t element_size(DataType type) { return type == DataType::bf16 ? 2 : 4; }

/// Rounds `value` to bf16, to nearest with ties to even (NaN stays NaN).
inline uint16_t to_bf16(float value) {
    uint32_t bits = 0;
    std::memcpy(&bits, &value, sizeof(bits));
    if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((bits >> 16) | 0x40u);
    bits += 0x7fffu + ((bits >> 16) & 1u);
    return static_cast<uint16_t>(bits >> 16);
}

inline float from_bf16(uint16_t value) {
    const uint32_t bits = static_cast<uint32_t>(value) << 16;
    float out = 0.0f;
    std::memcpy(&out, &bits, sizeof(out));
    return out;
}

/// Converts `count` values between f32 and bf16 buffers (or copies when the types match).
inline void convert(const void* from, DataType from_type, void* to, DataType to_type,
                    int64_t count) {
    if (from_type == to_type) {
        std::memcpy(to, from, static_cast<size_t>(count) * element_size(from_type));
        return;
    }
    if (from_type == DataType::f32) {
        const auto* src = static_cast<const float*>(from);
        auto* dst = static_cast<uint16_t*>(to);
#pragma omp parallel for simd schedule(static) if (count >= (1 << 16))
        for (int64_t i = 0; i < count; ++i) dst[i] = to_bf16(src[i]);
        return;
    }
    const auto* src = static_cast<const uint16_t*>(from);
    auto* dst = static_cast<float*>(to);
#pragma omp parallel for simd schedule(static) if (count >= (1 << 16))
    for (int64_t i = 0; i < count; ++i) dst[i] = from_bf16(src[i]);
}

/// A 64-byte aligned buffer of f32 or bf16 values that grows on demand and never shrinks.
class Buffer {
public:
    /// Makes room for `count` values of `type`; the contents are undefined afterwards.
    void resize(int64_t count, DataType type) {
        type_ = type;
        const size_t bytes = static_cast<size_t>(count) * element_size(type);
        if (bytes <= capacity_) return;
        const size_t rounded = (bytes + 63) / 64 * 64;
        data_.reset(static_cast<std::byte*>(std::aligned_alloc(64, rounded)));
        if (!data_) throw std::bad_alloc();
        capacity_ = rounded;
    }

    void* data() { return data_.get(); }
    const void* data() const { return data_.get(); }
    float* f32() { return static_cast<float*>(data()); }
    const float* f32() const { return static_cast<const float*>(data()); }
    DataType type() const { return type_; }

private:
    struct Free {
        void operator()(std::byte* pointer) const { std::free(pointer); }
    };
    std::unique_ptr<std::byte, Free> data_;
    size_t capacity_ = 0;
    DataType type_ = DataType::f32;
};

}  // namespace recprune::nn
