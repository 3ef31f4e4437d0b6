#include "report/report.hpp"

#include "core/errors.hpp"
#include "report/columns.hpp"
#include "report/report_files.hpp"
#include "report/report_format.hpp"

#include <doctest/doctest.h>

#include <boost/json.hpp>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

using recprune::report::Area;
using recprune::report::build_report;
using recprune::report::Report;
using recprune::report::ReportOptions;
using recprune::report::Statistic;

namespace {

// Builds a result row in the layout `recprune run` writes; only the keys the report reads.
struct RowSpec {
    std::string kind = "pruned";
    std::string pruner = "magnitude";
    boost::json::object pruner_params = {{"granularity", "weight"}};
    double sparsity = 0.5;
    int seed = 1;
    std::string status = "ok";
    std::optional<double> auc;
    std::string group_id = "g1";
    std::string cell_id;
    std::optional<double> dense_auc;  // written as dense_metrics, as pruned rows carry it
};

boost::json::object make_row(const RowSpec& spec) {
    boost::json::object row;
    row["schema_version"] = 1;
    row["cell_id"] = spec.cell_id.empty() ? spec.pruner + "-" + std::to_string(spec.sparsity) +
                                                "-" + std::to_string(spec.seed)
                                          : spec.cell_id;
    row["group_id"] = spec.group_id;
    row["kind"] = spec.kind;
    row["status"] = spec.status;
    row["dataset"] = {
        {"name", "movietweetings"}, {"version", "1.0.0"}, {"params", boost::json::object()}};
    row["model"] = {{"name", "fm"}, {"version", "1.0.0"}, {"params", {{"embedding_dim", 16}}}};
    row["seed"] = spec.seed;
    row["target_sparsity"] = spec.kind == "dense" ? 0.0 : spec.sparsity;

    if (spec.kind == "pruned") {
        row["pruner"] = {
            {"name", spec.pruner}, {"version", "1.0.0"}, {"params", spec.pruner_params}};
        row["schedule"] = {{"name", "one_shot"}, {"finetune_epochs", 1}};
    }

    if (spec.status != "failed") {
        boost::json::object auc;
        if (spec.auc) {
            auc = {{"value", *spec.auc}, {"status", "ok"}};
        } else {
            auc = {{"value", nullptr}, {"status", "undefined_single_class"}};
        }
        row["metrics"] = {{"test", {{"auc", auc}}}};
        if (spec.dense_auc) {
            row["dense_metrics"] = {
                {"test", {{"auc", {{"value", *spec.dense_auc}, {"status", "ok"}}}}}};
        }
    }
    return row;
}

RowSpec pruned(std::string pruner, double sparsity, int seed, std::optional<double> auc) {
    RowSpec spec;
    spec.pruner = std::move(pruner);
    spec.sparsity = sparsity;
    spec.seed = seed;
    spec.auc = auc;
    spec.group_id = "g" + std::to_string(seed);
    return spec;
}

RowSpec dense(int seed, double auc) {
    RowSpec spec;
    spec.kind = "dense";
    spec.seed = seed;
    spec.auc = auc;
    spec.group_id = "g" + std::to_string(seed);
    spec.cell_id = spec.group_id;
    return spec;
}

ReportOptions by_pruner_and_sparsity() {
    ReportOptions options;
    options.group_by = {"pruner", "sparsity"};
    options.values = {"auc"};
    return options;
}

// A folder under the system temporary folder, removed at scope exit.
struct TemporaryFolder {
    std::filesystem::path path;
    TemporaryFolder() {
        std::string pattern =
            (std::filesystem::temp_directory_path() / "recprune-report-test-XXXXXX").string();
        REQUIRE(::mkdtemp(pattern.data()) != nullptr);
        path = pattern;
    }
    ~TemporaryFolder() {
        std::error_code ignored;
        std::filesystem::remove_all(path, ignored);
    }
    std::filesystem::path write(const std::string& name, const std::string& text) const {
        std::ofstream(path / name) << text;
        return path / name;
    }
};

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    size_t start = 0;
    while (start < text.size()) {
        size_t end = text.find('\n', start);
        lines.push_back(text.substr(start, end - start));
        start = end == std::string::npos ? text.size() : end + 1;
    }
    return lines;
}

}  // namespace

