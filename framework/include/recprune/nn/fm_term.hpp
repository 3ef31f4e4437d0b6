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
        const bool parallel = rows * fields_ * dim_ >= (1 << 14);
#pragma omp parallel if (parallel)
        {
            // Squares accumulate per dimension, so the inner loop has no serial reduction and
            // vectorizes; they are summed once per row.
            std::vector<float> squares(dim_);
#pragma omp for schedule(static)
            for (int64_t row = 0; row < rows; ++row) {
                const float* e = block + row * stride;
                float* s = sums_.data() + row * dim_;
                for (uint32_t d = 0; d < dim_; ++d) {
                    s[d] = 0.0f;
                    squares[d] = 0.0f;
                }
                for (uint32_t f = 0; f < fields_; ++f) {
                    const float* v = e + f * dim_;
                    for (uint32_t d = 0; d < dim_; ++d) {
                        s[d] += v[d];
                        squares[d] += v[d] * v[d];
                    }
                }
                float total = 0.0f;
                for (uint32_t d = 0; d < dim_; ++d) total += s[d] * s[d] - squares[d];
                out[row] = 0.5f * total;
            }
        }
    }

    /// Writes g[row] * S_d, the part of d(term)/d(e_fd) * g[row] = g[row] (S_d - e_fd) that
    /// every field shares, into `out` [rows, dim], for the sums of the last forward() call.
    /// The rest, -g[row] e_fd, goes to each field's embedding bag as its pooled coefficient
    /// (see BagGradient), so the full [rows, fields x dim] gradient is never written.
    void shared_gradient(const float* g, int64_t rows, float* out) const {
        for (int64_t row = 0; row < rows; ++row) {
            for (uint32_t d = 0; d < dim_; ++d) {
                out[row * dim_ + d] = g[row] * sums_[row * dim_ + d];
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
