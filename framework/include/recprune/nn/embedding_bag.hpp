// Embedding-bag lookup for one field: single-valued fields read one row per sample, multi-hot
// fields pool their rows by sum or mean. The backward pass writes the gradient only on the rows
// the batch touched and lists them in Tensor::touched_rows(), so the host updates sparsely.
#pragma once

#include "recprune/sdk.hpp"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <string>
#include <vector>

namespace recprune::nn {

enum class Pooling { Sum, Mean };

/// Copies `count` floats. Unlike std::copy_n with a run-time count, which becomes a memmove
/// call per embedding row, blocks of 16 and 4 compile to vector moves, and the last 0 to 3
/// floats are copied one by one without a loop (GCC turns even a short copy loop into a
/// memmove call, which costs more than the copy for the narrow rows of compacted models).
inline void copy_floats(const float* __restrict from, float* __restrict to, uint32_t count) {
    uint32_t i = 0;
    for (; i + 16 <= count; i += 16) {
        for (uint32_t j = 0; j < 16; ++j) to[i + j] = from[i + j];
    }
    for (; i + 4 <= count; i += 4) {
        for (uint32_t j = 0; j < 4; ++j) to[i + j] = from[i + j];
    }
    switch (count - i) {
        case 3: to[i + 2] = from[i + 2]; [[fallthrough]];
        case 2: to[i + 1] = from[i + 1]; [[fallthrough]];
        case 1: to[i] = from[i]; break;
        default: break;
    }
}

/// Parses the "pooling" parameter ("sum" or "mean").
inline Pooling parse_pooling(const std::string& name) {
    if (name == "sum") return Pooling::Sum;
    if (name == "mean") return Pooling::Mean;
    throw InvalidArgument("invalid parameter: pooling: \"" + name +
                          "\" is not one of sum, mean; pick one of those");
}

/// The gradient a bag's backward pass spreads over its values. For a sample whose bag holds
/// values j with pooling weight w_j (1 for sum pooling, 1/n for mean), value j receives
///   w_j * (dout[row] + shared[row]) + c_sq[row] * w_j^2 * v_j.
/// `dout` is the gradient of this bag's output; `shared` a gradient common to several bags;
/// `c_sq` the factor of a sum of per-value squares (Rendle's FM over single features). Every
/// pointer may be NULL.
struct BagGradient {
    const float* dout = nullptr;
    size_t dout_stride = 0;
    const float* shared = nullptr;
    size_t shared_stride = 0;
    const float* square_coefficients = nullptr;

    /// Returns true when the gradient needs the embedding rows themselves.
    bool reads_values() const { return square_coefficients != nullptr; }

    /// Writes dout + shared, the part every value of a bag receives (times its pooling
    /// weight).
    void shared_part(uint64_t row, uint32_t dim, float* out) const {
        for (uint32_t d = 0; d < dim; ++d) out[d] = 0.0f;
        if (dout != nullptr) {
            const float* g = dout + row * dout_stride;
            for (uint32_t d = 0; d < dim; ++d) out[d] += g[d];
        }
        if (shared != nullptr) {
            const float* g = shared + row * shared_stride;
            for (uint32_t d = 0; d < dim; ++d) out[d] += g[d];
        }
    }

    /// Writes the gradient of the one value `v` of a single-valued sample (`v` is read only
    /// with square coefficients).
    void row_gradient(uint64_t row, const float* v, uint32_t dim, float* out) const {
        shared_part(row, dim, out);
        if (square_coefficients != nullptr) {
            const float c = square_coefficients[row];
            for (uint32_t d = 0; d < dim; ++d) out[d] += c * v[d];
        }
    }
};

/// Checks that `batch` has the `field_count` fields and `dense_count` dense inputs of the schema.
inline void check_batch_shape(const recprune_batch_t& batch, uint32_t field_count,
                              uint32_t dense_count) {
    if (batch.field_count != field_count || batch.dense_count != dense_count) {
        throw InvalidArgument("invalid batch: " + std::to_string(batch.field_count) +
                              " fields and " + std::to_string(batch.dense_count) +
                              " dense inputs, the model was built for " +
                              std::to_string(field_count) + " and " +
                              std::to_string(dense_count) + "; build batches from the schema "
                              "the model was created with");
    }
    if (dense_count > 0 && batch.row_count > 0 && batch.dense == nullptr) {
        throw InvalidArgument("invalid batch: dense inputs are NULL but dense_count is " +
                              std::to_string(dense_count) + "; pass the dense block");
    }
}

/// Lookup and pooling over one embedding table [rows, dim]. Not thread-safe: one bag per table,
/// used from one thread at a time (different bags may run in parallel).
class EmbeddingBag {
public:
    /// Binds `table` (owned by the model, outlives the bag) to batch field `field`.
    EmbeddingBag(Tensor& table, uint32_t field, Pooling pooling)
        : table_(&table), field_(field), pooling_(pooling),
          rows_(static_cast<uint32_t>(table.shape().at(0))),
          dim_(static_cast<uint32_t>(table.shape().size() > 1 ? table.shape()[1] : 1)),
          touched_bits_((size_t{rows_} + 63) / 64, 0), scratch_(2 * size_t{dim_}) {}

