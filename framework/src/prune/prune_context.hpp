// The recprune_prune_context_t a pruner receives: the model's tensors and masks, the unit
// layout, the training data, and host services (calibration gradients, permuted evaluation,
// field embeddings) bound to the cell's trainer.
#pragma once

#include "prune/masks.hpp"
#include "prune/units.hpp"
#include "train/trainer.hpp"

#include <string>
#include <vector>

namespace recprune::prune {

class PruneContextBuilder {
public:
    PruneContextBuilder(train::Trainer& trainer, const data::PreparedData& data,
                        const UnitSet& units, const MaskSet& masks, uint64_t seed);
    PruneContextBuilder(const PruneContextBuilder&) = delete;
    PruneContextBuilder& operator=(const PruneContextBuilder&) = delete;

    /// The context; valid while this builder, the trainer, the units and the masks live.
    const recprune_prune_context_t& context() const { return context_; }

private:
    static recprune_status_t gradient_pass(void* host_data, uint32_t batch_count,
                                           recprune_gradient_visitor_fn visitor,
                                           void* user_data, recprune_error_t* error);
    static recprune_status_t evaluate_permuted(void* host_data, uint32_t field,
                                               uint64_t permutation_seed, double* value,
                                               recprune_error_t* error);
    static recprune_status_t field_embeddings(void* host_data, uint64_t first_row,
                                              uint64_t row_count, float* out, uint32_t* width,
                                              recprune_error_t* error);

    train::Trainer& trainer_;
    const data::PreparedData& data_;
    uint64_t seed_;
    uint32_t gradient_passes_ = 0;
    std::string units_json_;
    std::vector<const uint32_t*> id_pointers_;
    std::vector<const uint64_t*> offset_pointers_;
    std::vector<uint32_t> vocabulary_sizes_;
    std::vector<const char*> field_names_;
    recprune_data_view_t data_view_{};
    recprune_prune_context_t context_{};
};

}  // namespace recprune::prune
