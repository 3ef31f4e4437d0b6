// Compute context for model plugins: the oneDNN engine and stream, and the precision the dense
// layers run in.
#pragma once

#include "recprune/sdk.hpp"

#include <oneapi/dnnl/dnnl.hpp>

#include <string>

namespace recprune::nn {

/// Data type of dense-layer activations and weight copies. Master weights, gradients and the
/// optimizer state stay f32 in both cases.
enum class Precision { F32, Bf16 };

inline const char* to_string(Precision precision) {
    return precision == Precision::Bf16 ? "bf16" : "f32";
}

/// Returns the name of the instruction set oneDNN dispatches to, as in its verbose output.
inline std::string isa_name(dnnl::cpu_isa isa) {
    switch (isa) {
    case dnnl::cpu_isa::sse41: return "sse41";
    case dnnl::cpu_isa::avx: return "avx";
    case dnnl::cpu_isa::avx2: return "avx2";
    case dnnl::cpu_isa::avx2_vnni: return "avx2_vnni";
    case dnnl::cpu_isa::avx512_mic: return "avx512_mic";
    case dnnl::cpu_isa::avx512_mic_4ops: return "avx512_mic_4ops";
    case dnnl::cpu_isa::avx512_core: return "avx512_core";
    case dnnl::cpu_isa::avx512_core_vnni: return "avx512_core_vnni";
    case dnnl::cpu_isa::avx512_core_bf16: return "avx512_core_bf16";
    case dnnl::cpu_isa::avx512_core_amx: return "avx512_core_amx";
    default: return "unknown";
    }
}

/// Returns true when oneDNN dispatches to AMX, the only ISA on which bf16 inner products are
/// faster than f32 (measured on Sapphire Rapids with oneDNN 2.6: bf16 is slower than f32 when
/// capped at avx512_core_bf16).
inline bool has_amx() {
    return dnnl::get_effective_cpu_isa() == dnnl::cpu_isa::avx512_core_amx;
}

/// Resolves the "precision" parameter: "auto" picks bf16 when the CPU has AMX and f32
/// otherwise; "bf16" without AMX is rejected because it would run slower than f32.
inline Precision resolve_precision(const std::string& requested) {
    if (requested == "f32") return Precision::F32;
    if (requested == "auto") return has_amx() ? Precision::Bf16 : Precision::F32;
    if (requested == "bf16") {
        if (!has_amx()) {
            throw InvalidArgument("invalid parameter: precision: \"bf16\" needs AMX but oneDNN "
                                  "runs " + isa_name(dnnl::get_effective_cpu_isa()) +
                                  "; use \"auto\" or \"f32\"");
        }
        return Precision::Bf16;
    }
    throw InvalidArgument("invalid parameter: precision: \"" + requested +
                          "\" is not one of auto, f32, bf16; pick one of those");
}

/// The oneDNN engine and stream of one model, with its precision. A model owns one Compute and
/// uses it from one thread at a time (oneDNN streams are not thread-safe).
class Compute {
public:
    explicit Compute(Precision precision)
        : engine_(dnnl::engine::kind::cpu, 0), stream_(engine_), precision_(precision) {}

    dnnl::engine& engine() { return engine_; }
    dnnl::stream& stream() { return stream_; }
    Precision precision() const { return precision_; }

    /// Returns {"precision": "f32"|"bf16", "isa": "<oneDNN ISA>"} for the structure JSON.
    json describe() const {
        return {{"precision", to_string(precision_)},
                {"isa", isa_name(dnnl::get_effective_cpu_isa())}};
    }

private:
    dnnl::engine engine_;
    dnnl::stream stream_;
    Precision precision_;
};

/// Converts between f32 and bf16 with a oneDNN reorder, which runs vectorized JIT code (the
/// plugins themselves are compiled for baseline x86-64). The reorder is created for the first
/// element count and types and re-created when they change.
class Converter {
public:
    void run(Compute& compute, const void* from, dnnl::memory::data_type from_type, void* to,
             dnnl::memory::data_type to_type, int64_t count) {
        if (count != count_ || from_type != from_type_ || to_type != to_type_) {
            const dnnl::memory::desc from_md({count}, from_type, dnnl::memory::format_tag::a);
            const dnnl::memory::desc to_md({count}, to_type, dnnl::memory::format_tag::a);
            from_ = dnnl::memory(from_md, compute.engine(), DNNL_MEMORY_NONE);
            to_ = dnnl::memory(to_md, compute.engine(), DNNL_MEMORY_NONE);
            reorder_ = dnnl::reorder(from_, to_);
            count_ = count;
            from_type_ = from_type;
            to_type_ = to_type;
        }
        from_.set_data_handle(const_cast<void*>(from));
        to_.set_data_handle(to);
        reorder_.execute(compute.stream(), from_, to_);
    }

private:
    int64_t count_ = -1;
    dnnl::memory::data_type from_type_ = dnnl::memory::data_type::undef;
    dnnl::memory::data_type to_type_ = dnnl::memory::data_type::undef;
    dnnl::memory from_, to_;
    dnnl::reorder reorder_;
};

}  // namespace recprune::nn
