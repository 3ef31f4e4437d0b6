#include "prune/prune_context.hpp"

#include "core/hash.hpp"

#include <algorithm>
#include <cstring>
#include <exception>

namespace recprune::prune {
namespace {

// Runs `fn` and turns a host exception into a status for the plugin, which is on the other
// side of the C boundary and must not see a C++ exception.
template <typename Fn>
recprune_status_t guarded(recprune_error_t* error, Fn&& fn) noexcept {
    try {
        fn();
        return RECPRUNE_STATUS_OK;
    } catch (const std::exception& e) {
        if (error != nullptr && error->set != nullptr) error->set(error->host_data, e.what());
        return RECPRUNE_STATUS_RUNTIME_ERROR;
    }
}

}  // namespace

PruneContextBuilder::PruneContextBuilder(train::Trainer& trainer,
                                         const data::PreparedData& data, const UnitSet& units,
                                         const MaskSet& masks, uint64_t seed)
    : trainer_(trainer), data_(data), seed_(seed), units_json_(units.units_json()) {
    const data::Part& train = data.train;
    for (size_t f = 0; f < data.fields.size(); ++f) {
        id_pointers_.push_back(train.ids[f].data());
        offset_pointers_.push_back(train.offsets[f].empty() ? nullptr : train.offsets[f].data());
        vocabulary_sizes_.push_back(data.fields[f].vocabulary_size);
        field_names_.push_back(data.fields[f].name.c_str());
    }
    data_view_.struct_size = sizeof(data_view_);
    data_view_.field_count = static_cast<uint32_t>(data.fields.size());
    data_view_.row_count = train.row_count;
    data_view_.ids = id_pointers_.data();
    data_view_.offsets = offset_pointers_.data();
    data_view_.vocabulary_sizes = vocabulary_sizes_.data();
    data_view_.field_names = field_names_.data();
    data_view_.labels = train.labels.data();

    auto tensors = trainer.model().tensors();
    context_.struct_size = sizeof(context_);
    context_.granularity = units.granularity();
    context_.seed = seed;
    context_.unit_count = units.size();
    context_.units_json = units_json_.c_str();
    context_.tensors = tensors.data();
    context_.tensor_count = static_cast<uint32_t>(tensors.size());
    context_.masks = masks.mask_pointers();
    context_.structure_json = trainer.model().structure_json().c_str();
    context_.train_data = &data_view_;
    context_.host_data = this;
    context_.gradient_pass = &PruneContextBuilder::gradient_pass;
    context_.evaluate_permuted = &PruneContextBuilder::evaluate_permuted;
    context_.field_embeddings = &PruneContextBuilder::field_embeddings;
}

recprune_status_t PruneContextBuilder::gradient_pass(void* host_data, uint32_t batch_count,
                                                     recprune_gradient_visitor_fn visitor,
                                                     void* user_data, recprune_error_t* error) {
    auto* self = static_cast<PruneContextBuilder*>(host_data);
    return guarded(error, [&] {
        // Each call draws fresh batches, still from the cell's seed only.
        uint64_t seed = derive_seed(self->seed_, "calibration:" +
                                                     std::to_string(self->gradient_passes_++));
        auto tensors = self->trainer_.model().tensors();
        self->trainer_.gradient_pass(batch_count, seed, [&](const recprune_batch_t& batch) {
            visitor(user_data, tensors.data(), static_cast<uint32_t>(tensors.size()), &batch);
        });
    });
}

recprune_status_t PruneContextBuilder::evaluate_permuted(void* host_data, uint32_t field,
                                                         uint64_t permutation_seed,
                                                         double* value,
                                                         recprune_error_t* error) {
    auto* self = static_cast<PruneContextBuilder*>(host_data);
    return guarded(error,
                   [&] { *value = self->trainer_.evaluate_permuted(field, permutation_seed); });
}

recprune_status_t PruneContextBuilder::field_embeddings(void* host_data, uint64_t first_row,
                                                        uint64_t row_count, float* out,
                                                        uint32_t* width,
                                                        recprune_error_t* error) {
    auto* self = static_cast<PruneContextBuilder*>(host_data);
    return guarded(error, [&] {
        const data::Part& train = self->data_.train;
        if (first_row > train.row_count || row_count > train.row_count - first_row) {
            throw std::out_of_range("field embeddings: rows [" + std::to_string(first_row) +
                                    ", " + std::to_string(first_row + row_count) +
                                    ") are outside the " + std::to_string(train.row_count) +
                                    " training rows");
        }
        auto tensors = self->trainer_.model().tensors();
        const uint32_t field_count = static_cast<uint32_t>(self->data_.fields.size());

        // The widest embedding table sets the row width; narrower fields are zero-padded.
        uint32_t max_width = 0;
        std::vector<const recprune_tensor_t*> table(field_count, nullptr);
        for (const auto& tensor : tensors) {
            if (tensor.role != RECPRUNE_TENSOR_ROLE_EMBEDDING || tensor.rank != 2) continue;
            if (tensor.field >= field_count) continue;
            // The widest table of a field represents it (a 1-wide linear table loses to the
            // embedding of a factorization model).
            if (table[tensor.field] == nullptr || tensor.shape[1] > table[tensor.field]->shape[1]) {
                table[tensor.field] = &tensor;
            }
            max_width = std::max<uint32_t>(max_width, static_cast<uint32_t>(tensor.shape[1]));
        }
        *width = max_width;
        std::memset(out, 0, sizeof(float) * field_count * row_count * max_width);

        // Sum pooling over a multi-hot field's values, as the models pool by default.
        for (uint32_t f = 0; f < field_count; ++f) {
            const recprune_tensor_t* tensor = table[f];
            if (tensor == nullptr) continue;
            const uint64_t dims = tensor->shape[1];
            for (uint64_t r = 0; r < row_count; ++r) {
                uint64_t row = first_row + r;
                float* target = out + (uint64_t{f} * row_count + r) * max_width;
                uint64_t begin = row;
                uint64_t end = row + 1;
                if (!train.offsets[f].empty()) {
                    begin = train.offsets[f][row];
                    end = train.offsets[f][row + 1];
                }
                for (uint64_t k = begin; k < end; ++k) {
                    const float* source = tensor->data + uint64_t{train.ids[f][k]} * dims;
                    for (uint64_t d = 0; d < dims; ++d) target[d] += source[d];
                }
            }
        }
    });
}

}  // namespace recprune::prune
