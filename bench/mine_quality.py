#!/usr/bin/env python3
"""Spectrum-mining quality and speed on `specmine scene` recordings (BENCHMARKS.md, issue 7).

For each seed: `specmine scene` writes a wideband recording with ground truth, `specmine mine
--score` mines it with the shipped model. Reports detection recall by scene SNR, precision,
classification accuracy on matched detections, and mining throughput (complex samples/s).

Reference: the same model on single clean examples (`specmine generate --preset clean`, AWGN
only, like the scenes) at the equivalent SNR. A scene signal of in-band SNR S (noise in 1.35 Rs)
reaches the classifier at 8 samples/symbol, where the noise fills 8 Rs: full-band SNR
S - 10 log10(8 / 1.35) = S - 7.7 dB, the generator's `power` convention.

Usage: python3 bench/mine_quality.py [--bin target/release/specmine] [--scenes 20] [--first-seed 0] [--out DIR]
Only the Python standard library is needed.
"""
import argparse, json, math, os, subprocess, sys, tempfile

p = argparse.ArgumentParser()
p.add_argument("--bin", default="target/release/specmine")
p.add_argument("--scenes", type=int, default=20)
p.add_argument("--signals", type=int, default=8)
p.add_argument("--first-seed", type=int, default=0, help="scene seeds first-seed .. first-seed + scenes - 1 (a hold-out set: e.g. 100)")
p.add_argument("--sample-rate-hz", default="10e6")
p.add_argument("--duration-s", default="0.1")
p.add_argument("--extra", default="", help="extra `specmine scene` flags, e.g. '--coloured-noise --spurs 2'")
p.add_argument("--mine-extra", default="", help="extra `specmine mine` flags, e.g. '--max-windows 4'")
p.add_argument("--out", default=None)
a = p.parse_args()
out = a.out or tempfile.mkdtemp(prefix="mine-quality-")
os.makedirs(out, exist_ok=True)

def run(args):
    r = subprocess.run([a.bin] + args, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"{' '.join(args)} failed:\n{r.stderr}")
    return r

bands = [(0, 5), (5, 10), (10, 15), (15, 20.001)]
tot = {b: [0, 0, 0] for b in bands}  # signals, detected, correct
dets = tp = hdets = htp = 0
samples = seconds = 0.0
per_class = {}
for seed in range(a.first_seed, a.first_seed + a.scenes):
    base = os.path.join(out, f"scene{seed}")
    run(["scene", base, "--sample-rate-hz", a.sample_rate_hz, "--duration-s", a.duration_s,
         "--signals", str(a.signals), "--seed", str(seed), "--force"] + a.extra.split())
    run(["mine", base + ".sigmf-meta", "--score", "--no-plot", "--out", out] + a.mine_extra.split())
    s = json.load(open(base + ".score.json"))
    m = json.load(open(base + ".mined.json"))
    samples += m["samples"]; seconds += m["seconds"]
    dets += s["summary"]["detections"]; tp += s["summary"]["true_positives"]
    hdets += s["summary"]["detections_snr_ge_10"]; htp += s["summary"]["true_positives_snr_ge_10"]
    for sig in s["signals"]:
        if sig["truth"] == "spur":
            continue
        for b in bands:
            if b[0] <= sig["snr_db"] < b[1]:
                t = tot[b]; t[0] += 1
                if sig["detected"] is not None:
                    t[1] += 1
                    t[2] += bool(sig["correct"])
                    c = per_class.setdefault(sig["truth"], [0, 0]); c[0] += 1; c[1] += bool(sig["correct"])

# Reference accuracy on clean single examples at the equivalent full-band SNR.
ref = {}
h5 = os.path.join(out, "ref.h5")
run(["generate", "--preset", "clean", "--per-class-snr", "200", "--snr-min", "-8", "--snr-max", "12",
     "--force", "-o", h5])
run(["eval", "--data", h5, "--out", os.path.join(out, "ref-eval")])
rep = json.load(open(os.path.join(out, "ref-eval", "report.json")))
for b in bands:
    pts = [(c["accuracy"], c["count"]) for c in rep["per_snr"]
           if b[0] <= c["snr_db"] + 10 * math.log10(8 / 1.35) < b[1]]
    ref[b] = sum(x * n for x, n in pts) / max(1, sum(n for _, n in pts))

print(f"{a.scenes} scenes (seeds {a.first_seed}..{a.first_seed + a.scenes - 1}) x {a.signals} signals, {a.sample_rate_hz} S/s, {a.duration_s} s, scene flags '{a.extra}', mine flags '{a.mine_extra}'")
print("| scene SNR (dB) | signals | recall | accuracy on matched | clean single-example accuracy |")
print("|---|---|---|---|---|")
for b in bands:
    n, d, c = tot[b]
    print(f"| {b[0]:g}-{min(b[1], 20):g} | {n} | {d / max(1, n):.3f} | {c / max(1, d):.3f} | {ref[b]:.3f} |")
hi = [tot[b] for b in bands if b[0] >= 10]
hn, hd = sum(t[0] for t in hi), sum(t[1] for t in hi)
print(f"recall at >= 10 dB: {hd / max(1, hn):.3f} ({hd}/{hn}); precision (all detections): {tp / max(1, dets):.3f} ({tp}/{dets})")
print(f"precision for signals at >= 10 dB (detections of weaker signals left out; false alarms on no signal kept): {htp / max(1, hdets):.3f} ({htp}/{hdets})")
print(f"throughput: {samples / seconds / 1e6:.1f} MS/s over {samples:.0f} samples (detect + channelize + classify, whole command)")
print("per class accuracy on matched:", {k: round(v[1] / v[0], 2) for k, v in sorted(per_class.items())})
