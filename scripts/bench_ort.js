// bench_ort.js: ONNX Runtime on the work of package bench's benchmarks.
//
//   node scripts/bench_ort.js --data DIR [--count N] [--time S] [--threads T]
//   node scripts/bench_ort.js --data DIR --peak SIZE [--runs R]
//
// NODE_PATH must reach onnxruntime-node (scripts/bench.sh installs it with
// `npm install --ignore-scripts onnxruntime-node@1.31.1` into a cache
// directory: the npm tarball ships the Linux library). DIR is what
// TestWritePeerData (package bench) and scripts/bench_peers.py wrote: the
// inputs and the Go engine's output of every case in manifest.json as .npy,
// and each case's ONNX model (<case>.onnx, exported from the torch version).
//
// For each case: one session (intra-op threads T, default 2; inter-op 1;
// sequential execution; every graph optimization), the output checked
// against the Go engine's (the largest absolute difference at most 1e-4 of
// the largest |Go output|; exit status 1 otherwise), then --count rounds of
// runs for --time seconds each (at least one run, after one warm-up), each
// printed as a `go test -bench` line with engine=onnxruntime for
// scripts/benchtable. --peak SIZE loads the U-Net, runs it R times (default
// 5) on SIZE's input and prints the process's peak RSS as a
// BenchmarkUNetPeak line.
"use strict";
const fs = require("fs");
const path = require("path");
const ort = require("onnxruntime-node");

function args() {
  const a = { count: 5, time: 1, threads: 2, peak: "", runs: 5, filter: "" };
  const v = process.argv.slice(2);
  for (let i = 0; i < v.length; i += 2) {
    const k = v[i].replace(/^--/, "");
    if (!(k in a) && k !== "data") throw new Error(`bench_ort.js: unknown flag ${v[i]}`);
    a[k] = typeof a[k] === "number" ? Number(v[i + 1]) : v[i + 1];
  }
  if (!a.data) throw new Error("bench_ort.js: --data DIR is required");
  return a;
}

// readNpy reads a little-endian float32 C-order .npy file (what package npy writes).
function readNpy(file) {
  const b = fs.readFileSync(file);
  if (b.toString("latin1", 1, 6) !== "NUMPY") throw new Error(`${file}: not a .npy file`);
  const major = b[6];
  const hlen = major === 1 ? b.readUInt16LE(8) : b.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = b.toString("latin1", start, start + hlen);
  if (!/'descr':\s*'<f4'/.test(header) || /'fortran_order':\s*True/.test(header)) {
    throw new Error(`${file}: want little-endian float32 in C order, header ${header}`);
  }
  const m = /'shape':\s*\(([^)]*)\)/.exec(header);
  const dims = m[1].split(",").map((s) => s.trim()).filter((s) => s !== "").map(Number);
  const off = start + hlen;
  const data = new Float32Array(b.buffer.slice(b.byteOffset + off, b.byteOffset + b.length));
  return { dims, data };
}

function caseId(c) {
  return c.bench.replace("/engine=ENGINE", "").replace(/\//g, "_").replace(/=/g, "-");
}

async function open(dir, c, threads) {
  const sess = await ort.InferenceSession.create(path.join(dir, caseId(c) + ".onnx"), {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: "sequential",
    graphOptimizationLevel: "all",
  });
  const names = c.kind === "unet" ? ["inputs"] : ["y_true", "y_pred"];
  const feeds = {};
  const ins = c.inputs.map((f) => readNpy(path.join(dir, f)));
  names.forEach((n, i) => (feeds[n] = new ort.Tensor("float32", ins[i].data, ins[i].dims)));
  const want = readNpy(path.join(dir, c.output));
  const bytes = c.kind === "unet" ? 4 * ins[0].data.length : 4 * (ins[0].data.length + ins[1].data.length + want.data.length);
  return { sess, feeds, want, bytes };
}

function check(name, got, want) {
  const g = got.data;
  const w = want.data;
  const gd = got.dims.join("x");
  const wd = want.dims.join("x");
  if (gd !== wd) throw new Error(`bench_ort.js: ${name}: ONNX Runtime's output has shape [${gd}], the Go engine's [${wd}]`);
  let scale = 1e-30;
  let diff = 0;
  for (let i = 0; i < w.length; i++) {
    scale = Math.max(scale, Math.abs(w[i]));
    const d = Math.abs(g[i] - w[i]);
    if (!(d <= diff)) diff = d; // NaN propagates
  }
  if (!(diff <= 1e-4 * scale)) {
    throw new Error(`bench_ort.js: ${name}: ONNX Runtime and the Go engine disagree: max |diff| ${diff.toPrecision(3)} > 1e-4 of the output's scale ${scale.toPrecision(3)}`);
  }
  return diff / scale;
}

async function main() {
  const a = args();
  const man = JSON.parse(fs.readFileSync(path.join(a.data, "manifest.json"), "utf8"));
  if (a.peak) {
    const c = man.cases.find((c) => c.kind === "unet" && c.bench.endsWith("size=" + a.peak));
    if (!c) throw new Error(`bench_ort.js: no U-Net case of size ${a.peak}`);
    const base = process.resourceUsage().maxRSS;
    const t0 = process.hrtime.bigint();
    const r = await open(a.data, c, a.threads);
    let out;
    for (let i = 0; i < a.runs; i++) out = (await r.sess.run(r.feeds)).output;
    check(c.bench, out, r.want);
    const peak = process.resourceUsage().maxRSS; // KiB
    const ns = Number(process.hrtime.bigint() - t0);
    console.log(`BenchmarkUNetPeak/build=onnxruntime/engine=onnxruntime/size=${a.peak}-${a.threads} \t1\t${ns} ns/op\t${(peak / 1024).toFixed(1)} peak-MiB\t${(base / 1024).toFixed(1)} base-MiB`);
    return;
  }
  for (const c of man.cases) {
    if (a.filter && !c.bench.includes(a.filter)) continue;
    const r = await open(a.data, c, a.threads);
    check(c.bench, (await r.sess.run(r.feeds)).output, r.want); // also the warm-up
    const bench = c.bench.replace("ENGINE", "onnxruntime");
    for (let k = 0; k < a.count; k++) {
      let n = 0;
      const t0 = process.hrtime.bigint();
      let el = 0;
      do {
        await r.sess.run(r.feeds);
        n++;
        el = Number(process.hrtime.bigint() - t0) / 1e9;
      } while (el < a.time);
      const ns = (el * 1e9) / n;
      const extra = c.flops ? `\t${(c.flops / ns).toFixed(2)} GFLOP/s` : "";
      console.log(`Benchmark${bench}-${a.threads} \t${n}\t${ns.toFixed(0)} ns/op\t${((r.bytes / ns) * 1e3).toFixed(2)} MB/s${extra}`);
    }
    await r.sess.release();
  }
}

main().catch((e) => {
  console.error(e.message || e);
  process.exit(1);
});
