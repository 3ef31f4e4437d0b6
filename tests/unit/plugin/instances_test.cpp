// Plugin objects held by the host: failures of create reach the host with the plugin's message,
// and a library stays loaded while any object made by it lives.
#include "plugin_test_support.hpp"

#include "core/errors.hpp"
#include "plugin/instances.hpp"
#include "plugin/parameters.hpp"
#include "plugin/plugin_registry.hpp"
#include "recprune/sdk.hpp"

#include <doctest/doctest.h>

#include <dlfcn.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

using recprune::CellError;
using recprune::plugin::ModelInstance;
using recprune::plugin::PluginLibrary;
using recprune::plugin::PluginRegistry;
using recprune::plugin::PrunerInstance;
using recprune::test::contains;
using recprune::test::fixture_plugin;
using recprune::test::real_plugin;

namespace {

// The data schema a model's create() receives: no categorical field, two dense inputs.
const char* const kDenseOnlySchema =
    R"({"task": "ctr", "fields": [], "dense_count": 2})";

std::string create_error(const std::shared_ptr<const PluginLibrary>& library) {
    try {
        ModelInstance model(library, "{}", kDenseOnlySchema, 1);
    } catch (const CellError& e) {
        return e.what();
    }
    return "";
}

// One row with dense inputs x and no categorical field.
struct DenseBatch {
    std::vector<float> dense;
    recprune_batch_t view{};

    explicit DenseBatch(std::vector<float> x) : dense(std::move(x)) {
        view.struct_size = sizeof(view);
        view.field_count = 0;
        view.row_count = 1;
        view.dense = dense.data();
        view.dense_count = static_cast<uint32_t>(dense.size());
    }
};

// The CellError message of one score call over `unit_count` units, or "" when it succeeds.
std::string score_error(const std::string& stem, uint64_t unit_count,
                        const std::vector<uint8_t>& already_pruned = {}) {
    PrunerInstance pruner(PluginLibrary::load(fixture_plugin(stem)), "{}", 1);
    recprune_prune_context_t context{};
    context.struct_size = sizeof(context);
    context.granularity = RECPRUNE_GRANULARITY_WEIGHT;
    context.unit_count = unit_count;
    // Zeros, as the host's buffer held before it was filled with NaN.
    std::vector<double> scores(unit_count, 0.0);
    try {
        pruner.score(context, scores, already_pruned);
    } catch (const CellError& e) {
        return e.what();
    }
    return "";
}

double sigmoid(double z) { return 1.0 / (1.0 + std::exp(-z)); }

double predict_probability(ModelInstance& model, const DenseBatch& batch) {
    float logit = 0.0f;
    model.forward(batch.view, false, &logit);
    return sigmoid(logit);
}

recprune_tensor_t tensor_named(const ModelInstance& model, const std::string& name) {
    for (const auto& tensor : model.tensors()) {
        if (name == tensor.name) return tensor;
    }
    FAIL("model has no tensor " << name);
    return {};
}

// True while `path` is mapped in this process. RTLD_NOLOAD never maps a library; the reference
// it adds when the library is there is dropped again at once.
bool is_mapped(const std::filesystem::path& path) {
    void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_NOLOAD);
    if (handle == nullptr) return false;
    ::dlclose(handle);
    return true;
}

}  // namespace

TEST_CASE("model create: a thrown exception's message reaches the host") {
    auto library = PluginLibrary::load(fixture_plugin("model_fixture_throwing_model"));
    CHECK(create_error(library) ==
          "model create failed: fixture_throwing_model: the constructor always throws; this "
          "fixture tests error reporting");
}

TEST_CASE("model create: a failure without a message is named by the host") {
    auto library = PluginLibrary::load(fixture_plugin("model_fixture_silent_failure"));
    // fixture_plugin.c returns RECPRUNE_STATUS_RUNTIME_ERROR (6) and sets no message.
    CHECK(create_error(library) ==
          "model create failed in model fixture_silent_failure with status 6 and no message; "
          "the plugin should report its reason");
}

