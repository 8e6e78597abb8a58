// Times ONNX Runtime (CPU) on one model: node ort_bench.js MODEL.onnx BATCH THREADS RUNS
// Prints "median_ms X" (after a warm-up), so bench/run_benchmarks.py can parse it.
const ort = require('onnxruntime-node');

async function main() {
  const [model, batch, threads, runs] = process.argv.slice(2);
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: Number(threads),
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const inputName = session.inputNames[0];
  const meta = session.inputMetadata ? session.inputMetadata[0] : null;
  const dims = JSON.parse(process.env.CNNC_BENCH_SHAPE);
  dims[0] = Number(batch);
  const size = dims.reduce((a, b) => a * b, 1);
  const data = new Float32Array(size);
  for (let i = 0; i < size; ++i) data[i] = Math.sin(i) * 0.5;
  const feeds = {};
  feeds[inputName] = new ort.Tensor('float32', data, dims);
  for (let i = 0; i < 5; ++i) await session.run(feeds);
  const times = [];
  for (let i = 0; i < Number(runs); ++i) {
    const t0 = process.hrtime.bigint();
    await session.run(feeds);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  times.sort((a, b) => a - b);
  console.log('median_ms ' + times[Math.floor(times.length / 2)].toFixed(4));
  void meta;
}
main().catch((e) => { console.error(e); process.exit(1); });