    uint32_t field() const { return field_; }
    uint32_t dim() const { return dim_; }
    uint32_t rows() const { return rows_; }
    Tensor& table() { return *table_; }

    /// Writes the pooled embedding of each sample to out[row * out_stride + d], d < dim().
    /// Throws InvalidArgument when an id is outside the table.
    void forward(const recprune_batch_t& batch, float* out, size_t out_stride) const {
        forward_rows(batch, 0, batch.row_count, out, out_stride);
    }

    /// Writes the pooled embeddings of the samples [first, last) only, where forward() would
    /// put them: `out` still points at sample 0.
    void forward_rows(const recprune_batch_t& batch, uint64_t first, uint64_t last, float* out,
                      size_t out_stride) const {
        if (single_valued(batch)) {
            check_ids(batch, first, last);
            switch (dim_) {
                case 1: gather_rows<1>(batch, first, last, out, out_stride); return;
                case 2: gather_rows<2>(batch, first, last, out, out_stride); return;
                case 4: gather_rows<4>(batch, first, last, out, out_stride); return;
                case 8: gather_rows<8>(batch, first, last, out, out_stride); return;
                case 16: gather_rows<16>(batch, first, last, out, out_stride); return;
                default: gather_rows<0>(batch, first, last, out, out_stride); return;
            }
        }
        for (uint64_t row = first; row < last; ++row) {
            if (row + kPrefetchDistance < last) {
                prefetch(batch, row + kPrefetchDistance, false, false);
            }
            forward_row(batch, row, out + row * out_stride);
        }
    }

    /// Adds the pooled value of each sample in [first, last) to out[row], for a bag one wide
    /// (the first-order weights of a linear part). Adding in place spares the [rows, fields]
    /// block and the pass that would sum it.
    void add_rows(const recprune_batch_t& batch, uint64_t first, uint64_t last,
                  float* out) const {
        if (dim_ != 1) {
            throw InvalidArgument("invalid sum: bag of field " + std::to_string(field_) +
                                  " is " + std::to_string(dim_) +
                                  " wide; only one-wide bags add into a sum");
        }
        if (!single_valued(batch)) {
            for (uint64_t row = first; row < last; ++row) {
                float pooled = 0.0f;
                forward_row(batch, row, &pooled);
                out[row] += pooled;
            }
            return;
        }
        check_ids(batch, first, last);
        const uint32_t* ids = batch.ids[field_];
        const float* table = table_->data();
        const bool ahead = size_t{rows_} * sizeof(float) > kPrefetchTableBytes;
        for (uint64_t row = first; row < last; ++row) {
            if (ahead && row + kPrefetchDistance < last) {
                __builtin_prefetch(table + ids[row + kPrefetchDistance]);
            }
            out[row] += table[ids[row]];
        }
    }

    /// Writes the pooled embedding of sample `row` to dst[0, dim()).
    void forward_row(const recprune_batch_t& batch, uint64_t row, float* dst) const {
        const float* table = table_->data();
        if (single_valued(batch)) {
            copy_floats(table + size_t{checked_id(batch, row, row)} * dim_, dst, dim_);
            return;
        }
        for (uint32_t d = 0; d < dim_; ++d) dst[d] = 0.0f;
        const auto [begin, end] = bag_range(batch, row);
        const float weight = bag_weight(begin, end);
        for (uint64_t k = begin; k < end; ++k) {
            const float* src = table + size_t{checked_id(batch, k, row)} * dim_;
            for (uint32_t d = 0; d < dim_; ++d) dst[d] += weight * src[d];
        }
    }

