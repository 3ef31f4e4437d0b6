// libFuzzer entry for the grid target; the work is in harness/grid_target.cpp.
#include "harness/harness.hpp"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    recprune::fuzz::run_grid({reinterpret_cast<const char*>(data), size});
    return 0;
}
