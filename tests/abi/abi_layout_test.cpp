// The ABI 1.0 memory layout, frozen. A plugin built against an older abi.h reads and writes
// these offsets, so a field moved, resized or inserted in the middle breaks every such plugin
// without a compile error. Growing a struct by appending stays allowed: only offsets and the
// 1.0 sizes (the minimum a plugin may declare) are checked.
//
// The expected numbers follow from the C layout rules of the LP64 data model (Linux and macOS
// on x86-64 and AArch64): 8-byte pointers, uint64_t and double aligned to 8, every enum 4
// bytes because each ends with a 0x7fff value. Other data models skip these checks.
#include "recprune/abi.h"
#include "recprune/sdk.hpp"

#include <doctest/doctest.h>

#include <cstddef>
#include <new>
#include <stdexcept>
#include <string>
#include <utility>

namespace {

constexpr bool kLp64 = sizeof(void*) == 8 && sizeof(long) == 8;

}  // namespace

TEST_CASE("abi layout: every enum is four bytes") {
    CHECK(sizeof(recprune_status_t) == 4);
    CHECK(sizeof(recprune_kind_t) == 4);
    CHECK(sizeof(recprune_log_level_t) == 4);
    CHECK(sizeof(recprune_column_type_t) == 4);
    CHECK(sizeof(recprune_column_role_t) == 4);
    CHECK(sizeof(recprune_tensor_role_t) == 4);
    CHECK(sizeof(recprune_granularity_t) == 4);
}

TEST_CASE("abi layout: enumerator values are fixed") {
    // Values a plugin compiled against ABI 1.0 sends and receives as plain integers.
    CHECK(RECPRUNE_STATUS_OK == 0);
    CHECK(RECPRUNE_STATUS_INVALID_ARGUMENT == 1);
    CHECK(RECPRUNE_STATUS_DATA_ERROR == 2);
    CHECK(RECPRUNE_STATUS_NOT_SUPPORTED == 3);
    CHECK(RECPRUNE_STATUS_OUT_OF_MEMORY == 4);
    CHECK(RECPRUNE_STATUS_NUMERICAL_ERROR == 5);
    CHECK(RECPRUNE_STATUS_RUNTIME_ERROR == 6);
    CHECK(RECPRUNE_KIND_DATASET == 1);
    CHECK(RECPRUNE_KIND_MODEL == 2);
    CHECK(RECPRUNE_KIND_PRUNER == 3);
    CHECK(RECPRUNE_TENSOR_ROLE_EMBEDDING == 1);
    CHECK(RECPRUNE_TENSOR_ROLE_DENSE_WEIGHT == 2);
    CHECK(RECPRUNE_TENSOR_ROLE_BIAS == 3);
    CHECK(RECPRUNE_TENSOR_ROLE_OTHER == 4);
    CHECK(RECPRUNE_GRANULARITY_WEIGHT == 1);
    CHECK(RECPRUNE_GRANULARITY_NEURON == 2);
    CHECK(RECPRUNE_GRANULARITY_EMBEDDING_ROW == 3);
    CHECK(RECPRUNE_GRANULARITY_EMBEDDING_DIM == 4);
    CHECK(RECPRUNE_GRANULARITY_FIELD == 5);
    CHECK(RECPRUNE_COLUMN_ROLE_FEATURE == 1);
    CHECK(RECPRUNE_COLUMN_ROLE_LABEL == 2);
    CHECK(RECPRUNE_COLUMN_ROLE_USER == 4);
    CHECK(RECPRUNE_COLUMN_ROLE_ITEM == 8);
    CHECK(RECPRUNE_COLUMN_ROLE_TIMESTAMP == 16);
    CHECK(std::string(RECPRUNE_ENTRY_SYMBOL) == "recprune_plugin_entry");
}