    /// Writes sum over the bag of (weight * v)^2, per dimension, to out[row * out_stride + d];
    /// the self-interaction part of the factorization machine over single features.
    void forward_squares(const recprune_batch_t& batch, float* out, size_t out_stride) const {
        const float* table = table_->data();
        for (uint64_t row = 0; row < batch.row_count; ++row) {
            float* dst = out + row * out_stride;
            for (uint32_t d = 0; d < dim_; ++d) dst[d] = 0.0f;
            const auto [begin, end] = bag_range(batch, row);
            const float weight = bag_weight(begin, end);
            const float weight_squared = weight * weight;
            for (uint64_t k = begin; k < end; ++k) {
                const float* src = table + size_t{checked_id(batch, k, row)} * dim_;
                for (uint32_t d = 0; d < dim_; ++d) dst[d] += weight_squared * src[d] * src[d];
            }
        }
    }

    /// Overwrites the table's grad on the rows this batch touches and lists them in ascending
    /// order in touched_rows(). See BagGradient for what each value receives.
    void backward(const recprune_batch_t& batch, const BagGradient& gradient) {
        begin_backward();
        if (single_valued(batch)) {
            check_ids(batch, 0, batch.row_count);
            switch (dim_) {
                case 1: scatter_rows<1>(batch, gradient); break;
                case 2: scatter_rows<2>(batch, gradient); break;
                case 4: scatter_rows<4>(batch, gradient); break;
                case 8: scatter_rows<8>(batch, gradient); break;
                case 16: scatter_rows<16>(batch, gradient); break;
                default: scatter_rows<0>(batch, gradient); break;
            }
            end_backward();
            return;
        }
        for (uint64_t row = 0; row < batch.row_count; ++row) {
            if (row + kPrefetchDistance < batch.row_count) {
                prefetch(batch, row + kPrefetchDistance, true, gradient.reads_values());
            }
            backward_row(batch, row, gradient);
        }
        end_backward();
    }

    /// Backward pass with the gradient `dout` [rows, dout_stride] of the pooled output only.
    void backward(const recprune_batch_t& batch, const float* dout, size_t dout_stride) {
        BagGradient gradient;
        gradient.dout = dout;
        gradient.dout_stride = dout_stride;
        backward(batch, gradient);
    }

    /// Starts a backward pass done row by row with backward_row(); end it with end_backward().
    void begin_backward() { table_->touched_rows().clear(); }

    /// Adds the gradient of sample `row` to the rows it touched. The first touch of a row in
    /// this pass writes its grad and later ones add, so no row is zeroed beforehand.
    void backward_row(const recprune_batch_t& batch, uint64_t row, const BagGradient& gradient) {
        if (single_valued(batch)) {
            // One value, so w = 1: grad[v] += dout + shared + c_sq v.
            const uint32_t id = checked_id(batch, row, row);
            float* value = scratch_.data();
            gradient.row_gradient(row, table_->data() + size_t{id} * dim_, dim_, value);
            accumulate(id, value);
            return;
        }
        const float* table = table_->data();
        float* common = scratch_.data();
        float* value = scratch_.data() + dim_;
        const auto [begin, end] = bag_range(batch, row);
        const float weight = bag_weight(begin, end);
        gradient.shared_part(row, dim_, common);
        const float square_scale = gradient.square_coefficients
                                       ? gradient.square_coefficients[row] * weight * weight
                                       : 0.0f;
        for (uint64_t k = begin; k < end; ++k) {
            const uint32_t id = checked_id(batch, k, row);
            const float* v = table + size_t{id} * dim_;
            for (uint32_t d = 0; d < dim_; ++d) value[d] = weight * common[d] + square_scale * v[d];
            accumulate(id, value);
        }
    }

