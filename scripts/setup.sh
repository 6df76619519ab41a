#!/usr/bin/env bash
# Installs what facecheck needs on Debian/Ubuntu (apt packages, then the
# models through `facecheck models fetch`) and says what to do elsewhere.
# Sourced by scripts/run and scripts/test; safe to run again.
set -euo pipefail

APT_PACKAGES=(
  libopencv-dev        # gocv v0.31.0 builds against Debian 12's OpenCV 4.6
  pkg-config
  libgl1-mesa-dev xorg-dev   # Fyne (OpenGL + X11 headers)
  xvfb x11-apps imagemagick  # a real window under Xvfb, and its screenshot
  chromium                   # browser tests of the server's pages
  fonts-noto-cjk             # Japanese and Korean text in the kiosk UI
  postgresql                 # the server's scale-out store, tested in CI
)

say() { printf 'setup: %s\n' "$*" >&2; }

need_apt() {
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do
    [[ $p == \#* ]] && continue
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  printf '%s\n' "${missing[@]}"
}

install_system() {
  case "$(uname -s)" in
    Darwin) say "macOS: install Go 1.26 and run: brew install opencv@4 pkg-config — then re-run. (gocv v0.31.0 needs OpenCV 4.6; see README)"; return 1 ;;
    MINGW*|MSYS*|CYGWIN*) say "Windows: use WSL2 with Ubuntu 22.04+/Debian 12 and re-run there (see README)"; return 1 ;;
  esac
  if ! command -v apt-get >/dev/null; then
    say "this is not Debian/Ubuntu: install OpenCV 4.6 dev files, pkg-config, Xvfb and Chromium with your package manager, then re-run"
    return 1
  fi
  mapfile -t missing < <(need_apt | grep -v '^$' || true)
  if ((${#missing[@]} == 0)); then return 0; fi
  local sudo=()
  if [[ $(id -u) != 0 ]]; then
    if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo=(sudo); else
      say "missing packages: ${missing[*]}"
      say "not root and no password-less sudo: run 'sudo apt-get install -y ${missing[*]}' and re-run"
      return 1
    fi
  fi
  say "installing: ${missing[*]}"
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

check_go() {
  if ! command -v go >/dev/null; then
    if [[ -x /usr/local/go/bin/go ]]; then export PATH=$PATH:/usr/local/go/bin; else
      say "Go is not installed: get Go 1.26 from https://go.dev/dl/ and re-run"; return 1
    fi
  fi
}

install_system
check_go
cd "$(dirname "${BASH_SOURCE[0]}")/.."
mkdir -p bin
go build -o bin/facecheck ./cmd/facecheck
bin/facecheck models fetch