TEST_CASE("abi layout: descriptor and host services") {
    if (!kLp64) return;
    using D = recprune_plugin_descriptor_t;
    CHECK(offsetof(D, struct_size) == 0);
    CHECK(offsetof(D, abi_major) == 4);
    CHECK(offsetof(D, abi_minor) == 6);
    CHECK(offsetof(D, kind) == 8);
    CHECK(offsetof(D, name) == 16);
    CHECK(offsetof(D, version) == 24);
    CHECK(offsetof(D, description) == 32);
    CHECK(offsetof(D, parameter_schema_json) == 40);
    CHECK(offsetof(D, dataset) == 48);
    CHECK(offsetof(D, model) == 56);
    CHECK(offsetof(D, pruner) == 64);
    CHECK(sizeof(D) >= 72);

    using H = recprune_host_t;
    CHECK(offsetof(H, struct_size) == 0);
    CHECK(offsetof(H, abi_major) == 4);
    CHECK(offsetof(H, abi_minor) == 6);
    CHECK(offsetof(H, host_data) == 8);
    CHECK(offsetof(H, log) == 16);
    CHECK(offsetof(H, log_enabled) == 24);
    CHECK(offsetof(H, allocate) == 32);
    CHECK(offsetof(H, deallocate) == 40);
    CHECK(sizeof(H) >= 48);

    CHECK(offsetof(recprune_error_t, host_data) == 0);
    CHECK(offsetof(recprune_error_t, set) == 8);
    CHECK(sizeof(recprune_error_t) == 16);
}

TEST_CASE("abi layout: dataset structs") {
    if (!kLp64) return;
    using C = recprune_column_t;
    CHECK(offsetof(C, type) == 4);
    CHECK(offsetof(C, roles) == 8);
    CHECK(offsetof(C, name) == 16);
    CHECK(offsetof(C, numeric) == 24);
    CHECK(offsetof(C, keys) == 32);
    CHECK(offsetof(C, offsets) == 40);
    CHECK(offsetof(C, value_count) == 48);
    CHECK(sizeof(C) >= 56);

    using T = recprune_table_t;
    CHECK(offsetof(T, column_count) == 4);
    CHECK(offsetof(T, row_count) == 8);
    CHECK(offsetof(T, columns) == 16);
    CHECK(offsetof(T, metadata_json) == 24);
    CHECK(sizeof(T) >= 32);

    using A = recprune_dataset_api_t;
    CHECK(offsetof(A, create) == 8);
    CHECK(offsetof(A, destroy) == 16);
    CHECK(offsetof(A, list_sources) == 24);
    CHECK(offsetof(A, load) == 32);
    CHECK(sizeof(A) >= 40);
}

TEST_CASE("abi layout: model structs") {
    if (!kLp64) return;
    using T = recprune_tensor_t;
    CHECK(offsetof(T, role) == 4);
    CHECK(offsetof(T, name) == 8);
    CHECK(offsetof(T, rank) == 16);
    CHECK(offsetof(T, field) == 20);
    CHECK(offsetof(T, shape) == 24);
    CHECK(offsetof(T, element_count) == 56);
    CHECK(offsetof(T, data) == 64);
    CHECK(offsetof(T, grad) == 72);
    CHECK(sizeof(T) >= 80);

    using B = recprune_batch_t;
    CHECK(offsetof(B, field_count) == 4);
    CHECK(offsetof(B, row_count) == 8);
    CHECK(offsetof(B, ids) == 16);
    CHECK(offsetof(B, offsets) == 24);
    CHECK(offsetof(B, dense) == 32);
    CHECK(offsetof(B, dense_count) == 40);
    CHECK(offsetof(B, labels) == 48);
    CHECK(sizeof(B) >= 56);

    using K = recprune_model_cost_t;
    CHECK(offsetof(K, parameter_count) == 8);
    CHECK(offsetof(K, nonzero_parameter_count) == 16);
    CHECK(offsetof(K, flops_per_sample_dense) == 24);
    CHECK(offsetof(K, flops_per_sample_nonzero) == 32);
    CHECK(sizeof(K) >= 40);

    using M = recprune_model_api_t;
    CHECK(offsetof(M, create) == 8);
    CHECK(offsetof(M, destroy) == 16);
    CHECK(offsetof(M, get_tensors) == 24);
    CHECK(offsetof(M, get_structure) == 32);
    CHECK(offsetof(M, forward) == 40);
    CHECK(offsetof(M, backward) == 48);
    CHECK(offsetof(M, touched_rows) == 56);
    CHECK(offsetof(M, cost) == 64);
    CHECK(offsetof(M, compact) == 72);
    CHECK(offsetof(M, save) == 80);
    CHECK(offsetof(M, load) == 88);
    CHECK(sizeof(M) >= 96);
}

