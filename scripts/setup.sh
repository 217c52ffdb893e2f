#!/usr/bin/env bash
# Installs every Debian 12 package synwave needs to build, test, benchmark and fuzz.
# Idempotent and fast when nothing is missing: one dpkg-query over the whole list,
# apt-get only runs when something is absent.
set -euo pipefail

# The single list of the project's system packages.
readonly PACKAGES=(
  build-essential
  meson
  ninja-build
  pkg-config
  libdpdk-dev
  libcivetweb-dev
  dpdk
  libgtest-dev
  libgmock-dev
  libbenchmark-dev
  libspdlog-dev
  libfmt-dev
  libcli11-dev
  libtomlplusplus-dev
  nlohmann-json3-dev
  python3-scapy
  python3-matplotlib
  python3-yaml
  hping3
  tshark
  tcpdump
  apache2-utils
  curl
  iputils-ping
  prometheus
  iproute2
  nftables
  gnuplot-nox
  clang
  libfuzzer-14-dev
  libclang-rt-14-dev
  valgrind
  nginx
  ethtool
)

# Prints the names from PACKAGES that dpkg does not report as installed.
# dpkg-query exits non-zero and prints nothing on stdout for names it has never seen,
# so the installed set is read from stdout and the exit status is ignored.
missing_packages() {
  local -A installed=()
  local name status
  while IFS=' ' read -r name status; do
    if [[ "$status" == "install ok installed" ]]; then
      installed["$name"]=1
    fi
  done < <(dpkg-query -W -f '${Package} ${Status}\n' "${PACKAGES[@]}" 2>/dev/null || true)

  local package
  for package in "${PACKAGES[@]}"; do
    if [[ -z "${installed[$package]:-}" ]]; then
      printf '%s\n' "$package"
    fi
  done
}

# Runs a command as root: directly when already root, through sudo when available.
as_root() {
  if [[ "$(id -u)" -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    echo "setup.sh: not root and no sudo; cannot run: $*" >&2
    exit 1
  fi
}

main() {
  local -a missing
  mapfile -t missing < <(missing_packages)

  if [[ ${#missing[@]} -eq 0 ]]; then
    echo "setup.sh: all ${#PACKAGES[@]} packages already installed, nothing to do"
    return 0
  fi

  echo "setup.sh: missing: ${missing[*]}" >&2

  # tshark's postinst asks whether non-root users may capture; answer it up front.
  echo 'wireshark-common wireshark-common/install-setuid boolean false' \
    | as_root debconf-set-selections

  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
  as_root env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q --no-install-recommends "${missing[@]}" >&2

  echo "setup.sh: installed ${#missing[@]} missing package(s): ${missing[*]}"
}

main "$@"
