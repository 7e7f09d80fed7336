// SPDX-License-Identifier: Apache-2.0
// The hardware catalog: the built-in scenarios/catalog/{accelerators,instances}.json (embedded in the
// binary) with a scenario's "catalog" overrides applied.
//
//   "catalog": {
//     "accelerators": {"H100": {"power_idle": "90 W"},                       // change one field
//                      "B300": {"bf16_dense": "...", ... every field ...}},  // add an entry
//     "instances":    {"p6e-gb200.36xlarge": {"price": "$42/h", "price_date": "2026-01-05"}}
//   }
//
//   Catalog cat = load_catalog(root.section("catalog"));   // errors recorded in the Reader's Diagnostics
//
// A name that is not built in adds an entry and then needs every field; if it is also close to a
// built-in name the error says so ('not a built-in accelerator (did you mean "H100"?) ...'). An
// instance's accelerator must name an accelerator of the merged catalog. Every entry may carry
// "description" and a "sources" object (field -> source text), which the catalog keeps for
// `fleetsim catalog` but the models never read.
#pragma once

#include "models/hardware/catalog.hpp"
#include "models/scenario/reader.hpp"

namespace fleetsim {

/// Built-in catalog with the overrides in `catalog_section` (an object; {} for none).
Catalog load_catalog(const Reader& catalog_section);

/// The built-in catalog alone. Throws std::logic_error if the embedded files are broken (a bug).
Catalog builtin_catalog();

}  // namespace fleetsim
