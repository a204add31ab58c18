#!/usr/bin/env bash
# Runs the Vulkan backend's tests (on lavapipe in CI) under the Khronos
# validation layer, synchronization validation on, and fails if it reports
# any error or warning: API misuse that a driver tolerates today (a wrong
# usage flag; a missing barrier, which lavapipe never shows since it runs
# commands one after another) is caught here rather than on a user's GPU. Needs vulkan-validationlayers
# (scripts/setup.sh installs it).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh >/dev/null # installs the layer if missing (prints Go's path)
layer=VkLayer_khronos_validation.json
found=""
for d in /usr/share/vulkan/explicit_layer.d /usr/local/share/vulkan/explicit_layer.d /etc/vulkan/explicit_layer.d; do
  [ -f "$d/$layer" ] && found=1
done
if [ -z "$found" ]; then
  echo "vkvalidate: the Khronos validation layer is not installed (apt-get install vulkan-validationlayers)" >&2
  exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/vk_layer_settings.txt" <<SETTINGS
khronos_validation.debug_action = VK_DBG_LAYER_ACTION_LOG_MSG
khronos_validation.report_flags = error,warn
khronos_validation.log_filename = $tmp/messages.txt
khronos_validation.enables = VK_VALIDATION_FEATURE_ENABLE_SYNCHRONIZATION_VALIDATION_EXT
SETTINGS
VK_LAYER_SETTINGS_PATH="$tmp/vk_layer_settings.txt" VK_INSTANCE_LAYERS=VK_LAYER_KHRONOS_validation \
  scripts/go test -count=1 -run 'TestConformance|TestFixtures$|TestGocoder$|TestPairedGLU$|TestDecodeStepFused$|TestMLPBlock$|TestDecodeStepMLPBlock$|TestAttentionOut$|TestDecodeStepAttnBlock$|TestDecodeStepConvFold$|TestSSMOut$|TestDecodeStepSSMBlock$|TestMatMulNormed$|TestDecodeStepNormFold$|TestSSMChunked|TestAttentionOnePass|TestAttentionGrouped|TestDecodeAllocs|TestGreedyFed$|TestSubmitReadAwait$|TestEmbedFed$|TestTopK$|TestStepTopK$' ./runtime/vulkan
if [ ! -e "$tmp/messages.txt" ]; then
  echo "vkvalidate: the validation layer did not load (no log written)" >&2
  exit 1
fi
if [ -s "$tmp/messages.txt" ]; then
  echo "vkvalidate: the validation layer reported:" >&2
  head -c 20000 "$tmp/messages.txt" >&2
  exit 1
fi
echo "vkvalidate: no validation errors or warnings"