TEST_CASE("report: mean and sample deviation over seeds") {
    std::vector<boost::json::object> rows = {make_row(pruned("magnitude", 0.5, 1, 0.7)),
                                             make_row(pruned("magnitude", 0.5, 2, 0.8))};

    Report report = build_report(rows, by_pruner_and_sparsity());

    REQUIRE(report.groups.size() == 1);
    const Statistic& auc = report.groups[0].values[0];
    CHECK(report.groups[0].seeds == 2);
    CHECK(auc.count == 2);
    CHECK(auc.mean == doctest::Approx(0.75).epsilon(1e-12));
    // Sample deviation by hand: sqrt((0.05^2 + 0.05^2) / (2 - 1)) = 0.05 * sqrt(2).
    REQUIRE(auc.std_dev.has_value());
    CHECK(*auc.std_dev == doctest::Approx(0.05 * std::sqrt(2.0)).epsilon(1e-12));
}

TEST_CASE("report: one seed has no deviation") {
    std::vector<boost::json::object> rows = {make_row(pruned("magnitude", 0.5, 1, 0.7))};

    Report report = build_report(rows, by_pruner_and_sparsity());

    REQUIRE(report.groups.size() == 1);
    CHECK(report.groups[0].values[0].count == 1);
    CHECK_FALSE(report.groups[0].values[0].std_dev.has_value());
}

TEST_CASE("report: failed and undefined cells counted apart") {
    RowSpec failed = pruned("magnitude", 0.5, 2, std::nullopt);
    failed.status = "failed";
    std::vector<boost::json::object> rows = {make_row(pruned("magnitude", 0.5, 1, 0.6)),
                                             make_row(failed),
                                             make_row(pruned("magnitude", 0.5, 3, std::nullopt))};

    Report report = build_report(rows, by_pruner_and_sparsity());

    REQUIRE(report.groups.size() == 1);
    const Statistic& auc = report.groups[0].values[0];
    CHECK(report.groups[0].rows == 3);
    CHECK(report.groups[0].failed == 1);
    CHECK(auc.count == 1);
    CHECK(auc.failed == 1);
    CHECK(auc.undefined == 1);
    CHECK(auc.mean == 0.6);
    CHECK(report.failed_rows == 1);
}

TEST_CASE("report: target not reached rows keep their values") {
    RowSpec short_of_target = pruned("magnitude", 0.9, 1, 0.55);
    short_of_target.status = "target_not_reached";

    Report report = build_report({make_row(short_of_target)}, by_pruner_and_sparsity());

    REQUIRE(report.groups.size() == 1);
    CHECK(report.groups[0].not_reached == 1);
    CHECK(report.groups[0].failed == 0);
    CHECK(report.groups[0].values[0].count == 1);
}

TEST_CASE("report: dense baseline from the dense cells") {
    std::vector<boost::json::object> rows = {
        make_row(dense(1, 0.9)), make_row(dense(2, 0.8)),
        make_row(pruned("magnitude", 0.5, 1, 0.7)), make_row(pruned("magnitude", 0.5, 2, 0.6))};

    Report report = build_report(rows, by_pruner_and_sparsity());

    REQUIRE(report.groups.size() == 1);
    const Statistic& baseline = report.groups[0].dense[0];
    CHECK(report.dense_rows == 2);
    CHECK(report.pruned_rows == 2);
    CHECK(baseline.count == 2);
    CHECK(baseline.mean == doctest::Approx(0.85).epsilon(1e-12));  // (0.9 + 0.8) / 2
}

TEST_CASE("report: dense baseline from dense_metrics without dense rows") {
    RowSpec first = pruned("magnitude", 0.5, 1, 0.7);
    first.dense_auc = 0.875;
    RowSpec second = pruned("magnitude", 0.5, 2, 0.6);
    second.dense_auc = 0.625;

    Report report = build_report({make_row(first), make_row(second)}, by_pruner_and_sparsity());

    REQUIRE(report.groups.size() == 1);
    CHECK(report.groups[0].dense[0].count == 2);
    CHECK(report.groups[0].dense[0].mean == 0.75);  // (0.875 + 0.625) / 2, exact in binary
}

TEST_CASE("report: failed dense cell counted in the baseline") {
    RowSpec failed_dense = dense(1, 0.9);
    failed_dense.status = "failed";
    std::vector<boost::json::object> rows = {make_row(failed_dense),
                                             make_row(pruned("magnitude", 0.5, 1, 0.7))};

    Report report = build_report(rows, by_pruner_and_sparsity());

    CHECK(report.groups[0].dense[0].count == 0);
    CHECK(report.groups[0].dense[0].failed == 1);
}