TEST_CASE("plugin call: a non-standard exception names the plugin and the fix") {
    auto library = PluginLibrary::load(fixture_plugin("pruner_fixture_good"));
    recprune::plugin::ErrorCapture error;
    // The SDK's own boundary turns the thrown int into a status and its fixed message.
    const recprune_status_t status = recprune::detail::guard(error.sink(), [] { throw 42; });
    REQUIRE(status == RECPRUNE_STATUS_RUNTIME_ERROR);

    CHECK_THROWS_WITH_AS(
        error.check<CellError>(status, *library, "score"),
        ("score failed in pruner fixture_good (" + library->path().string() +
         "): it threw an exception that does not derive from std::exception, so the SDK had no "
         "message to pass on; throw std::runtime_error or another std::exception subclass with "
         "the reason")
            .c_str(),
        CellError);
}

TEST_CASE("model lifetime: a model outlives the registry that loaded its library") {
    // Logistic regression with dense weights w = [0.5, -0.25], bias b = 0.1 and input
    // x = [2, 4]: z = 0.5 * 2 - 0.25 * 4 + 0.1 = 0.1, p = 1 / (1 + e^-0.1) = 0.524979.
    const double expected = 0.524979;
    DenseBatch batch({2.0f, 4.0f});
    std::unique_ptr<ModelInstance> model;
    std::weak_ptr<const PluginLibrary> library_alive;
    {
        PluginRegistry registry;
        registry.add(real_plugin("model", "logistic_regression"), false);
        auto library = registry.find(RECPRUNE_KIND_MODEL, "logistic_regression");
        library_alive = library;

        std::vector<std::string> problems;
        auto params = recprune::plugin::resolve_parameters(*library, {}, "$.models[0].params",
                                                           {}, problems);
        REQUIRE(problems.empty());
        model = std::make_unique<ModelInstance>(library, boost::json::serialize(params),
                                                kDenseOnlySchema, 7);

        // plugins/models/logistic_regression: dense inputs meet "linear.dense" [1, 2], and
        // "linear.bias" [1] is added to every logit.
        recprune_tensor_t weights = tensor_named(*model, "linear.dense");
        recprune_tensor_t bias = tensor_named(*model, "linear.bias");
        REQUIRE(weights.element_count == 2);
        REQUIRE(bias.element_count == 1);
        weights.data[0] = 0.5f;
        weights.data[1] = -0.25f;
        bias.data[0] = 0.1f;
        CHECK(predict_probability(*model, batch) == doctest::Approx(expected).epsilon(1e-6));
    }

    // The registry and every library handle of this test are gone, so only the model keeps a
    // reference to the library.
    CHECK_FALSE(library_alive.expired());
    CHECK(predict_probability(*model, batch) == doctest::Approx(expected).epsilon(1e-6));
    model.reset();
    CHECK(library_alive.expired());
}

TEST_CASE("model lifetime: the library is unmapped only after its last model is destroyed") {
    // A C plugin, so no STB_GNU_UNIQUE symbol pins it: dlclose really unmaps it.
    auto path = fixture_plugin("model_fixture_unload_probe");
    REQUIRE_MESSAGE(!is_mapped(path), "another test left " << path << " loaded");

    std::unique_ptr<ModelInstance> model;
    {
        PluginRegistry registry;
        registry.add(path, false);
        model = std::make_unique<ModelInstance>(
            registry.find(RECPRUNE_KIND_MODEL, "fixture_unload_probe"), "{}", kDenseOnlySchema, 1);
    }
    CHECK(is_mapped(path));

    // fixture_plugin.c gives every row the logit 0.25.
    DenseBatch batch({2.0f, 4.0f});
    float logit = 0.0f;
    model->forward(batch.view, false, &logit);
    CHECK(logit == 0.25f);

    model.reset();
    CHECK_FALSE(is_mapped(path));
}

