#!/usr/bin/env bash
# Installs what building and testing mmb needs on a Debian/Ubuntu machine:
# a C compiler (cgo for the Vulkan backend), the Vulkan loader and lavapipe
# (Vulkan on the CPU), the Vulkan headers (to check vk.h's ABI) and the Khronos
# validation layer (scripts/vkvalidate.sh), glslc (to check the committed
# SPIR-V), and Go when the machine has none new enough. Safe to run again:
# it only installs what is missing.
set -euo pipefail

need_apt=()
have() { command -v "$1" >/dev/null 2>&1; }
pkg_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

for p in gcc libc6-dev make curl unzip ca-certificates mesa-vulkan-drivers libvulkan1 libvulkan-dev vulkan-validationlayers glslc; do
  pkg_installed "$p" || need_apt+=("$p")
done
if ((${#need_apt[@]})); then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "setup: installing ${need_apt[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

# Go: go.mod asks for Go 1.26; any go >= 1.21 fetches that toolchain itself
# from the module proxy. Without one, fetch the toolchain module directly.
go_ok() {
  have go || return 1
  local v
  v=$(go env GOVERSION 2>/dev/null | sed 's/^go//') || return 1
  [ "$(printf '%s\n' "1.21" "$v" | sort -V | head -1)" = "1.21" ]
}
if ! go_ok; then
  GOV=1.26.8
  dest="${MMB_GO_DIR:-$HOME/.cache/mmb/go$GOV}"
  if [ ! -x "$dest/bin/go" ]; then
    echo "setup: fetching Go $GOV from the Go module proxy into $dest" >&2
    tmp=$(mktemp -d)
    arch=$(dpkg --print-architecture)
    curl -fsSL -o "$tmp/go.zip" "https://proxy.golang.org/golang.org/toolchain/@v/v0.0.1-go$GOV.linux-$arch.zip"
    unzip -q "$tmp/go.zip" -d "$tmp/x"
    mkdir -p "$(dirname "$dest")"
    mv "$tmp/x/golang.org/toolchain@v0.0.1-go$GOV.linux-$arch" "$dest"
    chmod -R u+w "$dest"; chmod +x "$dest"/bin/* "$dest"/pkg/tool/*/* 2>/dev/null || true
    rm -rf "$tmp"
  fi
  echo "$dest/bin"
  exit 0
fi
echo ""
