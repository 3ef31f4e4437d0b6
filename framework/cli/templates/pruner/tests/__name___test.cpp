// Unit test of the @NAME@ pruner through its C entry point, the way the host calls it: the
// descriptor, create, get_info, score and destroy. The tensor and the units description are
// written by hand in the format that the recprune docs give for weight granularity in
// @DOC_DIR@/abi.md.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "recprune/abi.h"

#include <string>
#include <vector>

extern "C" const recprune_plugin_descriptor_t* recprune_plugin_entry(uint16_t, uint16_t);

namespace {

// A pruner created through the C API, destroyed at scope exit.
struct CreatedPruner {
    const recprune_pruner_api_t* api = nullptr;
    recprune_pruner_t handle = nullptr;
    recprune_status_t status = RECPRUNE_STATUS_OK;
    std::string message;

    CreatedPruner(const char* params) {
        api = recprune_plugin_entry(RECPRUNE_ABI_MAJOR, RECPRUNE_ABI_MINOR)->pruner;
        recprune_error_t error{&message, &set_message};
        status = api->create(nullptr, params, 7, &handle, &error);
    }
    ~CreatedPruner() {
        if (handle != nullptr) api->destroy(handle);
    }
    static void set_message(void* data, const char* text) {
        *static_cast<std::string*>(data) = text;
    }
};

// One 2 x 2 embedding tensor; its four weights are the four units.
constexpr const char* kUnits = R"json({"granularity": "weight", "unit_count": 4, "blocks": [
  {"name": "embedding.user", "group": 0, "offset": 0, "count": 4, "tensor": 0, "slices": [
    {"tensor": 0, "name": "embedding.user", "axis": 0, "start": 0, "step": 1, "width": 1,
     "flat": true}]}]})json";

}  // namespace

TEST_CASE("@NAME@: descriptor names a pruner of this ABI") {
    const recprune_plugin_descriptor_t* descriptor =
        recprune_plugin_entry(RECPRUNE_ABI_MAJOR, RECPRUNE_ABI_MINOR);

    REQUIRE(descriptor != nullptr);
    CHECK(descriptor->abi_major == RECPRUNE_ABI_MAJOR);
    CHECK(descriptor->kind == RECPRUNE_KIND_PRUNER);
    CHECK(std::string(descriptor->name) == "@NAME@");
    CHECK(descriptor->pruner != nullptr);
}

TEST_CASE("@NAME@: declares weight granularity") {
    CreatedPruner pruner(R"({"scope": "per_tensor"})");
    REQUIRE(pruner.status == RECPRUNE_STATUS_OK);
    recprune_pruner_info_t info{};
    std::string message;
    recprune_error_t error{&message, &CreatedPruner::set_message};

    REQUIRE(pruner.api->get_info(pruner.handle, &info, &error) == RECPRUNE_STATUS_OK);

    CHECK(info.granularity == RECPRUNE_GRANULARITY_WEIGHT);
    CHECK(info.per_tensor == 1);
}

TEST_CASE("@NAME@: scores each weight by its magnitude") {
    CreatedPruner pruner(R"({"scope": "global"})");
    REQUIRE(pruner.status == RECPRUNE_STATUS_OK);
    std::vector<float> weights = {0.5f, -2.0f, 0.125f, -0.25f};
    std::vector<float> grads(weights.size(), 0.0f);
    recprune_tensor_t tensor{};
    tensor.struct_size = sizeof(tensor);
    tensor.role = RECPRUNE_TENSOR_ROLE_EMBEDDING;
    tensor.name = "embedding.user";
    tensor.rank = 2;
    tensor.field = 0;
    tensor.shape[0] = 2;
    tensor.shape[1] = 2;
    tensor.element_count = weights.size();
    tensor.data = weights.data();
    tensor.grad = grads.data();
    recprune_prune_context_t context{};
    context.struct_size = sizeof(context);
    context.granularity = RECPRUNE_GRANULARITY_WEIGHT;
    context.unit_count = 4;
    context.units_json = kUnits;
    context.tensors = &tensor;
    context.tensor_count = 1;
    context.structure_json = "{}";
    std::vector<double> scores(4, -1.0);
    std::string message;
    recprune_error_t error{&message, &CreatedPruner::set_message};

    REQUIRE(pruner.api->score(pruner.handle, &context, scores.data(), &error) ==
            RECPRUNE_STATUS_OK);

    // |w| of each weight; all four are exact in binary, so the comparison is exact.
    CHECK(scores[0] == 0.5);
    CHECK(scores[1] == 2.0);
    CHECK(scores[2] == 0.125);
    CHECK(scores[3] == 0.25);
}

TEST_CASE("@NAME@: rejects an unknown scope") {
    CreatedPruner pruner(R"({"scope": "per_layer"})");

    CHECK(pruner.status == RECPRUNE_STATUS_INVALID_ARGUMENT);
    CHECK(pruner.message.find("per_layer") != std::string::npos);
}
