// SPDX-License-Identifier: Apache-2.0
#include "tools/fleetsim/sweep_ranks.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <exception>
#include <stdexcept>
#include <string>

#ifdef FLEETSIM_MPI
#include <mpi.h>
#endif

namespace fleetsim::cli {

namespace {

[[maybe_unused]] nlohmann::json to_json(const sweep::RunOutcome& o) {
  return {{"index", o.index}, {"status", static_cast<int>(o.status)}, {"exit_code", o.exit_code},
          {"error", o.error}, {"summary", o.summary_text}};
}

[[maybe_unused]] sweep::RunOutcome from_json(const nlohmann::json& j) {
  sweep::RunOutcome o;
  o.index = j.at("index").get<size_t>();
  o.status = static_cast<sweep::RunStatus>(j.at("status").get<int>());
  o.exit_code = j.at("exit_code").get<int>();
  o.error = j.at("error").get<std::string>();
  o.summary_text = j.at("summary").get<std::string>();
  return o;
}

// Launched by an MPI launcher? Open MPI's mpirun sets OMPI_COMM_WORLD_SIZE, PMIx launchers PMIX_RANK,
// MPICH's hydra and Slurm's srun PMI_SIZE. Without one, MPI_Init would start a singleton (in Open MPI
// by forking a helper daemon), which a plain local command should not do.
[[maybe_unused]] bool launched_by_mpi() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE"})
    if (std::getenv(name)) return true;
  return false;
}

}  // namespace

#ifdef FLEETSIM_MPI

Ranks::Ranks() {
  if (!launched_by_mpi()) return;
  int provided = 0;
  // Only the main thread calls MPI; -j worker threads never do.
  MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
  initialized_ = true;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
}

Ranks::~Ranks() {
  if (!initialized_) return;
  // Leaving by an exception: the other ranks may wait in a broadcast or a receive for this one, and
  // would hang; MPI_Abort ends the whole job instead, with the exit code of an internal error.
  if (std::uncaught_exceptions() > 0) MPI_Abort(MPI_COMM_WORLD, 70);
  MPI_Finalize();
}

bool Ranks::built_with_mpi() { return true; }

int Ranks::broadcast(int value) const {
  if (!initialized_) return value;
  MPI_Bcast(&value, 1, MPI_INT, 0, MPI_COMM_WORLD);
  return value;
}

std::vector<std::string> Ranks::allgather(const std::string& local) const {
  if (!initialized_ || size_ == 1) return {local};
  if (local.size() > static_cast<size_t>(INT32_MAX / 64)) throw std::length_error("plan results above 32 MiB per rank");
  const int n = static_cast<int>(local.size());
  std::vector<int> sizes(static_cast<size_t>(size_)), offsets(static_cast<size_t>(size_));
  MPI_Allgather(&n, 1, MPI_INT, sizes.data(), 1, MPI_INT, MPI_COMM_WORLD);
  int total = 0;
  for (int r = 0; r < size_; ++r) {
    offsets[static_cast<size_t>(r)] = total;
    total += sizes[static_cast<size_t>(r)];
  }
  std::string all(static_cast<size_t>(total), '\0');
  MPI_Allgatherv(local.data(), n, MPI_CHAR, all.data(), sizes.data(), offsets.data(), MPI_CHAR, MPI_COMM_WORLD);
  std::vector<std::string> out;
  for (int r = 0; r < size_; ++r)
    out.push_back(all.substr(static_cast<size_t>(offsets[static_cast<size_t>(r)]), static_cast<size_t>(sizes[static_cast<size_t>(r)])));
  return out;
}

std::vector<sweep::RunOutcome> Ranks::gather(std::vector<sweep::RunOutcome> local) const {
  if (!initialized_ || size_ == 1) return local;
  constexpr int kTag = 9;
  if (rank_ != 0) {
    nlohmann::json batch = nlohmann::json::array();
    for (const auto& o : local) batch.push_back(to_json(o));
    const std::string text = batch.dump();
    if (text.size() > static_cast<size_t>(INT32_MAX)) throw std::length_error("sweep results above 2 GiB per rank");
    MPI_Send(text.data(), static_cast<int>(text.size()), MPI_CHAR, 0, kTag, MPI_COMM_WORLD);
    return {};
  }
  std::vector<sweep::RunOutcome> all = std::move(local);
  for (int from = 1; from < size_; ++from) {
    MPI_Status status;
    MPI_Probe(from, kTag, MPI_COMM_WORLD, &status);
    int count = 0;
    MPI_Get_count(&status, MPI_CHAR, &count);
    std::string text(static_cast<size_t>(count), '\0');
    MPI_Recv(text.data(), count, MPI_CHAR, from, kTag, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    for (const auto& j : nlohmann::json::parse(text)) all.push_back(from_json(j));
  }
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.index < b.index; });
  return all;
}

#else

Ranks::Ranks() {
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"}) {
    const char* v = std::getenv(name);
    if (v && std::atoi(v) > 1) launched_without_support_ = true;
  }
}
Ranks::~Ranks() = default;
bool Ranks::built_with_mpi() { return false; }
int Ranks::broadcast(int value) const { return value; }
std::vector<sweep::RunOutcome> Ranks::gather(std::vector<sweep::RunOutcome> local) const { return local; }
std::vector<std::string> Ranks::allgather(const std::string& local) const { return {local}; }

#endif

}  // namespace fleetsim::cli
