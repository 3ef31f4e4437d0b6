// DeepFM (Guo et al., IJCAI 2017): first-order weights, an FM term and an MLP over shared field
// embeddings. The model lives in recprune/nn/models/deep_ctr.hpp, shared with wide_deep.
#include "recprune/nn/models/deep_ctr.hpp"

namespace {

namespace nn = recprune::nn;

class DeepFm final : public nn::DeepCtrModel {
public:
    DeepFm(const recprune::Host& host, const recprune::json& params,
           const recprune::json& schema, uint64_t seed)
        : DeepCtrModel(nn::DeepCtrKind::DeepFm, host,
                       nn::ModelConfig::make(nn::Params(nn::kDeepCtrSchema, params).values(),
                                             schema),
                       seed) {}

    static std::unique_ptr<recprune::Model> load(const recprune::Host& host,
                                                 const std::string& path) {
        return DeepCtrModel::load(nn::DeepCtrKind::DeepFm, host, path);
    }
};

}  // namespace

RECPRUNE_REGISTER_PLUGIN(DeepFm, "deepfm", "1.0.0",
                         "DeepFM: first-order weights, FM term and MLP over shared embeddings",
                         recprune::nn::kDeepCtrSchema)
