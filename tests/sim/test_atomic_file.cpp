// SPDX-License-Identifier: Apache-2.0
// AtomicFile: nothing appears before commit, the temporary goes away on failure, errors have a kind.
#include "sim/atomic_file.hpp"

#include "tests/support/files.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>
#include <unistd.h>

using namespace fleetsim;
using fleetsim::test::read_all;
using TempDir = fleetsim::test::TempDir;
namespace fs = std::filesystem;

namespace {

// A fresh directory under the system temp directory, removed with everything in it at scope exit.


size_t entries(const fs::path& dir) {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) ++n;
  return n;
}

}  // namespace

TEST_CASE("atomic file: no final file exists before commit", "[output]") {
  TempDir dir("atomic");
  const fs::path target = dir.path / "a.txt";
  AtomicFile f(target);
  f.write("hello\n");
  CHECK_FALSE(fs::exists(target));
  CHECK(fs::exists(f.temp_path()));
  CHECK(f.temp_path().string() == target.string() + ".tmp." + std::to_string(::getpid()));
}

TEST_CASE("atomic file: commit renames the temporary onto the target", "[output]") {
  TempDir dir("atomic");
  const fs::path target = dir.path / "a.txt";
  AtomicFile f(target);
  f.write("hello ");
  f.write("world\n");
  f.commit();
  CHECK(f.committed());
  CHECK(read_all(target) == "hello world\n");
  CHECK_FALSE(fs::exists(f.temp_path()));
  CHECK(entries(dir.path) == 1);
  CHECK(f.bytes_written() == 12);
}

TEST_CASE("atomic file: commit replaces an existing file", "[output]") {
  TempDir dir("atomic");
  const fs::path target = dir.path / "a.txt";
  write_file_atomically(target, "old contents that are longer\n");
  write_file_atomically(target, "new\n");
  CHECK(read_all(target) == "new\n");
  CHECK(entries(dir.path) == 1);
}

TEST_CASE("atomic file: destruction without commit removes the temporary", "[output]") {
  TempDir dir("atomic");
  const fs::path target = dir.path / "a.txt";
  fs::path temp;
  {
    AtomicFile f(target);
    f.write("partial");
    temp = f.temp_path();
    REQUIRE(fs::exists(temp));
  }
  CHECK_FALSE(fs::exists(temp));
  CHECK_FALSE(fs::exists(target));
  CHECK(entries(dir.path) == 0);
}

TEST_CASE("atomic file: an exception before commit leaves an existing target untouched", "[output]") {
  TempDir dir("atomic");
  const fs::path target = dir.path / "a.txt";
  write_file_atomically(target, "version 1\n");
  try {
    AtomicFile f(target);
    f.write("version 2, half written");
    throw std::runtime_error("simulation failed");
  } catch (const std::runtime_error&) {
  }
  CHECK(read_all(target) == "version 1\n");
  CHECK(entries(dir.path) == 1);
}

TEST_CASE("atomic file: a missing directory throws OutputError of kind Create", "[output]") {
  TempDir dir("atomic");
  const fs::path target = dir.path / "no-such-dir" / "a.txt";
  try {
    AtomicFile f(target);
    FAIL("expected OutputError");
  } catch (const OutputError& e) {
    CHECK(e.kind() == OutputError::Kind::Create);
    CHECK(e.exit_code() == 73);
    const std::string what = e.what();
    CHECK(what.find("cannot create") != std::string::npos);
    CHECK(what.find("no-such-dir") != std::string::npos);
    CHECK(what.find("No such file or directory") != std::string::npos);
  }
}

TEST_CASE("atomic file: a rename onto a directory throws Create and removes the temporary", "[output]") {
  TempDir dir("atomic");
  const fs::path target = dir.path / "occupied";
  fs::create_directories(target / "inside");
  AtomicFile f(target);
  f.write("x");
  const fs::path temp = f.temp_path();
  try {
    f.commit();
    FAIL("expected OutputError");
  } catch (const OutputError& e) {
    CHECK(e.kind() == OutputError::Kind::Create);
    CHECK(e.path() == target);
  }
  CHECK_FALSE(fs::exists(temp));
  CHECK(fs::is_directory(target));
}

TEST_CASE("atomic file: use after commit is a logic error", "[output]") {
  TempDir dir("atomic");
  AtomicFile f(dir.path / "a.txt");
  f.commit();
  CHECK_THROWS_AS(f.write("late"), std::logic_error);
  CHECK_THROWS_AS(f.commit(), std::logic_error);
}

TEST_CASE("atomic file: a moved-from file does not remove the moved temporary", "[output]") {
  TempDir dir("atomic");
  const fs::path target = dir.path / "a.txt";
  AtomicFile a(target);
  a.write("moved ");
  AtomicFile b(std::move(a));
  b.write("along\n");
  b.commit();
  CHECK(read_all(target) == "moved along\n");
}
