// Embedding-bag lookup for one field: single-valued fields read one row per sample, multi-hot
// fields pool their rows by sum or mean. The backward pass writes the gradient only on the rows
// the batch touched and lists them in Tensor::touched_rows(), so the host updates sparsely.
#pragma once

#include "recprune/sdk.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace recprune::nn {

enum class Pooling { Sum, Mean };

/// Parses the "pooling" parameter ("sum" or "mean").
inline Pooling parse_pooling(const std::string& name) {
    if (name == "sum") return Pooling::Sum;
    if (name == "mean") return Pooling::Mean;
    throw InvalidArgument("invalid parameter: pooling: \"" + name +
                          "\" is not one of sum, mean; pick one of those");
}

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
          touched_mark_(rows_, 0) {}

    uint32_t field() const { return field_; }
    uint32_t dim() const { return dim_; }
    uint32_t rows() const { return rows_; }
    Tensor& table() { return *table_; }

    /// Writes the pooled embedding of each sample to out[row * out_stride + d], d < dim().
    /// Throws InvalidArgument when an id is outside the table.
    void forward(const recprune_batch_t& batch, float* out, size_t out_stride) const {
        const float* table = table_->data();
        for (uint64_t row = 0; row < batch.row_count; ++row) {
            float* dst = out + row * out_stride;
            for (uint32_t d = 0; d < dim_; ++d) dst[d] = 0.0f;
            const auto [begin, end] = bag_range(batch, row);
            const float weight = bag_weight(begin, end);
            for (uint64_t k = begin; k < end; ++k) {
                const float* src = table + static_cast<size_t>(checked_id(batch, k, row)) * dim_;
                for (uint32_t d = 0; d < dim_; ++d) dst[d] += weight * src[d];
            }
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
                const float* src = table + static_cast<size_t>(checked_id(batch, k, row)) * dim_;
                for (uint32_t d = 0; d < dim_; ++d) dst[d] += weight_squared * src[d] * src[d];
            }
        }
    }

    /// Overwrites the table's grad on the rows this batch touches and lists them (in order of
    /// first appearance) in touched_rows(). For each value j with pooling weight w_j of a
    /// sample: grad[j] += w_j * dout[row] + c[row] * w_j^2 * v_j, where c = square_coefficients
    /// (NULL means 0; it carries the gradient of forward_squares()).
    void backward(const recprune_batch_t& batch, const float* dout, size_t dout_stride,
                  const float* square_coefficients = nullptr) {
        std::vector<uint32_t>& touched = table_->touched_rows();
        touched.clear();
        const float* table = table_->data();
        float* grad = table_->grad();
        for (uint64_t row = 0; row < batch.row_count; ++row) {
            const float* g = dout + row * dout_stride;
            const auto [begin, end] = bag_range(batch, row);
            const float weight = bag_weight(begin, end);
            const float square_scale =
                square_coefficients ? square_coefficients[row] * weight * weight : 0.0f;
            for (uint64_t k = begin; k < end; ++k) {
                const uint32_t id = checked_id(batch, k, row);
                float* dst = grad + static_cast<size_t>(id) * dim_;
                if (touched_mark_[id] == 0) {
                    touched_mark_[id] = 1;
                    touched.push_back(id);
                    for (uint32_t d = 0; d < dim_; ++d) dst[d] = 0.0f;
                }
                if (square_scale != 0.0f) {
                    const float* v = table + static_cast<size_t>(id) * dim_;
                    for (uint32_t d = 0; d < dim_; ++d) {
                        dst[d] += weight * g[d] + square_scale * v[d];
                    }
                } else {
                    for (uint32_t d = 0; d < dim_; ++d) dst[d] += weight * g[d];
                }
            }
        }
        // Reset only the marks set above, so a backward pass costs O(batch), not O(rows).
        for (uint32_t id : touched) touched_mark_[id] = 0;
    }

private:
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
        if (id >= rows_) {
            throw InvalidArgument("invalid batch: field " + std::to_string(field_) + " (" +
                                  table_->name() + "): id " + std::to_string(id) + " at row " +
                                  std::to_string(row) + " is outside the table of " +
                                  std::to_string(rows_) + " rows; remap ids with the "
                                  "vocabulary the model was built for");
        }
        return id;
    }

    Tensor* table_;
    uint32_t field_;
    Pooling pooling_;
    uint32_t rows_;
    uint32_t dim_;
    /// 1 for rows already in touched_rows() during backward(), 0 otherwise.
    std::vector<uint8_t> touched_mark_;
};

}  // namespace recprune::nn