    /// Ends a backward pass: sorts the touched rows into ascending order and clears their
    /// marks. The optimizer then walks each table forward instead of in the order samples met
    /// the rows. In the benchmark DeepFM that made the SGD update 23% faster and the training
    /// step 3% (1 thread) and 4% (2 threads) faster, in alternating runs.
    void end_backward() {
        std::vector<uint32_t>& touched = table_->touched_rows();
        const size_t words = touched_bits_.size();
        if (words > 4 * touched.size()) {
            // Few rows of a large table: sorting the list costs less than reading every mark.
            std::sort(touched.begin(), touched.end());
            for (uint32_t id : touched) touched_bits_[id / 64] = 0;
            return;
        }
        size_t count = 0;
        for (size_t w = 0; w < words; ++w) {
            uint64_t bits = touched_bits_[w];
            touched_bits_[w] = 0;
            while (bits != 0) {
                touched[count++] = static_cast<uint32_t>(w * 64 + std::countr_zero(bits));
                bits &= bits - 1;
            }
        }
    }

    /// Prefetches the table rows (and, for backward, the grad rows) of sample `row`, because
    /// lookups into tables larger than the cache otherwise wait on memory.
    void prefetch(const recprune_batch_t& batch, uint64_t row, bool for_backward,
                  bool reads_values) const {
        if (!single_valued(batch)) return;
        const uint32_t id = batch.ids[field_][row];
        if (id >= rows_) return;
        if (!for_backward || reads_values) __builtin_prefetch(table_->data() + size_t{id} * dim_);
        if (for_backward) __builtin_prefetch(table_->grad() + size_t{id} * dim_, 1);
    }

private:
    /// Runs backward() for a single-valued field whose ids check_ids() has checked, with rows
    /// `width` wide (0: dim_, known only at run time). A fixed width keeps a row's gradient in
    /// registers instead of a scratch row that each term stores and loads back.
    template <uint32_t width>
    void scatter_rows(const recprune_batch_t& batch, const BagGradient& gradient) {
        const uint32_t* ids = batch.ids[field_];
        const float* table = table_->data();
        float* grad = table_->grad();
        const uint32_t dim = width == 0 ? dim_ : width;
        const bool reads_values = gradient.reads_values();
        const uint64_t rows = batch.row_count;

        // The list is sized for the most rows a batch can touch and cut to length after the
        // loop, because push_back stayed a function call per first touch (2% of a step).
        std::vector<uint32_t>& touched = table_->touched_rows();
        touched.resize(std::min<uint64_t>(rows, rows_));
        size_t touched_count = 0;

        for (uint64_t row = 0; row < rows; ++row) {
            if (row + kPrefetchDistance < rows) {
                const size_t ahead = size_t{ids[row + kPrefetchDistance]} * dim;
                if (reads_values) __builtin_prefetch(table + ahead);
                __builtin_prefetch(grad + ahead, 1);
            }
            // One value, so w = 1: grad[v] += dout + shared + c_sq v.
            const uint32_t id = ids[row];
            const float* v = table + size_t{id} * dim;
            float fixed_value[width == 0 ? 1 : width];
            float* value = width == 0 ? scratch_.data() : fixed_value;
            gradient.row_gradient(row, v, dim, value);

            float* dst = grad + size_t{id} * dim;
            if (mark_touched(id)) {
                touched[touched_count++] = id;
                for (uint32_t d = 0; d < dim; ++d) dst[d] = value[d];
            } else {
                for (uint32_t d = 0; d < dim; ++d) dst[d] += value[d];
            }
        }
        touched.resize(touched_count);
    }

    /// Samples between a lookup and the prefetch of its row.
    static constexpr uint64_t kPrefetchDistance = 32;
    /// Tables of first-order weights up to this size are summed without prefetching. Sixteen
    /// of their rows share a cache line, so most lookups find the line already loaded, and
    /// prefetching the 40 KB tables of the benchmark DeepFM made their sum about 10% slower.
    static constexpr size_t kPrefetchTableBytes = size_t{1} << 20;

