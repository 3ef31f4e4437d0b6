// The second-order factorization-machine term over field vectors, as in DeepFM's FM component
// (Guo et al., "DeepFM", IJCAI 2017, eq. 2) and computed in O(Fk) with Rendle's identity
// (Rendle, "Factorization Machines", ICDM 2010, lemma 3.1):
//   sum_{f<g} <e_f, e_g> = 1/2 sum_d [(sum_f e_fd)^2 - sum_f e_fd^2].
#pragma once

#include <cstdint>
#include <vector>

namespace recprune::nn {

/// Pairwise interactions of `fields` vectors of width `dim` laid out side by side in a row.
class FmTerm {
public:
    FmTerm(uint32_t fields, uint32_t dim) : fields_(fields), dim_(dim) {}

    /// Writes the term of each row of block [rows, stride] (field f at columns f*dim..) into
    /// out[row] and keeps the per-row sums for backward().
    void forward(const float* block, size_t stride, int64_t rows, float* out) {
        sums_.resize(static_cast<size_t>(rows) * dim_);
#pragma omp parallel for schedule(static) if (rows * fields_ * dim_ >= (1 << 14))
        for (int64_t row = 0; row < rows; ++row) {
            const float* e = block + row * stride;
            float* s = sums_.data() + row * dim_;
            for (uint32_t d = 0; d < dim_; ++d) s[d] = 0.0f;
            float squares = 0.0f;
            for (uint32_t f = 0; f < fields_; ++f) {
                for (uint32_t d = 0; d < dim_; ++d) {
                    const float v = e[f * dim_ + d];
                    s[d] += v;
                    squares += v * v;
                }
            }
            float sum_squared = 0.0f;
            for (uint32_t d = 0; d < dim_; ++d) sum_squared += s[d] * s[d];
            out[row] = 0.5f * (sum_squared - squares);
        }
    }

    /// Adds d(term)/d(e_fd) * g[row] = g[row] * (S_d - e_fd) into `grad` [rows, stride], for
    /// the block of the last forward() call.
    void backward_add(const float* block, size_t stride, int64_t rows, const float* g,
                      float* grad) const {
#pragma omp parallel for schedule(static) if (rows * fields_ * dim_ >= (1 << 14))
        for (int64_t row = 0; row < rows; ++row) {
            const float* e = block + row * stride;
            const float* s = sums_.data() + row * dim_;
            float* out = grad + row * stride;
            for (uint32_t f = 0; f < fields_; ++f) {
                for (uint32_t d = 0; d < dim_; ++d) {
                    out[f * dim_ + d] += g[row] * (s[d] - e[f * dim_ + d]);
                }
            }
        }
    }

    /// FLOPs per sample: an add and a multiply-add per value, then a square, a subtraction and
    /// a sum per dimension.
    static double flops(double fields, double dim) { return 3.0 * fields * dim + 3.0 * dim; }

private:
    uint32_t fields_;
    uint32_t dim_;
    std::vector<float> sums_;
};

}  // namespace recprune::nn
