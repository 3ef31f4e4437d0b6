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
        switch (dim_) {
            case 1: forward_rows<1>(block, stride, rows, out); return;
            case 2: forward_rows<2>(block, stride, rows, out); return;
            case 4: forward_rows<4>(block, stride, rows, out); return;
            case 8: forward_rows<8>(block, stride, rows, out); return;
            case 16: forward_rows<16>(block, stride, rows, out); return;
            default: forward_rows<0>(block, stride, rows, out); return;
        }
    }

    /// Adds g (S_d - e_fd), the gradient of the term of row `row` times g, to field f's
    /// gradient `grad` [dim], given e_f [dim] and the sums of the last forward() call.
    void add_field_gradient(int64_t row, float g, const float* e, float* grad) const {
        const float* s = sums_.data() + row * dim_;
        for (uint32_t d = 0; d < dim_; ++d) {
            grad[d] += g * s[d];
            grad[d] += -g * e[d];
        }
    }

    /// FLOPs per sample: an add and a multiply-add per value, then a square, a subtraction and
    /// a sum per dimension.
    static double flops(double fields, double dim) { return 3.0 * fields * dim + 3.0 * dim; }

private:
    /// Runs forward() for `width` dimensions (0: dim_, known only at run time). A fixed width
    /// keeps a row's sums and squares in registers across the fields. Kept in memory, they made
    /// the term of a 2-wide compacted DeepFM cost about as much as its MLP.
    template <uint32_t width>
    void forward_rows(const float* block, size_t stride, int64_t rows, float* out) {
        const uint32_t dim = width == 0 ? dim_ : width;
        const bool parallel = rows * fields_ * dim >= (1 << 14);
#pragma omp parallel if (parallel)
        {
            // Squares accumulate per dimension, so the inner loop has no serial reduction and
            // vectorizes; they are summed once per row.
            // A fixed width uses the arrays in the loop instead, so these two stay empty.
            std::vector<float> row_sums(width == 0 ? dim : 0);
            std::vector<float> row_squares(width == 0 ? dim : 0);
#pragma omp for schedule(static)
            for (int64_t row = 0; row < rows; ++row) {
                float fixed_sums[width == 0 ? 1 : width];
                float fixed_squares[width == 0 ? 1 : width];
                float* s = width == 0 ? row_sums.data() : fixed_sums;
                float* squares = width == 0 ? row_squares.data() : fixed_squares;
                for (uint32_t d = 0; d < dim; ++d) {
                    s[d] = 0.0f;
                    squares[d] = 0.0f;
                }
                const float* e = block + row * stride;
                for (uint32_t f = 0; f < fields_; ++f) {
                    const float* v = e + f * dim;
                    // One lane per dimension, so each sum keeps its order. Without the pragma
                    // GCC left the loop scalar, and the term took twice as long.
#pragma omp simd
                    for (uint32_t d = 0; d < dim; ++d) {
                        s[d] += v[d];
                        squares[d] += v[d] * v[d];
                    }
                }
                float total = 0.0f;
                for (uint32_t d = 0; d < dim; ++d) {
                    total += s[d] * s[d] - squares[d];
                    sums_[row * dim + d] = s[d];
                }
                out[row] = 0.5f * total;
            }
        }
    }

    uint32_t fields_;
    uint32_t dim_;
    std::vector<float> sums_;
};

}  // namespace recprune::nn