TEST_CASE("report: sparsity sorts numerically, pruners by first appearance") {
    std::vector<boost::json::object> rows = {
        make_row(pruned("random", 0.9, 1, 0.5)), make_row(pruned("random", 0.5, 1, 0.6)),
        make_row(pruned("magnitude", 0.95, 1, 0.7)), make_row(pruned("magnitude", 0.8, 1, 0.7))};

    Report report = build_report(rows, by_pruner_and_sparsity());

    REQUIRE(report.groups.size() == 4);
    CHECK(report.groups[0].labels == std::vector<std::string>{"random", "0.5"});
    CHECK(report.groups[1].labels == std::vector<std::string>{"random", "0.9"});
    CHECK(report.groups[2].labels == std::vector<std::string>{"magnitude", "0.8"});
    CHECK(report.groups[3].labels == std::vector<std::string>{"magnitude", "0.95"});
}

TEST_CASE("report: pruner variants with other parameters stay apart") {
    RowSpec neuron = pruned("magnitude", 0.5, 1, 0.6);
    neuron.pruner_params = {{"granularity", "neuron"}};
    std::vector<boost::json::object> rows = {make_row(pruned("magnitude", 0.5, 1, 0.7)),
                                             make_row(neuron)};

    Report report = build_report(rows, by_pruner_and_sparsity());

    REQUIRE(report.groups.size() == 2);
    CHECK(report.groups[0].labels[0] == "magnitude(granularity=weight)");
    CHECK(report.groups[1].labels[0] == "magnitude(granularity=neuron)");
}

TEST_CASE("report: data settings of a dataset stay apart") {
    // One dataset entered twice with two top-K protocols: the default grouping must not
    // average the two, and the labels name the setting that differs.
    std::vector<boost::json::object> rows = {make_row(pruned("magnitude", 0.5, 1, 0.7)),
                                             make_row(pruned("magnitude", 0.5, 1, 0.6))};
    rows[0]["data"] = {{"task", "topk"}, {"protocol", "leave_one_out"}};
    rows[1]["data"] = {{"task", "topk"}, {"protocol", "full_ranking"}};
    ReportOptions options = by_pruner_and_sparsity();
    options.group_by = {"dataset", "pruner", "sparsity"};

    Report report = build_report(rows, options);

    REQUIRE(report.groups.size() == 2);
    CHECK(report.groups[0].labels[0] == "movietweetings(data.protocol=leave_one_out)");
    CHECK(report.groups[1].labels[0] == "movietweetings(data.protocol=full_ranking)");
    CHECK(report.groups[0].values[0].mean == doctest::Approx(0.7));
    CHECK(report.groups[1].values[0].mean == doctest::Approx(0.6));
}

TEST_CASE("report: equal data settings share a group") {
    std::vector<boost::json::object> rows = {make_row(pruned("magnitude", 0.5, 1, 0.7)),
                                             make_row(pruned("magnitude", 0.5, 2, 0.6))};
    for (auto& row : rows) row["data"] = {{"task", "ctr"}, {"min_count", 1}};
    ReportOptions options = by_pruner_and_sparsity();
    options.group_by = {"dataset", "pruner", "sparsity"};

    Report report = build_report(rows, options);

    REQUIRE(report.groups.size() == 1);
    CHECK(report.groups[0].labels[0] == "movietweetings");
    CHECK(report.groups[0].values[0].count == 2);
}

TEST_CASE("report: unknown metric is rejected") {
    ReportOptions options = by_pruner_and_sparsity();
    options.values = {"aucc"};
    CHECK_THROWS_WITH_AS(build_report({make_row(pruned("random", 0.5, 1, 0.6))}, options),
                         doctest::Contains("\"aucc\" is not a test metric of any row; the rows "
                                           "have auc"),
                         recprune::ConfigError);
}

TEST_CASE("report: unknown group column is rejected") {
    ReportOptions options = by_pruner_and_sparsity();
    options.group_by = {"prunner"};
    CHECK_THROWS_WITH_AS(build_report({make_row(pruned("random", 0.5, 1, 0.6))}, options),
                         doctest::Contains("--group-by: \"prunner\" is in no row"),
                         recprune::ConfigError);
}

TEST_CASE("report: unknown filter column is rejected") {
    ReportOptions options = by_pruner_and_sparsity();
    options.filters = {{"datset", "criteo"}};
    CHECK_THROWS_WITH_AS(build_report({make_row(pruned("random", 0.5, 1, 0.6))}, options),
                         doctest::Contains("--where: \"datset=criteo\""),
                         recprune::ConfigError);
}

