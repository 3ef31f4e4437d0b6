/* Compiled as C99 only: proves abi.h is valid C and names every type a C plugin needs. */
#include "recprune/abi.h"

static const recprune_plugin_descriptor_t* entry(uint16_t major, uint16_t minor) {
    (void)major;
    (void)minor;
    return (const recprune_plugin_descriptor_t*)0;
}

recprune_entry_fn recprune_abi_c_check_entry = entry;
recprune_dataset_api_t recprune_abi_c_check_dataset;
recprune_model_api_t recprune_abi_c_check_model;
recprune_pruner_api_t recprune_abi_c_check_pruner;
recprune_prune_context_t recprune_abi_c_check_context;
recprune_host_t recprune_abi_c_check_host;
