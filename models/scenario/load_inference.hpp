// SPDX-License-Identifier: Apache-2.0
// The scenario's "inference" key -> InferenceSpec (models/inference/inference_spec.hpp), resolved
// against the catalog and the fleet. docs/inference.md documents the keys; the schema fragment is
// scenarios/schema/inference.schema.fragment.json.
//
//   "inference": {"services": [{
//     "name": "chat", "mode": "request",
//     "model": {"name": "llama-3-70b", "parameters": 70.6e9, "layers": 80, "hidden": 8192, "kv_heads": 8,
//               "head_dim": 128},
//     "replica": {"accelerator": "H100", "tp": 4},
//     "batching": {"max_batch_tokens": 8192, "max_seqs": 256},
//     "slo": {"ttft": "2s", "tpot": "100ms"},
//     "arrivals": {"rate": "2.5e9 requests/day", "diurnal": [0.5, ...24 factors], "growth_per_month": "3%"},
//     "prompt_tokens": {"distribution": "lognormal", "median": 1000, "sigma": 1.0},
//     "output_tokens": {"distribution": "lognormal", "median": 250, "sigma": 0.8},
//     "regions": [{"region": "us-east-1", "replicas": 64, "utc_offset": "-05:00"},
//                 {"region": "us-west-2", "replicas": 48, "utc_offset": "-08:00"}],
//     "routing": {"default_rtt": "60ms", "rtt": [{"between": ["us-east-1", "us-west-2"], "rtt": "65ms"}]}
//   }]}
//
//   InferenceSpec is = load_inference(root.section("inference"), scenario.catalog, scenario.fleet, scenario.run);
//
// Rejected with pointer errors: unknown keys, an accelerator not in the catalog, a region not in the
// fleet or without enough GPUs of that accelerator for its replicas, zero replicas in every region,
// weights that do not fit the replica's HBM (with the numbers), TP beyond the scale-up domain,
// negative rates, lengths or shares, a diurnal curve that is not 24 non-negative factors, a trace
// file that is missing or has a malformed row (with the file's line number), duplicate service names.
#pragma once

#include "models/hardware/catalog.hpp"
#include "models/hardware/fleet_spec.hpp"
#include "models/inference/inference_spec.hpp"
#include "models/scenario/reader.hpp"
#include "models/scenario/scenario.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace fleetsim {

/// The "inference" section (an object; {} for no inference). A trace file is read relative to the
/// scenario file's directory (Diagnostics::file()). sample_interval defaults to one minute for
/// request-level services and to the run's sample interval for fluid ones.
InferenceSpec load_inference(const Reader& inference_section, const Catalog& catalog, const FleetSpec& fleet,
                             const RunSpec& run);

/// Parses a request trace in CSV: one request per line, `arrival,prompt_tokens,output_tokens[,region]`;
/// arrival in seconds from the run's start (a number) or a UTC instant ("2026-01-01T00:00:05Z"); an
/// optional header line starting with a letter; blank lines and lines starting with '#' skipped.
/// Rows must be in arrival order. Region names index `regions`. Throws std::invalid_argument with
/// "line N: ..." for the first malformed row, a line longer than kMaxTraceLineBytes or a row beyond
/// `max_rows` (docs/robustness.md).
std::vector<TraceRequest> parse_inference_trace(std::string_view csv, const std::vector<std::string>& regions,
                                                const RunSpec& run, size_t max_rows = kMaxTraceRows);

}  // namespace fleetsim