TEST_CASE("report: the filters are named") {
    ReportOptions options = by_pruner_and_sparsity();
    options.filters = {{"pruner", "random"}};
    Report report = build_report({make_row(pruned("random", 0.5, 1, 0.6)),
                                  make_row(pruned("magnitude", 0.5, 1, 0.7))},
                                 options);
    CHECK(report.filtered_out == 1);
    REQUIRE(report.filter_texts.size() == 1);
    CHECK(report.filter_texts[0] == "pruner=random");
}

TEST_CASE("report: groups by a dotted path") {
    RowSpec neuron = pruned("magnitude", 0.5, 1, 0.6);
    neuron.pruner_params = {{"granularity", "neuron"}};
    std::vector<boost::json::object> rows = {make_row(pruned("magnitude", 0.5, 1, 0.7)),
                                             make_row(pruned("magnitude", 0.5, 2, 0.8)),
                                             make_row(neuron)};
    ReportOptions options;
    options.group_by = {"pruner.params.granularity"};
    options.values = {"auc"};

    Report report = build_report(rows, options);

    REQUIRE(report.groups.size() == 2);
    CHECK(report.groups[0].labels[0] == "weight");
    CHECK(report.groups[0].values[0].count == 2);
    CHECK(report.groups[1].labels[0] == "neuron");
    CHECK(report.curve_x.empty());  // target_sparsity is not a group column
}

TEST_CASE("report: filter by plugin name keeps every variant") {
    RowSpec neuron = pruned("magnitude", 0.5, 1, 0.6);
    neuron.pruner_params = {{"granularity", "neuron"}};
    std::vector<boost::json::object> rows = {make_row(pruned("magnitude", 0.5, 1, 0.7)),
                                             make_row(neuron),
                                             make_row(pruned("random", 0.5, 1, 0.5))};
    ReportOptions options = by_pruner_and_sparsity();
    options.filters = {{"pruner", "magnitude"}};

    Report report = build_report(rows, options);

    CHECK(report.filtered_out == 1);
    CHECK(report.groups.size() == 2);
}

TEST_CASE("report: filter keeps the dense baselines") {
    std::vector<boost::json::object> rows = {make_row(dense(1, 0.9)),
                                             make_row(pruned("magnitude", 0.5, 1, 0.7)),
                                             make_row(pruned("random", 0.5, 1, 0.5))};
    ReportOptions options = by_pruner_and_sparsity();
    options.filters = {{"pruner", "random"}};

    Report report = build_report(rows, options);

    REQUIRE(report.groups.size() == 1);
    CHECK(report.filtered_out == 1);
    CHECK(report.dense_rows == 1);
    CHECK(report.groups[0].dense[0].count == 1);
    CHECK(report.groups[0].dense[0].mean == 0.9);
}

TEST_CASE("report: counts only the dense rows in use") {
    std::vector<boost::json::object> rows = {make_row(dense(1, 0.9)), make_row(dense(2, 0.8)),
                                             make_row(pruned("random", 0.5, 1, 0.5))};

    Report report = build_report(rows, by_pruner_and_sparsity());

    CHECK(report.dense_rows == 1);  // seed 2's dense row serves no pruned row
}

TEST_CASE("report: filter by a number") {
    std::vector<boost::json::object> rows = {make_row(pruned("random", 0.5, 1, 0.6)),
                                             make_row(pruned("random", 0.9, 1, 0.5))};
    ReportOptions options = by_pruner_and_sparsity();
    options.filters = {{"sparsity", "0.90"}};

    Report report = build_report(rows, options);

    REQUIRE(report.groups.size() == 1);
    CHECK(report.groups[0].labels[1] == "0.9");
}

TEST_CASE("report: value columns default to every metric") {
    Report report = build_report({make_row(pruned("random", 0.5, 1, 0.6))}, [] {
        ReportOptions options;
        options.group_by = {"pruner"};
        return options;
    }());

    CHECK(report.value_columns == std::vector<std::string>{"auc"});
}

TEST_CASE("report: value column as a dotted path") {
    boost::json::object row = make_row(pruned("random", 0.5, 1, 0.6));
    row["sparsity"] = {{"all_parameters", {{"sparsity", 0.5}}}};
    ReportOptions options;
    options.group_by = {"pruner"};
    options.values = {"sparsity.all_parameters.sparsity"};

    Report report = build_report({row}, options);

    REQUIRE(report.groups.size() == 1);
    CHECK(report.groups[0].values[0].mean == 0.5);
}

