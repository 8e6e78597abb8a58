//===- ModelSummaryTest.cpp - parameter counting rules --------------------===//
#include "cnnc/Analysis/ModelSummary.h"
#include "cnnc/InitAll.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser.h"

#include <gtest/gtest.h>

namespace {
// A shared weight used twice, a frozen bias, BatchNorm running statistics.
const char *kModel = R"mlir(
module @tiny {
  func @main(%x: tensor<?x3x8x8xf32>) -> tensor<?x4x4x4xf32> {
    %w = cnn.param "conv.weight" {init = "kaiming_uniform"} : tensor<4x3x3x3xf32>
    %b = cnn.param "conv.bias" frozen {init = "zeros"} : tensor<4xf32>
    %y = cnn.conv2d %x, %w, %b {pads = [1, 1, 1, 1]} : (tensor<?x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>) -> tensor<?x4x8x8xf32>
    %s = cnn.param "bn.weight" {init = "ones"} : tensor<4xf32>
    %t = cnn.param "bn.bias" {init = "zeros"} : tensor<4xf32>
    %m = cnn.param "bn.running_mean" {buffer, init = "zeros"} : tensor<4xf32>
    %v = cnn.param "bn.running_var" {buffer, init = "ones"} : tensor<4xf32>
    %n = cnn.batch_norm %y, %s, %t, %m, %v : (tensor<?x4x8x8xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<?x4x8x8xf32>
    %p = cnn.max_pool2d %n {kernel_shape = [2, 2], strides = [2, 2]} : (tensor<?x4x8x8xf32>) -> tensor<?x4x4x4xf32>
    %w2 = cnn.param "mix.weight" {init = "kaiming_uniform"} : tensor<4x4x1x1xf32>
    %q = cnn.conv2d %p, %w2 : (tensor<?x4x4x4xf32>, tensor<4x4x1x1xf32>) -> tensor<?x4x4x4xf32>
    %r = cnn.conv2d %q, %w2 : (tensor<?x4x4x4xf32>, tensor<4x4x1x1xf32>) -> tensor<?x4x4x4xf32>
    return %r : tensor<?x4x4x4xf32>
  }
}
)mlir";
} // namespace

TEST(ModelSummary, CountsParametersOnceAndSkipsBuffers) {
  mlir::DialectRegistry registry;
  cnnc::registerAllDialects(registry);
  mlir::MLIRContext context(registry);
  auto module = mlir::parseSourceString<mlir::ModuleOp>(kModel, &context);
  ASSERT_TRUE(module);
  auto summary = cnnc::summarizeModel(*module);
  ASSERT_TRUE(mlir::succeeded(summary));
  EXPECT_EQ(summary->modelName, "tiny");
  ASSERT_EQ(summary->layers.size(), 5u);
  EXPECT_EQ(summary->layers[0].op, "conv2d");
  EXPECT_EQ(summary->layers[0].params, 4 * 27 + 4);
  EXPECT_EQ(summary->layers[0].trainableParams, 4 * 27);
  EXPECT_EQ(summary->layers[0].outputShape, "(None, 4, 8, 8)");
  EXPECT_EQ(summary->layers[1].params, 8); // scale + shift, not the buffers
  EXPECT_EQ(summary->layers[3].params, 16);
  EXPECT_EQ(summary->layers[4].params, 0); // shared weight counted once
  EXPECT_EQ(summary->totalParams, 112 + 8 + 16);
  EXPECT_EQ(summary->trainableParams, 108 + 8 + 16);
  EXPECT_EQ(summary->nonTrainableParams(), 4);

  std::string text;
  llvm::raw_string_ostream os(text);
  cnnc::printModelSummary(*summary, os);
  EXPECT_NE(os.str().find("Total params: 136\n"), std::string::npos);
  EXPECT_NE(os.str().find("Non-trainable params: 4\n"), std::string::npos);
}

TEST(ModelSummary, ThousandsSeparators) {
  EXPECT_EQ(cnnc::withThousandsSeparators(0), "0");
  EXPECT_EQ(cnnc::withThousandsSeparators(850), "850");
  EXPECT_EQ(cnnc::withThousandsSeparators(61706), "61,706");
  EXPECT_EQ(cnnc::withThousandsSeparators(11181642), "11,181,642");
  EXPECT_EQ(cnnc::withThousandsSeparators(1000), "1,000");
}
