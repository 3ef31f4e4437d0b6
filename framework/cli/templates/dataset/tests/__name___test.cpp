// Unit test of the @NAME@ dataset through its C entry point, the way the host calls it: create,
// list_sources, load and destroy, on small files written by the test.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "recprune/abi.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

extern "C" const recprune_plugin_descriptor_t* recprune_plugin_entry(uint16_t, uint16_t);

namespace {

void set_message(void* data, const char* text) { *static_cast<std::string*>(data) = text; }

// Writes `content` to a file in the temporary folder and removes it at scope exit.
struct TemporaryFile {
    std::filesystem::path path;
    explicit TemporaryFile(const std::string& content) {
        path = std::filesystem::temp_directory_path() /
               ("@NAME@_test_" + std::to_string(::getpid()) + ".csv");
        std::ofstream(path) << content;
    }
    ~TemporaryFile() { std::filesystem::remove(path); }
};

// A dataset created and loaded through the C API, destroyed at scope exit.
struct LoadedDataset {
    const recprune_dataset_api_t* api = nullptr;
    recprune_dataset_t handle = nullptr;
    recprune_table_t table{};
    recprune_status_t status = RECPRUNE_STATUS_OK;
    std::string message;

    LoadedDataset(const std::string& params) {
        api = recprune_plugin_entry(RECPRUNE_ABI_MAJOR, RECPRUNE_ABI_MINOR)->dataset;
        recprune_error_t error{&message, &set_message};
        status = api->create(nullptr, params.c_str(), &handle, &error);
        if (status == RECPRUNE_STATUS_OK) status = api->load(handle, &table, &error);
    }
    ~LoadedDataset() {
        if (handle != nullptr) api->destroy(handle);
    }
};

std::string params_for(const std::filesystem::path& path, const char* on_bad_line = "fail") {
    return "{\"path\": \"" + path.string() + "\", \"on_bad_line\": \"" + on_bad_line + "\"}";
}

}  // namespace

TEST_CASE("@NAME@: reads the four columns with their roles") {
    TemporaryFile file("user,item,tags,label\nu1,i1,a|b,1\nu2,i1,,0\nu1,i2,b,1\n");

    LoadedDataset dataset(params_for(file.path));

    REQUIRE(dataset.status == RECPRUNE_STATUS_OK);
    REQUIRE(dataset.table.column_count == 4);
    CHECK(dataset.table.row_count == 3);
    const recprune_column_t* columns = dataset.table.columns;
    CHECK(std::string(columns[0].name) == "user");
    CHECK((columns[0].roles & RECPRUNE_COLUMN_ROLE_USER) != 0);
    CHECK((columns[1].roles & RECPRUNE_COLUMN_ROLE_ITEM) != 0);
    CHECK(columns[0].keys[0] == columns[0].keys[2]);  // u1 twice, so the same key
    CHECK(columns[2].type == RECPRUNE_COLUMN_TYPE_MULTI_HOT);
    // Tags per row: 2, 0 and 1, so the offsets are 0, 2, 2, 3.
    CHECK(columns[2].offsets[1] == 2);
    CHECK(columns[2].offsets[2] == 2);
    CHECK(columns[2].offsets[3] == 3);
    CHECK(columns[3].numeric[0] == 1.0);
    CHECK(columns[3].numeric[1] == 0.0);
}

TEST_CASE("@NAME@: names file and line of a bad label") {
    TemporaryFile file("user,item,tags,label\nu1,i1,a,1\nu2,i1,a,yes\n");

    LoadedDataset dataset(params_for(file.path));

    CHECK(dataset.status == RECPRUNE_STATUS_DATA_ERROR);
    CHECK(dataset.message.find(file.path.string() + ":3") != std::string::npos);
    CHECK(dataset.message.find("label") != std::string::npos);
}

TEST_CASE("@NAME@: skips bad lines when asked") {
    TemporaryFile file("user,item,tags,label\nu1,i1,a,1\nu2,i1,2\nu3,i3,,0\n");

    LoadedDataset dataset(params_for(file.path, "skip"));

    REQUIRE(dataset.status == RECPRUNE_STATUS_OK);
    CHECK(dataset.table.row_count == 2);
    CHECK(std::string(dataset.table.metadata_json).find("\"skipped_lines\":1") !=
          std::string::npos);
}

TEST_CASE("@NAME@: rejects a file without the header") {
    TemporaryFile file("u1,i1,a,1\n");

    LoadedDataset dataset(params_for(file.path));

    CHECK(dataset.status == RECPRUNE_STATUS_DATA_ERROR);
    CHECK(dataset.message.find("header") != std::string::npos);
}
