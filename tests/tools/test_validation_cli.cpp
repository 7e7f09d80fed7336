// SPDX-License-Identifier: Apache-2.0
// `fleetsim validation`: a figure inside its tolerance passes, one outside fails (exit 1), a declared
// known miss that starts to pass fails, --check catches a stale page, and a bad validation block is a
// data error naming its JSON pointer.
#include "tests/support/cli.hpp"
#include "tests/support/files.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <string>

namespace fs = std::filesystem;
using fleetsim::test::TempDir;

namespace {

fleetsim::test::CliResult run_cli(const std::string& args, const TempDir& tmp) {
  return fleetsim::test::run_fleetsim(args, tmp);
}

// A 64-node fleet with no failures: 0 failures in 1 day, 512 GPUs. `checks` is the JSON array.
std::string scenario(const std::string& checks) {
  return fmt::format(R"({{"name": "v", "seed": 1, "start": "2025-01-01T00:00:00Z", "horizon": "1d",
  "fleet": {{"regions": [{{"name": "r", "zones": [{{"name": "z", "datacenters": [
    {{"name": "dc", "instance": "p5.48xlarge", "nodes": 64}}]}}]}}]}},
  "validation": {{"checks": {}}}}})",
                     checks);
}

void write(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }

}  // namespace

TEST_CASE("validation: figures within and outside their tolerance", "[cli][validation]") {
  TempDir tmp("validation");
  const auto file = (tmp.path / "a.json").string();
  const auto page = (tmp.path / "page.md").string();

  write(file, scenario(R"([{"figure": "GPUs", "source": "test", "metric": "/fleet/gpus", "expected": 500, "tolerance": "5%"},
    {"figure": "GPUs per node", "source": "test", "metric": {"divide": ["/fleet/gpus", "/fleet/nodes"]}, "expected": 8, "tolerance": 0}])"));
  auto r = run_cli(fmt::format("validation {} -o {}", file, page), tmp);
  CHECK(r.code == 0);
  const std::string md = fleetsim::test::read_all(page);
  CHECK_THAT(md, Catch::Contains("GENERATED"));
  CHECK_THAT(md, Catch::Contains("| GPUs | 500 | test | 512 | +2.4% | ±5% | prediction | pass |"));
  CHECK_THAT(md, Catch::Contains("2 checks: 2 pass"));

  // The committed page equal to a fresh one passes --check; an edited one fails.
  r = run_cli(fmt::format("validation {} -o {}/b.md --check {}", file, tmp.path.string(), page), tmp);
  CHECK(r.code == 0);
  write(page, md + "hand edit\n");
  r = run_cli(fmt::format("validation {} -o {}/b.md --check {}", file, tmp.path.string(), page), tmp);
  CHECK(r.code == 1);
  CHECK_THAT(r.err, Catch::Contains("out of date"));

  write(file, scenario(R"([{"figure": "GPUs", "source": "test", "metric": "/fleet/gpus", "expected": 400, "tolerance": "5%"}])"));
  r = run_cli(fmt::format("validation {} -o {}", file, page), tmp);
  CHECK(r.code == 1);
  CHECK_THAT(r.err, Catch::Contains("FAIL"));
  CHECK_THAT(fleetsim::test::read_all(page), Catch::Contains("**FAIL**"));

  // Declared miss that still misses: reported, not failing. Declared miss that passes: failing.
  write(file, scenario(R"([{"figure": "GPUs", "source": "test", "metric": "/fleet/gpus", "expected": 400, "tolerance": "5%", "known_miss": "why"}])"));
  CHECK(run_cli(fmt::format("validation {} -o {}", file, page), tmp).code == 0);
  CHECK_THAT(fleetsim::test::read_all(page), Catch::Contains("fail (known miss: why)"));
  write(file, scenario(R"([{"figure": "GPUs", "source": "test", "metric": "/fleet/gpus", "expected": 512, "tolerance": "5%", "known_miss": "why"}])"));
  CHECK(run_cli(fmt::format("validation {} -o {}", file, page), tmp).code == 1);

  // One-sided bound.
  write(file, scenario(R"([{"figure": "GPUs", "source": "test", "metric": "/fleet/gpus", "expected": 600, "bound": "at_most"}])"));
  CHECK(run_cli(fmt::format("validation {} -o {}", file, page), tmp).code == 0);
}

TEST_CASE("validation: a bad block is a data error with its pointer, and writes nothing", "[cli][validation]") {
  TempDir tmp("validation-bad");
  const auto file = (tmp.path / "a.json").string();
  const auto page = tmp.path / "page.md";
  write(file, scenario(R"([{"figure": "x", "source": "s", "metric": "fleet/gpus", "expected": "lots", "tolerance": "ten"}])"));
  auto r = run_cli(fmt::format("validation {} -o {}", file, page.string()), tmp);
  CHECK(r.code == 65);
  CHECK_THAT(r.err, Catch::Contains("/validation/checks/0/metric"));
  CHECK_THAT(r.err, Catch::Contains("/validation/checks/0/expected"));
  CHECK_THAT(r.err, Catch::Contains("/validation/checks/0/tolerance"));
  CHECK_FALSE(fs::exists(page));

  // A pointer that matches nothing in the summary is named.
  write(file, scenario(R"([{"figure": "x", "source": "s", "metric": "/fleet/no_such", "expected": 1, "tolerance": 1}])"));
  r = run_cli(fmt::format("validation {} -o {}", file, page.string()), tmp);
  CHECK(r.code == 65);
  CHECK_THAT(r.err, Catch::Contains("/fleet/no_such matches nothing"));
  CHECK_FALSE(fs::exists(page));

  CHECK(run_cli("validation no/such/file.json", tmp).code == 66);
}
