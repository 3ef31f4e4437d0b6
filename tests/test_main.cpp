#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <xmmintrin.h>
#include <pmmintrin.h>

int main(int argc, char** argv) {
    // Same floating-point mode as the recprune command, so tests see the numbers users see.
    _MM_SET_FLUSH_ZERO_MODE(_MM_FLUSH_ZERO_ON);
    _MM_SET_DENORMALS_ZERO_MODE(_MM_DENORMALS_ZERO_ON);
    doctest::Context context;
    context.applyCommandLine(argc, argv);
    return context.run();
}
