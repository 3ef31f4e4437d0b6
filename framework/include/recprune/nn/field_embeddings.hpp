// The embedding bags of several fields side by side: forward writes their pooled outputs as
// one [rows, width] block (field after field), the layout dense layers and the FM term read.
#pragma once

#include "recprune/nn/embedding_bag.hpp"
#include "recprune/sdk.hpp"

#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <exception>
#include <string>
#include <vector>

namespace recprune::nn {

/// Work (rows x columns) below which a loop runs on the calling thread: waking an OpenMP team
/// costs more than such a loop.
inline constexpr int64_t kMinParallelWork = 1 << 14;

/// Runs `body(i)` for i in [0, count), on the OpenMP threads when `parallel`, and rethrows the
/// first exception after the loop (an exception must not leave an OpenMP region).
template <typename Body>
void parallel_for_each(int64_t count, Body&& body, bool parallel = true) {
    std::vector<std::exception_ptr> errors(static_cast<size_t>(count));
#pragma omp parallel for schedule(dynamic, 1) if (parallel)
    for (int64_t i = 0; i < count; ++i) {
        try {
            body(i);
        } catch (...) {
            errors[static_cast<size_t>(i)] = std::current_exception();
        }
    }
    for (const std::exception_ptr& error : errors) {
        if (error) std::rethrow_exception(error);
    }
}

/// Embedding bags whose outputs are concatenated along the columns. Each bag works on its own
/// table, so the bags run in parallel; within a bag the order of work is fixed, so results do
/// not depend on the thread count.
class FieldEmbeddings {
public:
    /// Appends a bag; its columns follow those of the bags added before.
    void add(Tensor& table, uint32_t field, Pooling pooling) {
        bags_.emplace_back(table, field, pooling);
        offsets_.push_back(width_);
        width_ += bags_.back().dim();
    }

    size_t size() const { return bags_.size(); }
    uint32_t width() const { return width_; }
    EmbeddingBag& bag(size_t i) { return bags_[i]; }
    /// First column of bag `i` in the block.
    uint32_t offset(size_t i) const { return offsets_[i]; }

    /// Writes the pooled outputs into the first width() columns of `out` [rows, stride]
    /// (stride 0 means width()).
    void forward(const recprune_batch_t& batch, float* out, size_t stride = 0) const {
        const size_t row_stride = stride == 0 ? width_ : stride;
        // Threads split the rows, not the fields. A thread then writes whole rows of the
        // block, so narrow fields (a 2-wide field is 8 bytes) do not put two threads on one
        // cache line, except where their parts meet. Within its rows a thread takes one bag
        // at a time. Rows are independent, so results do not depend on the split.
        for_row_parts(batch, [&](uint64_t first, uint64_t last) {
            for (size_t i = 0; i < bags_.size(); ++i) {
                bags_[i].forward_rows(batch, first, last, out + offsets_[i], row_stride);
            }
        });
    }

    /// Adds every bag's pooled value to out[row], bags in order, for bags one wide (the
    /// first-order weights of a linear part). The caller starts out[row] with whatever the
    /// sum begins with (a bias), so each row is summed in one fixed order.
    void forward_sum(const recprune_batch_t& batch, float* out) const {
        for_row_parts(batch, [&](uint64_t first, uint64_t last) {
            for (const EmbeddingBag& bag : bags_) bag.add_rows(batch, first, last, out);
        });
    }

    /// Writes each bag's sum of squared weighted rows into `out` [rows, width()].
    void forward_squares(const recprune_batch_t& batch, float* out) const {
        parallel_for_each(static_cast<int64_t>(bags_.size()), [&](int64_t i) {
            bags_[i].forward_squares(batch, out + offsets_[i], width_);
        }, parallel(batch));
    }

    /// Back-propagates the first width() columns of `dout` [rows, stride] (stride 0 means
    /// width()) into the tables' grads on touched rows.
    void backward(const recprune_batch_t& batch, const float* dout, size_t stride = 0) {
        BagGradient gradient;
        gradient.dout = dout;
        gradient.dout_stride = stride == 0 ? width_ : stride;
        backward(batch, gradient);
    }

