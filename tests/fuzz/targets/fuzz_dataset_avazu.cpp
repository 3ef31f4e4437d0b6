// libFuzzer entry for the avazu dataset plugin; the work is in harness/dataset_target.cpp.
#include "harness/harness.hpp"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    recprune::fuzz::run_dataset("avazu", {reinterpret_cast<const char*>(data), size});
    return 0;
}