TEST_CASE("abi layout: pruner structs") {
    if (!kLp64) return;
    using V = recprune_data_view_t;
    CHECK(offsetof(V, field_count) == 4);
    CHECK(offsetof(V, row_count) == 8);
    CHECK(offsetof(V, ids) == 16);
    CHECK(offsetof(V, offsets) == 24);
    CHECK(offsetof(V, vocabulary_sizes) == 32);
    CHECK(offsetof(V, field_names) == 40);
    CHECK(offsetof(V, labels) == 48);
    CHECK(sizeof(V) >= 56);

    using P = recprune_prune_context_t;
    CHECK(offsetof(P, granularity) == 4);
    CHECK(offsetof(P, seed) == 8);
    CHECK(offsetof(P, unit_count) == 16);
    CHECK(offsetof(P, units_json) == 24);
    CHECK(offsetof(P, tensors) == 32);
    CHECK(offsetof(P, tensor_count) == 40);
    CHECK(offsetof(P, masks) == 48);
    CHECK(offsetof(P, structure_json) == 56);
    CHECK(offsetof(P, train_data) == 64);
    CHECK(offsetof(P, host_data) == 72);
    CHECK(offsetof(P, gradient_pass) == 80);
    CHECK(offsetof(P, evaluate_permuted) == 88);
    CHECK(offsetof(P, field_embeddings) == 96);
    CHECK(sizeof(P) >= 104);

    using I = recprune_pruner_info_t;
    CHECK(offsetof(I, granularity) == 4);
    CHECK(offsetof(I, per_tensor) == 8);
    CHECK(offsetof(I, has_regularizer) == 12);
    CHECK(sizeof(I) >= 16);

    using A = recprune_pruner_api_t;
    CHECK(offsetof(A, create) == 8);
    CHECK(offsetof(A, destroy) == 16);
    CHECK(offsetof(A, get_info) == 24);
    CHECK(offsetof(A, score) == 32);
    CHECK(offsetof(A, regularize) == 40);
    CHECK(sizeof(A) >= 48);
}

// ---- the SDK side of the boundary ------------------------------------------------------------

namespace {

struct CapturedError {
    std::string message;
    bool called = false;
    recprune_error_t sink{this, [](void* data, const char* text) {
                              auto* self = static_cast<CapturedError*>(data);
                              self->called = true;
                              self->message = text != nullptr ? text : "";
                          }};
};

template <typename Fn>
recprune_status_t guarded(CapturedError& error, Fn&& fn) {
    return recprune::detail::guard(&error.sink, std::forward<Fn>(fn));
}

}  // namespace

