// Wide & Deep (Cheng et al., DLRS 2016): a linear "wide" part over the feature values plus an
// MLP over field embeddings. The model lives in recprune/nn/models/deep_ctr.hpp, shared with
// deepfm.
#include "recprune/nn/models/deep_ctr.hpp"

namespace {

namespace nn = recprune::nn;

class WideDeep final : public nn::DeepCtrModel {
public:
    WideDeep(const recprune::Host& host, const recprune::json& params,
             const recprune::json& schema, uint64_t seed)
        : DeepCtrModel(nn::DeepCtrKind::WideDeep, host,
                       nn::ModelConfig::make(nn::Params(nn::kDeepCtrSchema, params).values(),
                                             schema),
                       seed) {}

    static std::unique_ptr<recprune::Model> load(const recprune::Host& host,
                                                 const std::string& path) {
        return DeepCtrModel::load(nn::DeepCtrKind::WideDeep, host, path);
    }
};

}  // namespace

RECPRUNE_REGISTER_PLUGIN(WideDeep, "wide_deep", "1.0.0",
                         "Wide & Deep: linear part over feature values plus an MLP over embeddings",
                         recprune::nn::kDeepCtrSchema)
