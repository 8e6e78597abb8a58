//===- Activation.cpp - the activations and their gradients in Halide -----===//
//
// The one definition of each activation's math in codegen: the activation
// ops, the fused ops' epilogues, activation_grad and pool2d_backward's
// gradient mask all lower through these two functions. (The dialect's
// folders in CNNFolds.cpp evaluate the activation ops on constants in C++.)
//
//===----------------------------------------------------------------------===//
#include "KernelBuilder.h"

using namespace Halide;
using cnnc::cnn::Activation;
using cnnc::cnn::ActivationSpec;

Expr cnnc::codegen::applyActivation(Expr x, const ActivationSpec &act) {
  switch (act.kind) {
  case Activation::None:
    return x;
  case Activation::Relu:
    return Halide::max(x, 0.0f);
  case Activation::LeakyRelu:
    return select(x >= 0.0f, x, act.leakyAlpha * x);
  case Activation::Clip:
    return clamp(x, act.min, act.max);
  case Activation::Sigmoid:
    return 1.0f / (1.0f + exp(-x));
  case Activation::Tanh:
    return tanh(x);
  case Activation::SiLU: // x * sigmoid(x), as the unfused ops compute it
    return x * (1.0f / (1.0f + exp(-x)));
  case Activation::HardSwish: // x * clip(x * 1/6 + 1/2, 0, 1), likewise
    return x * clamp(x * (1.0f / 6.0f) + 0.5f, 0.0f, 1.0f);
  case Activation::Gelu: // x * (erf(x / sqrt(2)) + 1) * 1/2, likewise
    return x * (erf(x / (float)M_SQRT2) + 1.0f) * 0.5f;
  }
  return x;
}

Expr cnnc::codegen::activationGrad(Expr dy, Expr y, const ActivationSpec &act) {
  switch (act.kind) {
  case Activation::None:
    return dy;
  case Activation::Relu:
    return select(y > 0.0f, dy, 0.0f);
  case Activation::LeakyRelu:
    return select(y > 0.0f, dy, act.leakyAlpha * dy);
  case Activation::Clip:
    return select(y > act.min && y < act.max, dy, 0.0f);
  case Activation::Sigmoid:
    return dy * y * (1.0f - y);
  case Activation::Tanh:
    return dy * (1.0f - y * y);
  case Activation::SiLU:
  case Activation::HardSwish:
  case Activation::Gelu:
    break; // not a function of y: the verifier refuses activation_grad
  }
  return dy;
}
