// SPDX-License-Identifier: Apache-2.0
// World: the models of one scenario, built and wired together on one engine. The only place that
// knows which models exist; each model knows only the floors below it (docs/ARCHITECTURE.md).
//
//   Engine engine; RngStreams streams(s.run.seed); Recorder rec;
//   World world(s, engine, streams, rec);
//   world.start();                       // every model schedules its first events
//   engine.run(SimTime::zero() + s.run.horizon);
//   world.write_summary();               // headline figures into rec.summary()
#pragma once

#include "models/scenario/scenario.hpp"
#include "sim/engine.hpp"
#include "sim/recorder.hpp"
#include "sim/rng.hpp"

#include <memory>

namespace fleetsim {

class World {
 public:
  World(const Scenario& scenario, Engine& engine, const RngStreams& streams, Recorder& recorder);
  ~World();
  World(const World&) = delete;
  World& operator=(const World&) = delete;

  void start();
  /// Headline figures of every model into recorder.summary().
  void write_summary();

 private:
  struct Models;
  const Scenario& scenario_;
  Engine& engine_;
  Recorder& recorder_;
  std::unique_ptr<Models> models_;
};

}  // namespace fleetsim
