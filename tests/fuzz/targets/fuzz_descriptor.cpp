// libFuzzer entry for the descriptor target; the work is in harness/descriptor_target.cpp.
#include "harness/harness.hpp"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    recprune::fuzz::run_descriptor({reinterpret_cast<const char*>(data), size});
    return 0;
}
