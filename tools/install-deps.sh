#!/bin/sh
# Installs what fleetsim needs to build and test, from Debian 12 (bookworm) packages. Run as root.
set -eu
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends \
  ca-certificates cmake ninja-build g++ make \
  libboost-graph-dev libboost-program-options-dev libeigen3-dev nlohmann-json3-dev libfmt-dev catch2 \
  libnlopt-cxx-dev \
  python3 python3-jsonschema \
  libopenmpi-dev openmpi-bin \
  chromium \
  libns3-dev \
  clang-14 libclang-rt-14-dev  # libFuzzer and its sanitizer runtimes: the `fuzz` preset, docs/fuzzing.md
