// Test helpers: a model plugin opened through the public C ABI only (dlopen and the entry
// symbol), as any host loads it, plus small hand-made batches.
#pragma once

#include "recprune/abi.h"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <dlfcn.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace recprune::test {

using json = nlohmann::json;

/// Host services for tests: logging goes nowhere, allocation uses aligned new.
inline const recprune_host_t* test_host() {
    static const recprune_host_t host = {
        sizeof(recprune_host_t), RECPRUNE_ABI_MAJOR, RECPRUNE_ABI_MINOR, nullptr,
        [](void*, recprune_log_level_t, const char*) {},
        [](void*, recprune_log_level_t) -> int32_t { return 0; },
        [](void*, size_t size, size_t alignment) -> void* {
            // aligned_alloc wants a size that is a multiple of the alignment.
            return std::aligned_alloc(alignment, (size + alignment - 1) / alignment * alignment);
        },
        [](void*, void* pointer) { std::free(pointer); }};
    return &host;
}

/// Calls a fallible ABI function and throws std::runtime_error with the plugin's message.
template <typename Fn>
void check_call(const char* what, Fn&& fn) {
    std::string message;
    recprune_error_t error{&message, [](void* data, const char* text) {
                               *static_cast<std::string*>(data) = text ? text : "";
                           }};
    const recprune_status_t status = fn(&error);
    if (status != RECPRUNE_STATUS_OK) {
        throw std::runtime_error(std::string(what) + " failed with status " +
                                 std::to_string(status) + ": " + message);
    }
}

/// An open model plugin library, kept open for the life of the process. With glibc 2.36 a
/// library using std::make_shared gets STB_GNU_UNIQUE symbols and stays mapped after dlclose.
class ModelPlugin {
public:
    explicit ModelPlugin(const std::string& name) {
        const std::string path =
            std::string(RECPRUNE_TEST_PLUGIN_DIR) + "/librecprune_model_" + name + ".so";
        void* library = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
        if (library == nullptr) throw std::runtime_error("cannot load " + path + ": " + dlerror());
        auto entry = reinterpret_cast<recprune_entry_fn>(dlsym(library, RECPRUNE_ENTRY_SYMBOL));
        if (entry == nullptr) throw std::runtime_error("no entry symbol in " + path);
        descriptor_ = entry(RECPRUNE_ABI_MAJOR, RECPRUNE_ABI_MINOR);
        if (descriptor_ == nullptr || descriptor_->model == nullptr) {
            throw std::runtime_error(path + " is not a model plugin");
        }
    }

    const recprune_model_api_t& api() const { return *descriptor_->model; }
    const recprune_plugin_descriptor_t& descriptor() const { return *descriptor_; }

private:
    const recprune_plugin_descriptor_t* descriptor_ = nullptr;
};

/// A batch owned by the test; view() gives the C struct pointing into it.
struct TestBatch {
    uint64_t rows = 0;
    std::vector<std::vector<uint32_t>> ids;      ///< per field
    std::vector<std::vector<uint64_t>> offsets;  ///< per field, empty for single-valued
    uint32_t dense_count = 0;
    std::vector<float> dense;

    const recprune_batch_t& view() {
        id_pointers_.clear();
        offset_pointers_.clear();
        for (size_t f = 0; f < ids.size(); ++f) {
            id_pointers_.push_back(ids[f].data());
            offset_pointers_.push_back(offsets.size() > f && !offsets[f].empty()
                                           ? offsets[f].data()
                                           : nullptr);
        }
        batch_ = recprune_batch_t{};
        batch_.struct_size = sizeof(batch_);
        batch_.field_count = static_cast<uint32_t>(ids.size());
        batch_.row_count = rows;
        batch_.ids = id_pointers_.data();
        batch_.offsets = offset_pointers_.data();
        batch_.dense = dense.empty() ? nullptr : dense.data();
        batch_.dense_count = dense_count;
        return batch_;
    }

private:
    std::vector<const uint32_t*> id_pointers_;
    std::vector<const uint64_t*> offset_pointers_;
    recprune_batch_t batch_{};
};

/// A model instance made by a plugin; destroyed with the plugin's destroy().
class ModelInstance {
public:
    ModelInstance(const ModelPlugin& plugin, recprune_model_t handle)
        : api_(&plugin.api()), handle_(handle) {}
    ModelInstance(const ModelPlugin& plugin, const json& params, const json& schema,
                  uint64_t seed)
        : api_(&plugin.api()) {
        const std::string params_text = params.dump();
        const std::string schema_text = schema.dump();
        check_call("create", [&](recprune_error_t* error) {
            return api_->create(test_host(), params_text.c_str(), schema_text.c_str(), seed,
                                &handle_, error);
        });
    }
    ModelInstance(const ModelInstance&) = delete;
    ModelInstance& operator=(const ModelInstance&) = delete;
    ~ModelInstance() {
        if (handle_ != nullptr) api_->destroy(handle_);
    }

    std::vector<recprune_tensor_t> tensors() const {
        const recprune_tensor_t* tensors = nullptr;
        uint32_t count = 0;
        check_call("get_tensors", [&](recprune_error_t* error) {
            return api_->get_tensors(handle_, &tensors, &count, error);
        });
        return {tensors, tensors + count};
    }

    recprune_tensor_t tensor(const std::string& name) const {
        for (const recprune_tensor_t& t : tensors()) {
            if (name == t.name) return t;
        }
        throw std::runtime_error("no tensor " + name);
    }