TEST_CASE("report: area by the trapezoidal rule") {
    std::vector<boost::json::object> rows = {make_row(pruned("random", 0.5, 1, 0.8)),
                                             make_row(pruned("random", 0.8, 1, 0.7)),
                                             make_row(pruned("random", 0.9, 1, 0.5))};

    Report report = build_report(rows, by_pruner_and_sparsity());

    REQUIRE(report.curves.size() == 1);
    const Area& area = report.curves[0].areas[0];
    CHECK(area.points == 3);
    CHECK(area.from == 0.5);
    CHECK(area.to == 0.9);
    // By hand: 0.3 * (0.8 + 0.7) / 2 + 0.1 * (0.7 + 0.5) / 2 = 0.225 + 0.06 = 0.285, over a
    // range of 0.4.
    CHECK(area.area.mean == doctest::Approx(0.285).epsilon(1e-12));
    CHECK(area.normalized.mean == doctest::Approx(0.285 / 0.4).epsilon(1e-12));
    CHECK(area.incomplete_seeds == 0);
}

TEST_CASE("report: area per seed, then mean and deviation") {
    // Seed 1 is the curve above (area 0.285); seed 2 is flat at 0.6 (area 0.6 * 0.4 = 0.24).
    std::vector<boost::json::object> rows = {
        make_row(pruned("random", 0.5, 1, 0.8)), make_row(pruned("random", 0.8, 1, 0.7)),
        make_row(pruned("random", 0.9, 1, 0.5)), make_row(pruned("random", 0.5, 2, 0.6)),
        make_row(pruned("random", 0.8, 2, 0.6)), make_row(pruned("random", 0.9, 2, 0.6))};

    Report report = build_report(rows, by_pruner_and_sparsity());

    const Area& area = report.curves[0].areas[0];
    CHECK(area.area.count == 2);
    CHECK(area.area.mean == doctest::Approx((0.285 + 0.24) / 2).epsilon(1e-12));
    REQUIRE(area.area.std_dev.has_value());
    // Two values a, b have sample deviation |a - b| / sqrt(2).
    CHECK(*area.area.std_dev == doctest::Approx(0.045 / std::sqrt(2.0)).epsilon(1e-9));
}

TEST_CASE("report: seed missing a point is left out of the area") {
    RowSpec failed = pruned("random", 0.9, 2, std::nullopt);
    failed.status = "failed";
    std::vector<boost::json::object> rows = {
        make_row(pruned("random", 0.5, 1, 0.8)), make_row(pruned("random", 0.8, 1, 0.7)),
        make_row(pruned("random", 0.9, 1, 0.5)), make_row(pruned("random", 0.5, 2, 0.6)),
        make_row(pruned("random", 0.8, 2, 0.6)), make_row(failed)};

    Report report = build_report(rows, by_pruner_and_sparsity());

    const Area& area = report.curves[0].areas[0];
    CHECK(area.points == 3);
    CHECK(area.incomplete_seeds == 1);
    CHECK(area.area.count == 1);
    CHECK(area.area.mean == doctest::Approx(0.285).epsilon(1e-12));
}

TEST_CASE("report: curve from dense starts at sparsity 0") {
    std::vector<boost::json::object> rows = {
        make_row(dense(1, 0.9)), make_row(pruned("random", 0.5, 1, 0.8)),
        make_row(pruned("random", 0.8, 1, 0.7)), make_row(pruned("random", 0.9, 1, 0.5))};
    ReportOptions options = by_pruner_and_sparsity();
    options.curve_from_dense = true;

    Report report = build_report(rows, options);

    const Area& area = report.curves[0].areas[0];
    CHECK(area.points == 4);
    CHECK(area.from == 0.0);
    // By hand: 0.5 * (0.9 + 0.8) / 2 = 0.425, plus 0.285 from the pruned points.
    CHECK(area.area.mean == doctest::Approx(0.71).epsilon(1e-12));
    CHECK(area.normalized.mean == doctest::Approx(0.71 / 0.9).epsilon(1e-12));
}

TEST_CASE("report: one sparsity gives no area table") {
    Report report =
        build_report({make_row(pruned("random", 0.5, 1, 0.8))}, by_pruner_and_sparsity());

    CHECK(report.curves.empty());
    CHECK(report.curve_x.empty());
    REQUIRE(report.notes.size() == 1);
    CHECK(report.notes[0].find("single target_sparsity point") != std::string::npos);
}