TEST_CASE("sdk boundary: exceptions become a status and a message") {
    SUBCASE("success sets no message") {
        CapturedError error;
        CHECK(guarded(error, [] {}) == RECPRUNE_STATUS_OK);
        CHECK_FALSE(error.called);
    }
    SUBCASE("an SDK error keeps its status") {
        CapturedError error;
        CHECK(guarded(error, [] { throw recprune::InvalidData("malformed data: f:3: bad"); }) ==
              RECPRUNE_STATUS_DATA_ERROR);
        CHECK(error.message == "malformed data: f:3: bad");
        CapturedError numerical;
        CHECK(guarded(numerical, [] { throw recprune::NumericalError("loss is NaN"); }) ==
              RECPRUNE_STATUS_NUMERICAL_ERROR);
        CHECK(numerical.message == "loss is NaN");
    }
    SUBCASE("a JSON error is an invalid argument") {
        CapturedError error;
        CHECK(guarded(error, [] { [[maybe_unused]] auto j = recprune::json::parse("{not json"); }) ==
              RECPRUNE_STATUS_INVALID_ARGUMENT);
        CHECK(error.message.rfind("invalid parameter: ", 0) == 0);
    }
    SUBCASE("bad_alloc is out of memory") {
        CapturedError error;
        CHECK(guarded(error, [] { throw std::bad_alloc(); }) == RECPRUNE_STATUS_OUT_OF_MEMORY);
        CHECK(error.message == "out of memory in the plugin: an allocation failed; reduce the "
                               "sizes its parameters set or the batch size, or free memory");
    }
    SUBCASE("any other exception is a runtime error with its text") {
        CapturedError error;
        CHECK(guarded(error, [] { throw std::out_of_range("index 7 past 3"); }) ==
              RECPRUNE_STATUS_RUNTIME_ERROR);
        CHECK(error.message == "index 7 past 3");
        CapturedError unknown;
        CHECK(guarded(unknown, [] { throw 42; }) == RECPRUNE_STATUS_RUNTIME_ERROR);
        CHECK(unknown.message == "unknown exception in plugin");
    }
    SUBCASE("a missing error sink is tolerated") {
        CHECK(recprune::detail::guard(nullptr, [] { throw std::runtime_error("lost"); }) ==
              RECPRUNE_STATUS_RUNTIME_ERROR);
        recprune_error_t no_function{nullptr, nullptr};
        CHECK(recprune::detail::guard(&no_function, [] { throw std::runtime_error("lost"); }) ==
              RECPRUNE_STATUS_RUNTIME_ERROR);
    }
}

namespace {

class SdkProbePruner : public recprune::Pruner {
public:
    SdkProbePruner(const recprune::Host&, const recprune::json&, uint64_t) {}
    recprune_pruner_info_t info() const override {
        return recprune::make_pruner_info(RECPRUNE_GRANULARITY_WEIGHT);
    }
    void score(const recprune::PruneContext&, std::span<double>) override {}
};

}  // namespace

TEST_CASE("sdk boundary: generated descriptors declare this ABI and full tables") {
    const recprune_plugin_descriptor_t descriptor =
        recprune::detail::make_descriptor<SdkProbePruner>("sdk_probe", "1.0.0", "probe",
                                                          R"({"parameters": {}})");
    CHECK(descriptor.struct_size == sizeof(recprune_plugin_descriptor_t));
    CHECK(descriptor.abi_major == RECPRUNE_ABI_MAJOR);
    CHECK(descriptor.abi_minor == RECPRUNE_ABI_MINOR);
    CHECK(descriptor.kind == RECPRUNE_KIND_PRUNER);
    CHECK(descriptor.dataset == nullptr);
    CHECK(descriptor.model == nullptr);
    REQUIRE(descriptor.pruner != nullptr);
    CHECK(descriptor.pruner->struct_size == sizeof(recprune_pruner_api_t));
    const bool has_regularize = descriptor.pruner->regularize != nullptr;
    CHECK(has_regularize);

    // create() through the table, get_info() fills struct_size, destroy() frees.
    CapturedError error;
    recprune_pruner_t handle = nullptr;
    REQUIRE(descriptor.pruner->create(nullptr, "{}", 1, &handle, &error.sink) ==
            RECPRUNE_STATUS_OK);
    recprune_pruner_info_t info{};
    CHECK(descriptor.pruner->get_info(handle, &info, &error.sink) == RECPRUNE_STATUS_OK);
    CHECK(info.struct_size == sizeof(recprune_pruner_info_t));
    CHECK(info.granularity == RECPRUNE_GRANULARITY_WEIGHT);
    // The default regularize() throws NotSupported, which crosses as that status.
    CHECK(descriptor.pruner->regularize(handle, nullptr, 0, "{}", &error.sink) ==
          RECPRUNE_STATUS_NOT_SUPPORTED);
    CHECK(error.message == "this pruner has no regularizer");
    descriptor.pruner->destroy(handle);

    // Parameters that are not JSON fail create() with a message instead of throwing.
    CapturedError bad;
    recprune_pruner_t none = nullptr;
    CHECK(descriptor.pruner->create(nullptr, "{oops", 1, &none, &bad.sink) ==
          RECPRUNE_STATUS_INVALID_ARGUMENT);
    CHECK(none == nullptr);
    CHECK_FALSE(bad.message.empty());
}