    /// Copies the table row of each sample in [first, last) of a single-valued field to
    /// out[row * out_stride], after check_ids(). `width` is dim() when dim() is 1, 2, 4, 8 or
    /// 16, so each copy is a fixed number of moves, and 0 for any other width.
    template <uint32_t width>
    void gather_rows(const recprune_batch_t& batch, uint64_t first, uint64_t last, float* out,
                     size_t out_stride) const {
        const uint32_t* ids = batch.ids[field_];
        const float* table = table_->data();
        const uint32_t dim = width == 0 ? dim_ : width;
        // Table rows are prefetched whatever the table size. A model's tables together
        // outgrow the L2 cache (26 fields of 10,000 rows take 16.6 MB at 16 wide), so each
        // field's pass finds its table evicted by the other fields' passes. In alternating
        // runs the prefetch made the benchmark DeepFM's forward pass 9 to 10% faster (dense)
        // and 0 to 5% faster (compacted to 8 wide, 1 and 2 threads). The output rows are prefetched for writing, because a
        // field's pass writes a few bytes into each row of a block that the other fields'
        // passes partly evicted (about 5% of the 4-wide compacted forward pass).
        for (uint64_t row = first; row < last; ++row) {
            if (row + kPrefetchDistance < last) {
                __builtin_prefetch(table + size_t{ids[row + kPrefetchDistance]} * dim);
                __builtin_prefetch(out + (row + kPrefetchDistance) * out_stride, 1);
            }
            const float* from = table + size_t{ids[row]} * dim;
            float* to = out + row * out_stride;
            if constexpr (width == 0) {
                copy_floats(from, to, dim);
            } else {
                for (uint32_t d = 0; d < width; ++d) to[d] = from[d];
            }
        }
    }

    /// Throws InvalidArgument for the first id of a single-valued field outside the table
    /// among the samples [first, last).
    void check_ids(const recprune_batch_t& batch, uint64_t first, uint64_t last) const {
        const uint32_t* ids = batch.ids[field_];
        // An OR of comparisons, not a running maximum: the x86-64 baseline the project builds
        // for has no unsigned vector maximum (SSE4.1), and a micro-benchmark of 4096 ids ran
        // about three times slower with the emulated one.
        uint32_t outside = 0;
        for (uint64_t row = first; row < last; ++row) outside |= ids[row] >= rows_ ? 1u : 0u;
        if (outside == 0) return;
        for (uint64_t row = first; row < last; ++row) checked_id(batch, row, row);
    }

    /// Marks row `id` as touched in this pass; returns true when it was not marked yet.
    bool mark_touched(uint32_t id) {
        uint64_t& word = touched_bits_[id / 64];
        const uint64_t bit = uint64_t{1} << (id % 64);
        const bool first = (word & bit) == 0;
        word |= bit;
        return first;
    }

    void accumulate(uint32_t id, const float* value) {
        float* dst = table_->grad() + size_t{id} * dim_;
        if (mark_touched(id)) {
            table_->touched_rows().push_back(id);
            copy_floats(value, dst, dim_);
        } else {
            for (uint32_t d = 0; d < dim_; ++d) dst[d] += value[d];
        }
    }

    bool single_valued(const recprune_batch_t& batch) const {
        return batch.offsets == nullptr || batch.offsets[field_] == nullptr;
    }

    std::pair<uint64_t, uint64_t> bag_range(const recprune_batch_t& batch, uint64_t row) const {
        const uint64_t* offsets = batch.offsets ? batch.offsets[field_] : nullptr;
        if (offsets == nullptr) return {row, row + 1};
        return {offsets[row], offsets[row + 1]};
    }

    float bag_weight(uint64_t begin, uint64_t end) const {
        if (pooling_ == Pooling::Sum || end <= begin) return 1.0f;
        return 1.0f / static_cast<float>(end - begin);
    }

    uint32_t checked_id(const recprune_batch_t& batch, uint64_t k, uint64_t row) const {
        const uint32_t id = batch.ids[field_][k];
        if (id >= rows_) [[unlikely]] throw_bad_id(id, row);
        return id;
    }

    [[noreturn]] void throw_bad_id(uint32_t id, uint64_t row) const {
        throw InvalidArgument("invalid batch: field " + std::to_string(field_) + " (" +
                              table_->name() + "): id " + std::to_string(id) + " at row " +
                              std::to_string(row) + " is outside the table of " +
                              std::to_string(rows_) + " rows; remap ids with the "
                              "vocabulary the model was built for");
    }

    Tensor* table_;
    uint32_t field_;
    Pooling pooling_;
    uint32_t rows_;
    uint32_t dim_;
    /// One bit per row, set while backward() runs for the rows already in touched_rows().
    std::vector<uint64_t> touched_bits_;
    /// Per-row work space of backward_row(), 2 x dim floats.
    std::vector<float> scratch_;
};

}  // namespace recprune::nn