TEST_CASE("report: single-point curve beside a full one") {
    std::vector<boost::json::object> rows = {make_row(pruned("random", 0.5, 1, 0.6)),
                                             make_row(pruned("random", 0.9, 1, 0.5)),
                                             make_row(pruned("magnitude", 0.5, 1, 0.8))};

    Report report = build_report(rows, by_pruner_and_sparsity());

    REQUIRE(report.curves.size() == 2);
    CHECK(report.curves[1].areas[0].points == 1);
    CHECK(report.curves[1].areas[0].area.count == 0);
    CHECK(report.curves[1].areas[0].incomplete_seeds == 0);
}

TEST_CASE("report: one curve per pruner") {
    std::vector<boost::json::object> rows = {
        make_row(pruned("random", 0.5, 1, 0.6)), make_row(pruned("random", 0.9, 1, 0.5)),
        make_row(pruned("magnitude", 0.5, 1, 0.8)), make_row(pruned("magnitude", 0.9, 1, 0.7))};

    Report report = build_report(rows, by_pruner_and_sparsity());

    REQUIRE(report.curves.size() == 2);
    CHECK(report.curve_columns == std::vector<std::string>{"pruner"});
    CHECK(report.curves[0].labels[0] == "random");
    CHECK(report.curves[0].areas[0].area.mean == doctest::Approx(0.4 * 0.55).epsilon(1e-12));
    CHECK(report.curves[1].labels[0] == "magnitude");
    CHECK(report.curves[1].areas[0].area.mean == doctest::Approx(0.4 * 0.75).epsilon(1e-12));
}

TEST_CASE("report: empty group list is rejected") {
    ReportOptions options;
    options.group_by.clear();

    CHECK_THROWS_AS(build_report({}, options), recprune::ConfigError);
}

TEST_CASE("report: dense rows only are rejected") {
    const std::vector<boost::json::object> rows = {make_row(dense(1, 0.9)),
                                                   make_row(dense(2, 0.8))};

    // The default grouping includes "pruner", which no dense row has; the message must not
    // blame --group-by, which the user did not give.
    CHECK_THROWS_WITH_AS(build_report(rows, ReportOptions()),
                         "nothing to report: the input contains no pruned row, only 2 dense "
                         "rows; run a grid with pruners and sparsities first, because the report "
                         "groups pruned rows and shows dense rows only as their baselines",
                         recprune::ConfigError);
}

TEST_CASE("report: curve column that is not a number is rejected") {
    ReportOptions options = by_pruner_and_sparsity();
    options.curve_x = "pruner";

    CHECK_THROWS_WITH_AS(build_report({make_row(pruned("random", 0.5, 1, 0.6))}, options),
                         doctest::Contains("--curve-x pruner"), recprune::ConfigError);
}

TEST_CASE("report: best pruner per sparsity") {
    std::vector<boost::json::object> rows = {
        make_row(pruned("random", 0.5, 1, 0.6)), make_row(pruned("random", 0.9, 1, 0.55)),
        make_row(pruned("magnitude", 0.5, 1, 0.8)), make_row(pruned("magnitude", 0.9, 1, 0.5))};

    Report report = build_report(rows, by_pruner_and_sparsity());

    // Lines in table order: random 0.5, random 0.9, magnitude 0.5, magnitude 0.9.
    REQUIRE(report.groups.size() == 4);
    CHECK_FALSE(report.groups[0].best[0]);
    CHECK(report.groups[1].best[0]);  // 0.55 beats 0.5 at sparsity 0.9
    CHECK(report.groups[2].best[0]);  // 0.8 beats 0.6 at sparsity 0.5
    CHECK_FALSE(report.groups[3].best[0]);
}

TEST_CASE("report: lower log loss is best") {
    boost::json::object random = make_row(pruned("random", 0.5, 1, 0.6));
    boost::json::object magnitude = make_row(pruned("magnitude", 0.5, 1, 0.8));
    random["metrics"].as_object()["test"].as_object()["logloss"] = {{"value", 0.5},
                                                                     {"status", "ok"}};
    magnitude["metrics"].as_object()["test"].as_object()["logloss"] = {{"value", 0.7},
                                                                        {"status", "ok"}};
    ReportOptions options = by_pruner_and_sparsity();
    options.values = {"logloss"};

    Report report = build_report({random, magnitude}, options);

    REQUIRE(report.groups.size() == 2);
    CHECK(report.groups[0].best[0]);
    CHECK_FALSE(report.groups[1].best[0]);
}