    uint32_t tensor_index(const std::string& name) const {
        const std::vector<recprune_tensor_t> all = tensors();
        for (uint32_t i = 0; i < all.size(); ++i) {
            if (name == all[i].name) return i;
        }
        throw std::runtime_error("no tensor " + name);
    }

    json structure() const {
        const char* text = nullptr;
        check_call("get_structure", [&](recprune_error_t* error) {
            return api_->get_structure(handle_, &text, error);
        });
        return json::parse(text);
    }

    std::vector<float> forward(TestBatch& batch, bool training) {
        std::vector<float> logits(batch.rows);
        const recprune_batch_t& view = batch.view();
        check_call("forward", [&](recprune_error_t* error) {
            return api_->forward(handle_, &view, training ? 1 : 0, logits.data(), error);
        });
        return logits;
    }

    void backward(TestBatch& batch, const std::vector<float>& logit_grads) {
        const recprune_batch_t& view = batch.view();
        check_call("backward", [&](recprune_error_t* error) {
            return api_->backward(handle_, &view, logit_grads.data(), error);
        });
    }

    std::vector<uint32_t> touched_rows(uint32_t tensor_index) const {
        const uint32_t* rows = nullptr;
        uint64_t count = 0;
        check_call("touched_rows", [&](recprune_error_t* error) {
            return api_->touched_rows(handle_, tensor_index, &rows, &count, error);
        });
        return {rows, rows + count};
    }

    recprune_model_cost_t cost() const {
        recprune_model_cost_t cost{};
        check_call("cost",
                   [&](recprune_error_t* error) { return api_->cost(handle_, &cost, error); });
        return cost;
    }

    recprune_model_t compact_handle(const json& plan) const {
        recprune_model_t out = nullptr;
        const std::string text = plan.dump();
        check_call("compact", [&](recprune_error_t* error) {
            return api_->compact(handle_, text.c_str(), &out, error);
        });
        return out;
    }

    void save(const std::string& path) const {
        check_call("save",
                   [&](recprune_error_t* error) { return api_->save(handle_, path.c_str(), error); });
    }

    static recprune_model_t load_handle(const ModelPlugin& plugin, const std::string& path) {
        recprune_model_t out = nullptr;
        check_call("load", [&](recprune_error_t* error) {
            return plugin.api().load(test_host(), path.c_str(), &out, error);
        });
        return out;
    }

    recprune_model_t handle() const { return handle_; }

private:
    const recprune_model_api_t* api_;
    recprune_model_t handle_ = nullptr;
};

/// A field of a test schema.
struct TestField {
    std::string name;
    uint32_t vocabulary_size;
    bool multi_hot = false;
    std::string role = {};  ///< "", "user" or "item"
};

/// Returns the schema JSON the host would pass to create().
inline json make_schema(const std::vector<TestField>& fields, uint32_t dense_count,
                        const std::string& task = "ctr") {
    json entries = json::array();
    for (const TestField& field : fields) {
        json roles = json::array({"feature"});
        if (!field.role.empty()) roles.push_back(field.role);
        entries.push_back({{"name", field.name},
                           {"vocabulary_size", field.vocabulary_size},
                           {"multi_hot", field.multi_hot},
                           {"roles", roles}});
    }
    return {{"task", task}, {"fields", entries}, {"dense_count", dense_count}};
}

/// Returns a batch of `rows` random rows for `fields`: ids uniform over each vocabulary,
/// multi-hot bags of 0 to 3 values, dense inputs uniform in [-1, 1).
inline TestBatch random_batch(const std::vector<TestField>& fields, uint32_t dense_count,
                              uint64_t rows, uint64_t seed) {
    std::mt19937_64 rng(seed);
    TestBatch batch;
    batch.rows = rows;
    batch.dense_count = dense_count;
    for (const TestField& field : fields) {
        std::vector<uint32_t> ids;
        std::vector<uint64_t> offsets;
        if (field.multi_hot) offsets.push_back(0);
        for (uint64_t row = 0; row < rows; ++row) {
            const uint64_t count = field.multi_hot ? rng() % 4 : 1;
            for (uint64_t k = 0; k < count; ++k) {
                ids.push_back(static_cast<uint32_t>(rng() % field.vocabulary_size));
            }
            if (field.multi_hot) offsets.push_back(ids.size());
        }
        batch.ids.push_back(std::move(ids));
        batch.offsets.push_back(std::move(offsets));
    }
    for (uint64_t i = 0; i < rows * dense_count; ++i) {
        batch.dense.push_back(static_cast<float>((rng() >> 11) * 0x1.0p-53 * 2.0 - 1.0));
    }
    return batch;
}

/// Sets every value of every tensor to a uniform draw in [-scale, scale), so that tests see
/// gradients well above f32 rounding.
inline void randomize(const std::vector<recprune_tensor_t>& tensors, float scale,
                      uint64_t seed) {
    std::mt19937_64 rng(seed);
    for (const recprune_tensor_t& t : tensors) {
        for (uint64_t i = 0; i < t.element_count; ++i) {
            t.data[i] = static_cast<float>(((rng() >> 11) * 0x1.0p-53 * 2.0 - 1.0) * scale);
        }
    }
}

/// Returns 1 / (1 + e^-z).
inline double sigmoid(double z) { return 1.0 / (1.0 + std::exp(-z)); }

}  // namespace recprune::test
