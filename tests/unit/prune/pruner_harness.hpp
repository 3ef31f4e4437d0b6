// Drives a built pruner plugin through its C ABI for the pruner tests: loads the shared library
// from the build's plugin folder, creates the pruner, and requests scores with a prune
// context made from hand-made tensors. The host services of the context (calibration gradients,
// permuted evaluation, field embeddings) are fixtures the test fills with known values.
#pragma once

#include "prune/masks.hpp"
#include "prune/units.hpp"
#include "prune_fixtures.hpp"

#include "recprune/abi.h"

#include <dlfcn.h>

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace recprune::prune::testing {

/// Returns the path of a built plugin, librecprune_pruner_<name>.so in the build's plugin folder.
inline std::string pruner_plugin_path(const std::string& name) {
    return std::string(RECPRUNE_TEST_PLUGIN_DIR) + "/librecprune_pruner_" + name + ".so";
}

/// A pruner plugin loaded with dlopen and created through its descriptor.
class PluginPruner {
public:
    PluginPruner(const std::string& name, const std::string& params_json, uint64_t seed = 1) {
        std::string path = pruner_plugin_path(name);
        library_ = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
        if (library_ == nullptr) {
            throw std::runtime_error("cannot load " + path + ": " + dlerror());
        }
        auto entry = reinterpret_cast<recprune_entry_fn>(dlsym(library_, RECPRUNE_ENTRY_SYMBOL));
        if (entry == nullptr) throw std::runtime_error("no entry symbol in " + path);
        descriptor_ = entry(RECPRUNE_ABI_MAJOR, RECPRUNE_ABI_MINOR);
        if (descriptor_ == nullptr || descriptor_->pruner == nullptr) {
            throw std::runtime_error(path + " is not a pruner plugin");
        }
        check(descriptor_->pruner->create(nullptr, params_json.c_str(), seed, &handle_, error()));
    }

    ~PluginPruner() {
        if (handle_ != nullptr) descriptor_->pruner->destroy(handle_);
        if (library_ != nullptr) dlclose(library_);
    }

    PluginPruner(const PluginPruner&) = delete;
    PluginPruner& operator=(const PluginPruner&) = delete;

    const recprune_plugin_descriptor_t& descriptor() const { return *descriptor_; }

    recprune_pruner_info_t info() {
        recprune_pruner_info_t info{};
        check(descriptor_->pruner->get_info(handle_, &info, error()));
        return info;
    }

    std::vector<double> score(const recprune_prune_context_t& context) {
        std::vector<double> scores(context.unit_count, -1.0);
        check(descriptor_->pruner->score(handle_, &context, scores.data(), error()));
        return scores;
    }

    void regularize(std::span<const recprune_tensor_t> tensors, const std::string& structure) {
        check(descriptor_->pruner->regularize(handle_, tensors.data(),
                                              static_cast<uint32_t>(tensors.size()),
                                              structure.c_str(), error()));
    }

private:
    recprune_error_t* error() {
        message_.clear();
        error_ = recprune_error_t{&message_, [](void* data, const char* text) {
                                      *static_cast<std::string*>(data) = text ? text : "";
                                  }};
        return &error_;
    }

    void check(recprune_status_t status) {
        if (status != RECPRUNE_STATUS_OK) {
            throw std::runtime_error("status " + std::to_string(status) + ": " + message_);
        }
    }

    void* library_ = nullptr;
    const recprune_plugin_descriptor_t* descriptor_ = nullptr;
    recprune_pruner_t handle_ = nullptr;
    std::string message_;
    recprune_error_t error_{};
};

/// Training data for the data view, one id vector per field. `offsets` is empty, or has one
/// entry per field: empty for a single-valued field, row_count + 1 offsets for a multi-hot one.
struct FixtureData {
    std::vector<std::string> field_names;
    std::vector<uint32_t> vocabulary_sizes;
    std::vector<std::vector<uint32_t>> ids;
    std::vector<std::vector<uint64_t>> offsets;
    std::vector<float> labels;
};

/// A prune context over hand-made tensors with fixture host services.
class FixtureContext {
public:
    /// Called once per calibration batch before the visitor: writes the batch's gradients.
    using GradientFn = std::function<void(uint32_t batch)>;
    /// Returns the validation metric with `field` permuted (RECPRUNE_NO_FIELD: unpermuted).
    using EvaluateFn = std::function<double(uint32_t field, uint64_t permutation_seed)>;
    /// Writes [field_count, row_count, width] pooled embeddings and returns the width.
    using EmbeddingFn = std::function<uint32_t(uint64_t first_row, uint64_t row_count, float*)>;

    FixtureContext(OwnedModel& model, const UnitSet& units, const MaskSet& masks,
                   std::string structure_json, uint64_t seed = 1)
        : units_json_(units.units_json()), structure_json_(std::move(structure_json)) {
        views_ = model.views();
        context_.struct_size = sizeof(context_);
        context_.granularity = units.granularity();
        context_.seed = seed;
        context_.unit_count = units.size();
        context_.units_json = units_json_.c_str();
        context_.tensors = views_.data();
        context_.tensor_count = static_cast<uint32_t>(views_.size());
        context_.masks = masks.mask_pointers();
        context_.structure_json = structure_json_.c_str();
        context_.host_data = this;
        context_.gradient_pass = &FixtureContext::gradient_pass;
        context_.evaluate_permuted = &FixtureContext::evaluate_permuted;
        context_.field_embeddings = &FixtureContext::field_embeddings;
        set_data(FixtureData{});
    }

    FixtureContext(const FixtureContext&) = delete;
    FixtureContext& operator=(const FixtureContext&) = delete;

    void set_data(FixtureData data) {
        data_ = std::move(data);
        id_pointers_.clear();
        offset_pointers_.assign(data_.ids.size(), nullptr);
        name_pointers_.clear();
        for (const auto& ids : data_.ids) id_pointers_.push_back(ids.data());
        for (size_t field = 0; field < data_.offsets.size(); ++field) {
            if (!data_.offsets[field].empty()) offset_pointers_[field] = data_.offsets[field].data();
        }
        for (const auto& name : data_.field_names) name_pointers_.push_back(name.c_str());
        view_ = recprune_data_view_t{};
        view_.struct_size = sizeof(view_);
        view_.field_count = static_cast<uint32_t>(data_.ids.size());
        view_.row_count = data_.labels.size();
        view_.ids = id_pointers_.data();
        view_.offsets = offset_pointers_.data();
        view_.vocabulary_sizes = data_.vocabulary_sizes.data();
        view_.field_names = name_pointers_.data();
        view_.labels = data_.labels.data();
        context_.train_data = &view_;
    }

    void set_gradients(GradientFn fn) { gradients_ = std::move(fn); }
    void set_evaluate(EvaluateFn fn) { evaluate_ = std::move(fn); }
    void set_embeddings(EmbeddingFn fn) { embeddings_ = std::move(fn); }

    uint32_t gradient_batches_run() const { return batches_run_; }
    const recprune_prune_context_t& context() const { return context_; }

private:
    static FixtureContext& self(void* host_data) { return *static_cast<FixtureContext*>(host_data); }

    static void fail(recprune_error_t* error, const char* message) {
        if (error != nullptr && error->set != nullptr) error->set(error->host_data, message);
    }

    static recprune_status_t gradient_pass(void* host_data, uint32_t batch_count,
                                           recprune_gradient_visitor_fn visitor, void* user_data,
                                           recprune_error_t* error) {
        FixtureContext& fixture = self(host_data);
        if (!fixture.gradients_) {
            fail(error, "gradient pass: no fixture gradients set");
            return RECPRUNE_STATUS_NOT_SUPPORTED;
        }
        // Every calibration batch is the whole fixture data set.
        recprune_batch_t batch{};
        batch.struct_size = sizeof(batch);
        batch.field_count = fixture.view_.field_count;
        batch.row_count = fixture.view_.row_count;
        batch.ids = fixture.view_.ids;
        batch.offsets = fixture.view_.offsets;
        batch.labels = fixture.view_.labels;
        for (uint32_t index = 0; index < batch_count; ++index) {
            fixture.gradients_(index);
            ++fixture.batches_run_;
            visitor(user_data, fixture.views_.data(), static_cast<uint32_t>(fixture.views_.size()),
                    &batch);
        }
        return RECPRUNE_STATUS_OK;
    }

    static recprune_status_t evaluate_permuted(void* host_data, uint32_t field,
                                               uint64_t permutation_seed, double* value,
                                               recprune_error_t* error) {
        FixtureContext& fixture = self(host_data);
        if (!fixture.evaluate_) {
            fail(error, "permuted evaluation: no fixture metric set");
            return RECPRUNE_STATUS_NOT_SUPPORTED;
        }
        *value = fixture.evaluate_(field, permutation_seed);
        return RECPRUNE_STATUS_OK;
    }

    static recprune_status_t field_embeddings(void* host_data, uint64_t first_row,
                                              uint64_t row_count, float* out, uint32_t* width,
                                              recprune_error_t* error) {
        FixtureContext& fixture = self(host_data);
        if (!fixture.embeddings_) {
            fail(error, "field embeddings: no fixture embeddings set");
            return RECPRUNE_STATUS_NOT_SUPPORTED;
        }
        *width = fixture.embeddings_(first_row, row_count, out);
        return RECPRUNE_STATUS_OK;
    }

    std::vector<recprune_tensor_t> views_;
    std::string units_json_;
    std::string structure_json_;
    FixtureData data_;
    std::vector<const uint32_t*> id_pointers_;
    std::vector<const uint64_t*> offset_pointers_;
    std::vector<const char*> name_pointers_;
    recprune_data_view_t view_{};
    GradientFn gradients_;
    EvaluateFn evaluate_;
    EmbeddingFn embeddings_;
    uint32_t batches_run_ = 0;
    recprune_prune_context_t context_{};
};

}  // namespace recprune::prune::testing