TEST_CASE("report: ties are all best, paths never") {
    boost::json::object random = make_row(pruned("random", 0.5, 1, 0.7));
    boost::json::object magnitude = make_row(pruned("magnitude", 0.5, 1, 0.7));
    random["timings"] = {{"total_seconds", 1.0}};
    magnitude["timings"] = {{"total_seconds", 2.0}};
    ReportOptions options = by_pruner_and_sparsity();
    options.values = {"auc", "timings.total_seconds"};

    Report report = build_report({random, magnitude}, options);

    REQUIRE(report.groups.size() == 2);
    CHECK(report.groups[0].best[0]);
    CHECK(report.groups[1].best[0]);
    CHECK_FALSE(report.groups[0].best[1]);
    CHECK_FALSE(report.groups[1].best[1]);
}

TEST_CASE("report format: bold best in Markdown and LaTeX") {
    std::vector<boost::json::object> rows = {make_row(pruned("random", 0.5, 1, 0.6)),
                                             make_row(pruned("magnitude", 0.5, 1, 0.8))};
    Report report = build_report(rows, by_pruner_and_sparsity());
    recprune::report::FormatOptions format;
    format.bold_best = true;

    std::string markdown = recprune::report::to_markdown(report, format);
    std::string latex = recprune::report::groups_latex(report, format);

    CHECK(markdown.find("**0.8000**") != std::string::npos);
    CHECK(markdown.find("**0.6000**") == std::string::npos);
    CHECK(latex.find("\\textbf{0.8000}") != std::string::npos);
}

TEST_CASE("report format: CSV header and full precision") {
    std::vector<boost::json::object> rows = {make_row(dense(1, 0.9)),
                                             make_row(pruned("random", 0.5, 1, 0.123456789012345)),
                                             make_row(pruned("random", 0.9, 1, 0.5))};
    Report report = build_report(rows, by_pruner_and_sparsity());

    auto lines = lines_of(recprune::report::groups_csv(report));

    REQUIRE(lines.size() == 3);
    CHECK(lines[0] == "pruner,target_sparsity,rows,seeds,failed,not_reached,auc_mean,auc_std,"
                      "auc_count,auc_undefined,auc_dense_mean,auc_dense_std,auc_dense_count");
    // One seed: no deviation, so an empty field, which pandas reads as NaN.
    CHECK(lines[1] == "random,0.5,1,1,0,0,0.123456789012345,,1,0,0.9,,1");
}

TEST_CASE("report format: CSV quotes labels with commas") {
    RowSpec spec = pruned("magnitude", 0.5, 1, 0.6);
    spec.pruner_params = {{"granularity", "neuron"}, {"scope", "global"}};
    RowSpec other = pruned("magnitude", 0.5, 1, 0.7);
    other.pruner_params = {{"granularity", "weight"}, {"scope", "per_tensor"}};
    Report report = build_report({make_row(spec), make_row(other)}, by_pruner_and_sparsity());

    auto lines = lines_of(recprune::report::groups_csv(report));

    REQUIRE(lines.size() == 3);
    CHECK(lines[1].rfind("\"magnitude(granularity=neuron, scope=global)\",0.5,", 0) == 0);
}

TEST_CASE("report format: areas CSV has one line per curve") {
    std::vector<boost::json::object> rows = {make_row(pruned("random", 0.5, 1, 0.6)),
                                             make_row(pruned("random", 0.9, 1, 0.5))};
    Report report = build_report(rows, by_pruner_and_sparsity());

    auto lines = lines_of(recprune::report::areas_csv(report));

    REQUIRE(lines.size() == 2);
    CHECK(lines[0] == "pruner,points,from,to,auc_area_mean,auc_area_std,auc_normalized_mean,"
                      "auc_normalized_std,auc_seeds,auc_incomplete_seeds");
    CHECK(lines[1].rfind("random,2,0.5,0.9,", 0) == 0);
}

TEST_CASE("report format: LaTeX uses booktabs and escapes names") {
    RowSpec spec = pruned("my_pruner", 0.5, 1, 0.75);
    Report report = build_report({make_row(spec), make_row(pruned("random", 0.5, 1, 0.5))},
                                 by_pruner_and_sparsity());

    std::string latex = recprune::report::groups_latex(report, {});

    CHECK(latex.find("\\toprule") != std::string::npos);
    CHECK(latex.find("\\midrule") != std::string::npos);
    CHECK(latex.find("\\bottomrule") != std::string::npos);
    CHECK(latex.find("my\\_pruner") != std::string::npos);
    CHECK(latex.find("target\\_sparsity") == std::string::npos);  // one value, moved out
    CHECK(latex.find("0.7500") != std::string::npos);
}