    /// Back-propagates a gradient laid out field after field: bag i reads its [rows, dim]
    /// gradient at `dout` + rows x offset(i), rows in order. The bags then stream their
    /// gradients instead of reading one strided piece of a row-major block per sample.
    void backward_field_major(const recprune_batch_t& batch, const float* dout) {
        const auto rows = static_cast<size_t>(batch.row_count);
        for_bag_groups(batch, [&](size_t first, size_t last) {
            for (size_t i = first; i < last; ++i) {
                bags_[i].backward(batch, dout + rows * offsets_[i], bags_[i].dim());
            }
        });
    }

    /// Back-propagates `gradient` into every bag: `gradient.dout` points at a block laid out
    /// like forward()'s output (each bag reads its own columns), and `shared` and
    /// `square_coefficients` apply to every bag alike (all bags must then be as wide as
    /// `shared`).
    void backward(const recprune_batch_t& batch, const BagGradient& gradient) {
        for_bag_groups(batch, [&](size_t first, size_t last) {
            for (size_t i = first; i < last; ++i) {
                BagGradient own = gradient;
                if (gradient.dout != nullptr) own.dout = gradient.dout + offsets_[i];
                bags_[i].backward(batch, own);
            }
        });
    }

    /// Back-propagates one gradient `dout` [rows, dim] shared by every bag (all bags must be
    /// `dim` wide), as the factorization machine needs: d(term)/d(e_f) is the same for all f.
    void backward_shared(const recprune_batch_t& batch, const float* dout, uint32_t dim,
                         const float* square_coefficients = nullptr) {
        for (const EmbeddingBag& bag : bags_) {
            if (bag.dim() != dim) {
                throw InvalidArgument("invalid shared gradient: a bag is " +
                                      std::to_string(bag.dim()) + " wide, the gradient " +
                                      std::to_string(dim) +
                                      "; use backward() for bags of different widths");
            }
        }
        BagGradient gradient;
        gradient.shared = dout;
        gradient.shared_stride = dim;
        gradient.square_coefficients = square_coefficients;
        backward(batch, gradient);
    }

private:
    /// Splits the rows into contiguous parts, one per OpenMP thread, and runs
    /// `work(first, last)` for each.
    template <typename Work>
    void for_row_parts(const recprune_batch_t& batch, Work&& work) const {
        const auto rows = static_cast<int64_t>(batch.row_count);
        const int64_t parts = parallel(batch) ? std::min<int64_t>(omp_get_max_threads(), rows) : 1;
        parallel_for_each(
            parts,
            [&](int64_t part) {
                work(static_cast<uint64_t>(rows * part / parts),
                     static_cast<uint64_t>(rows * (part + 1) / parts));
            },
            parts > 1);
    }

    /// Splits the bags into contiguous groups, one per OpenMP thread, and runs
    /// `work(first, last)` for each. A group takes its bags one after another, each over the
    /// whole batch. One table and its grad (640 KB at 10,000 x 16) then stay in the L2 cache
    /// for the batch. This measured faster than walking a group's fields row by row, where
    /// every sample touches every table. Each bag reads its rows in order, so results do not
    /// depend on the grouping.
    template <typename Work>
    void for_bag_groups(const recprune_batch_t& batch, Work&& work) const {
        const int64_t bag_count = static_cast<int64_t>(bags_.size());
        int64_t groups = 1;
        if (parallel(batch)) {
            groups = std::min<int64_t>(bag_count, omp_get_max_threads());
        }
        parallel_for_each(
            groups,
            [&](int64_t g) {
                const auto first = static_cast<size_t>(bag_count * g / groups);
                const auto last = static_cast<size_t>(bag_count * (g + 1) / groups);
                work(first, last);
            },
            groups > 1);
    }

    bool parallel(const recprune_batch_t& batch) const {
        return bags_.size() > 1 &&
               static_cast<int64_t>(batch.row_count) * width_ >= kMinParallelWork;
    }

    std::vector<EmbeddingBag> bags_;
    std::vector<uint32_t> offsets_;
    uint32_t width_ = 0;
};

}  // namespace recprune::nn
