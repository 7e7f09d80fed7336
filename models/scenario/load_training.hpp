// SPDX-License-Identifier: Apache-2.0
// The scenario's "training" key -> TrainingSpec (models/training/training_spec.hpp), resolved against
// the catalog and the fleet. docs/training.md documents the keys; the schema fragment is
// scenarios/schema/training.schema.fragment.json.
//
//   "training": {
//     "sample_interval": "1h",
//     "jobs": [{
//       "name": "llama3-405b", "accelerator": "H100", "gpus": 16384,
//       "model": {"parameters": 405e9, "layers": 126, "hidden": 16384, "heads": 128, "seq_len": 8192,
//                 "vocab": 128256},
//       "global_batch_tokens": 16777216, "total_tokens": 15.6e12, "precision": "bf16",
//       "parallelism": {"tp": 8, "pp": 16, "dp": 128, "zero_stage": 1, "virtual_stages": 4,
//                       "recompute": "full"},
//       "kernel_efficiency": 0.6,
//       "checkpoint": {"policy": "young-daly", "storage_bandwidth": "2 TB/s"},
//       "recovery": {"mode": "spares", "hot_spares": 16, "detection": "3min", "restart": "10min"}
//     }]
//   }
//
//   TrainingSpec ts = load_training(root.section("training"), scenario.catalog, scenario.fleet, scenario.run);
//
// Rejected with pointer errors: unknown keys, a job whose GPUs differ from TP*PP*DP*CP, an accelerator
// not in the catalog or not in the fleet, more GPUs than the fleet has of that accelerator, a global
// batch that is not a whole number of micro-batches, a layout that does not fit in HBM (with the
// numbers), an unknown region or "after" job, duplicate job names.
#pragma once

#include "models/hardware/catalog.hpp"
#include "models/hardware/fleet_spec.hpp"
#include "models/training/training_spec.hpp"
#include "models/scenario/reader.hpp"
#include "models/scenario/scenario.hpp"

namespace fleetsim {

/// The "training" section (an object; {} for no training). sample_interval defaults to the run's.
TrainingSpec load_training(const Reader& training_section, const Catalog& catalog, const FleetSpec& fleet,
                           const RunSpec& run);

}  // namespace fleetsim