TEST_CASE("report format: Markdown moves single-valued columns out") {
    std::vector<boost::json::object> rows = {make_row(pruned("random", 0.5, 1, 0.6)),
                                             make_row(pruned("random", 0.5, 2, 0.8)),
                                             make_row(pruned("random", 0.9, 1, 0.5))};
    ReportOptions options = by_pruner_and_sparsity();
    options.group_by = {"dataset", "pruner", "sparsity"};
    Report report = build_report(rows, options);

    std::string markdown = recprune::report::to_markdown(report, {});

    CHECK(markdown.find("Same in every line: dataset = movietweetings, pruner = random") !=
          std::string::npos);
    CHECK(markdown.find("| target_sparsity |") != std::string::npos);
    // Mean 0.7 and sample deviation 0.1 * sqrt(2) / 2 = 0.1414 of seeds 1 and 2, by hand.
    CHECK(markdown.find("0.7000 ± 0.1414") != std::string::npos);
}

TEST_CASE("report format: header names what pooled rows spread over") {
    // Two pruners of seed 1 grouped by seed alone: the line pools rows that differ in pruner.
    std::vector<boost::json::object> rows = {make_row(pruned("random", 0.5, 1, 0.6)),
                                             make_row(pruned("magnitude", 0.5, 1, 0.8))};
    ReportOptions options = by_pruner_and_sparsity();
    options.group_by = {"seed"};
    Report pooled = build_report(rows, options);
    Report by_seed = build_report({rows[0]}, options);

    std::string pooled_markdown = recprune::report::to_markdown(pooled, {});
    std::string by_seed_markdown = recprune::report::to_markdown(by_seed, {});
    std::string pooled_latex = recprune::report::groups_latex(pooled, {});

    CHECK(pooled.statistics_over_rows);
    CHECK(pooled_markdown.find("deviation over the rows of each line") != std::string::npos);
    CHECK(pooled_markdown.find("over seeds") == std::string::npos);
    CHECK(pooled_markdown.find("statistics are over rows") != std::string::npos);
    CHECK(pooled_latex.find("deviation over the rows of each line") != std::string::npos);
    CHECK_FALSE(by_seed.statistics_over_rows);
    CHECK(by_seed_markdown.find("deviation over seeds") != std::string::npos);
}

TEST_CASE("report format: Markdown shows undefined counts") {
    std::vector<boost::json::object> rows = {make_row(pruned("random", 0.5, 1, 0.6)),
                                             make_row(pruned("random", 0.5, 2, std::nullopt))};
    Report report = build_report(rows, by_pruner_and_sparsity());

    std::string markdown = recprune::report::to_markdown(report, {});

    CHECK(markdown.find("0.6000 (1 undefined)") != std::string::npos);
}

TEST_CASE("report files: later row of a cell replaces the earlier") {
    TemporaryFolder folder;
    boost::json::object first = make_row(pruned("random", 0.5, 1, 0.6));
    boost::json::object second = make_row(pruned("random", 0.5, 1, 0.7));
    auto older = folder.write("older.jsonl", boost::json::serialize(first) + "\n");
    auto newer = folder.write("newer.jsonl", boost::json::serialize(second) + "\n");

    auto rows = recprune::report::read_results({older, newer});

    REQUIRE(rows.size() == 1);
    CHECK(rows[0].at("metrics").at("test").at("auc").at("value").as_double() == 0.7);
}

TEST_CASE("report files: folder without results is rejected") {
    TemporaryFolder folder;

    CHECK_THROWS_WITH_AS(recprune::report::read_results({folder.path}),
                         doctest::Contains("no results.json or results.jsonl"),
                         recprune::ConfigError);
}

TEST_CASE("report files: writes every format") {
    TemporaryFolder folder;
    std::vector<boost::json::object> rows = {make_row(pruned("random", 0.5, 1, 0.6)),
                                             make_row(pruned("random", 0.9, 1, 0.5))};
    Report report = build_report(rows, by_pruner_and_sparsity());

    auto written = recprune::report::write_report_files(report, {}, folder.path / "report");

    CHECK(written.size() == 5);
    for (const char* name : {"report.md", "groups.csv", "groups.tex", "areas.csv", "areas.tex"}) {
        CHECK(std::filesystem::exists(folder.path / "report" / name));
    }
}

TEST_CASE("report columns: find_path walks nested objects") {
    boost::json::object row = {{"a", {{"b", {{"c", 3}}}}}};

    CHECK(recprune::report::find_path(row, "a.b.c")->as_int64() == 3);
    CHECK(recprune::report::find_path(row, "a.x.c") == nullptr);
    CHECK(recprune::report::find_path(row, "a.b.c.d") == nullptr);
}