TEST_CASE("model instance: a failed call carries the plugin's message") {
    auto library = PluginLibrary::load(real_plugin("model", "logistic_regression"));
    ModelInstance model(library, R"({"pooling": "sum", "init_std": 0.01})", kDenseOnlySchema, 1);
    // A batch with three dense inputs for a model built for two.
    DenseBatch batch({1.0f, 2.0f, 3.0f});
    float logit = 0.0f;
    try {
        model.forward(batch.view, false, &logit);
        FAIL("forward accepted a batch of the wrong shape");
    } catch (const CellError& e) {
        CHECK_FALSE(std::string(e.what()).empty());
        CHECK_FALSE(contains(e.what(), "no message"));
    }
}

TEST_CASE("pruner instance: scores left unwritten fail the call and name the plugin") {
    // fixture_plugin.c writes the first unit_count / 2 scores (4 of 8), or none.
    const std::string half = score_error("pruner_fixture_half_scores", 8);
    CHECK(half == "pruner broke the ABI contract: " +
                      fixture_plugin("pruner_fixture_half_scores").string() +
                      " (fixture_half_scores): score left 4 of 8 scores unwritten or wrote NaN "
                      "there, the first at unit 4; the pruner must write one score that is not "
                      "NaN per unit (unit_count in all), so fix its score function or remove it "
                      "from the grid");

    const std::string none = score_error("pruner_fixture_no_scores", 8);
    CHECK(contains(none, " (fixture_no_scores): score left 8 of 8 scores unwritten or wrote NaN "
                         "there, the first at unit 0; "));

    // The same fixture source writing every score passes.
    CHECK(score_error("pruner_fixture_good", 8).empty());
}

TEST_CASE("pruner instance: units pruned before may stay unwritten") {
    // fixture_half_scores leaves units 4 to 7 unwritten. When earlier steps pruned them, the
    // ABI lets the pruner give them any score, so the call passes. With one of them still
    // kept, it fails on that unit.
    const std::vector<uint8_t> last_four = {0, 0, 0, 0, 1, 1, 1, 1};
    CHECK(score_error("pruner_fixture_half_scores", 8, last_four).empty());

    const std::vector<uint8_t> three_of_them = {0, 0, 0, 0, 1, 0, 1, 1};
    CHECK(contains(score_error("pruner_fixture_half_scores", 8, three_of_them),
                   "score left 1 of 8 scores unwritten or wrote NaN there, the first at unit 5"));
}

TEST_CASE("model instance: logits left unwritten fail the forward call and name the plugin") {
    auto library = PluginLibrary::load(fixture_plugin("model_fixture_half_logits"));
    ModelInstance model(library, "{}", kDenseOnlySchema, 1);
    DenseBatch batch({1.0f, 2.0f});
    batch.view.row_count = 5;
    // Zeros, as the host's buffer held before it was filled with NaN.
    std::vector<float> logits(5, 0.0f);

    // fixture_plugin.c writes the first row_count / 2 logits: rows 0 and 1 of 5.
    try {
        model.forward(batch.view, false, logits.data());
        FAIL("forward accepted a model that wrote 2 of 5 logits");
    } catch (const CellError& e) {
        CHECK(std::string(e.what()) ==
              "model broke the ABI contract: " +
                  fixture_plugin("model_fixture_half_logits").string() +
                  " (fixture_half_logits): forward left 3 of 5 logits unwritten, the first at "
                  "row 2; the model must write one logit per row of the batch (row_count in "
                  "all), so fix its forward function");
    }
    // The rows the model wrote hold its constant logit 0.25 (kFixtureLogit).
    CHECK(logits[0] == 0.25f);
    CHECK(logits[1] == 0.25f);
}

TEST_CASE("model instance: a computed NaN logit passes forward") {
    // Logistic regression z = w.x + b with x = [NaN, 1]: NaN * w is NaN whatever w is, and the
    // arithmetic NaN is not the host's fill, so forward returns and the loss check names it.
    auto library = PluginLibrary::load(real_plugin("model", "logistic_regression"));
    ModelInstance model(library, R"({"pooling": "sum", "init_std": 0.01})", kDenseOnlySchema, 1);
    DenseBatch batch({std::nanf(""), 1.0f});
    float logit = 0.0f;

    model.forward(batch.view, false, &logit);

    CHECK(std::isnan(logit));
}
