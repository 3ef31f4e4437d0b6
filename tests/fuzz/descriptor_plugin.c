/* A plugin whose descriptor comes from a file, so the fuzzer can feed the host's descriptor
 * checks (plugin::PluginLibrary::load) any descriptor a real plugin could return.
 *
 * The entry symbol reads the file named by RECPRUNE_FUZZ_DESCRIPTOR_FILE on every call and
 * builds the descriptor from it. Layout (little-endian, missing bytes read as zero):
 *
 *   offset  0  uint16  abi_major
 *   offset  2  uint16  abi_minor
 *   offset  4  uint32  struct_size of the descriptor
 *   offset  8  uint32  kind
 *   offset 12  uint32  struct_size of the function table
 *   offset 16  uint32  null mask: bit 0 name, 1 version, 2 description, 3 schema, 4 the table,
 *                      bit 5 + i the i-th function of the table
 *   offset 20  uint32  flags: bit 0 the entry returns NULL; bits 1-2 which table is set
 *                      (0 the one matching kind, 1 dataset, 2 model, 3 pruner)
 *   offset 24          name NUL version NUL description NUL schema NUL (the rest is for the
 *                      harness: the grid parameters it checks against the schema)
 *
 * Every pointer the descriptor holds is valid and every string is NUL-terminated, as the ABI
 * requires: the host cannot check pointers, so a descriptor with wild pointers is out of scope.
 * The table functions are placeholders that the descriptor target never calls. */
#include "recprune/abi.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HEADER_BYTES 24
#define MAX_INPUT_BYTES (1 << 20)

/* Two spare bytes, so the strings past the end of a short or full input read as "". */
static char input[MAX_INPUT_BYTES + 2];
static recprune_plugin_descriptor_t descriptor;
static recprune_dataset_api_t dataset_api;
static recprune_model_api_t model_api;
static recprune_pruner_api_t pruner_api;

/* Stands in for every function of the tables. The host never calls a function in the
 * descriptor target; it only checks which pointers are NULL. */
static void placeholder_function(void) {}

static uint32_t read_u32(size_t offset) {
    const unsigned char* bytes = (const unsigned char*)input + offset;
    return (uint32_t)bytes[0] | ((uint32_t)bytes[1] << 8) | ((uint32_t)bytes[2] << 16) |
           ((uint32_t)bytes[3] << 24);
}

static uint16_t read_u16(size_t offset) {
    const unsigned char* bytes = (const unsigned char*)input + offset;
    return (uint16_t)(bytes[0] | (bytes[1] << 8));
}

/* Returns the string at `*cursor` and moves past its NUL; `input` always ends in a NUL. */
static const char* next_string(size_t* cursor, size_t size) {
    const char* text = input + *cursor;
    size_t length = strlen(text);
    *cursor += length + 1;
    if (*cursor > size + 1) *cursor = size + 1;
    return text;
}

/* Sets function `index` of a table to the placeholder unless the null mask clears it. */
#define SET_FUNCTION(table, field, index)                                                  \
    (table).field = (mask & (1u << (5 + (index)))) != 0                                    \
                        ? NULL                                                             \
                        : (__typeof__((table).field))placeholder_function

static void fill_tables(uint32_t mask, uint32_t table_size) {
    memset(&dataset_api, 0, sizeof(dataset_api));
    memset(&model_api, 0, sizeof(model_api));
    memset(&pruner_api, 0, sizeof(pruner_api));
    dataset_api.struct_size = table_size;
    model_api.struct_size = table_size;
    pruner_api.struct_size = table_size;

    SET_FUNCTION(dataset_api, create, 0);
    SET_FUNCTION(dataset_api, destroy, 1);
    SET_FUNCTION(dataset_api, list_sources, 2);
    SET_FUNCTION(dataset_api, load, 3);

    SET_FUNCTION(model_api, create, 0);
    SET_FUNCTION(model_api, destroy, 1);
    SET_FUNCTION(model_api, get_tensors, 2);
    SET_FUNCTION(model_api, get_structure, 3);
    SET_FUNCTION(model_api, forward, 4);
    SET_FUNCTION(model_api, backward, 5);
    SET_FUNCTION(model_api, touched_rows, 6);
    SET_FUNCTION(model_api, cost, 7);
    SET_FUNCTION(model_api, compact, 8);
    SET_FUNCTION(model_api, save, 9);
    SET_FUNCTION(model_api, load, 10);

    SET_FUNCTION(pruner_api, create, 0);
    SET_FUNCTION(pruner_api, destroy, 1);
    SET_FUNCTION(pruner_api, get_info, 2);
    SET_FUNCTION(pruner_api, score, 3);
    SET_FUNCTION(pruner_api, regularize, 4);
}

RECPRUNE_EXPORT const recprune_plugin_descriptor_t* recprune_plugin_entry(uint16_t host_major,
                                                                         uint16_t host_minor) {
    (void)host_major;
    (void)host_minor;
    const char* path = getenv("RECPRUNE_FUZZ_DESCRIPTOR_FILE");
    if (path == NULL) return NULL;
    FILE* file = fopen(path, "rb");
    if (file == NULL) return NULL;
    memset(input, 0, sizeof(input));
    size_t size = fread(input, 1, MAX_INPUT_BYTES, file);
    fclose(file);

    const uint32_t mask = read_u32(16);
    const uint32_t flags = read_u32(20);
    if ((flags & 1u) != 0) return NULL;
    fill_tables(mask, read_u32(12));

    memset(&descriptor, 0, sizeof(descriptor));
    descriptor.abi_major = read_u16(0);
    descriptor.abi_minor = read_u16(2);
    descriptor.struct_size = read_u32(4);
    descriptor.kind = read_u32(8);

    size_t cursor = size < HEADER_BYTES ? size : HEADER_BYTES;
    const char* name = next_string(&cursor, size);
    const char* version = next_string(&cursor, size);
    const char* description = next_string(&cursor, size);
    const char* schema = next_string(&cursor, size);
    descriptor.name = (mask & 1u) ? NULL : name;
    descriptor.version = (mask & 2u) ? NULL : version;
    descriptor.description = (mask & 4u) ? NULL : description;
    descriptor.parameter_schema_json = (mask & 8u) ? NULL : schema;

    if ((mask & 16u) == 0) {
        uint32_t table = (flags >> 1) & 3u;
        if (table == 0) table = descriptor.kind;
        if (table == RECPRUNE_KIND_DATASET) descriptor.dataset = &dataset_api;
        if (table == RECPRUNE_KIND_MODEL) descriptor.model = &model_api;
        if (table == RECPRUNE_KIND_PRUNER) descriptor.pruner = &pruner_api;
    }
    return &descriptor;
}
