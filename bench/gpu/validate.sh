#!/usr/bin/env bash
# The Vulkan tests on the H200 under the Khronos validation layer (Debian's
# vulkan-validationlayers .deb carried in .gl/ with the loader), including the
# cooperative-matrix paths that lavapipe cannot run. Fails if the layer
# reports any error or warning. Log: $OUT/validate.txt.
set -u
. bench/gpu/env.sh
tmp=$(mktemp -d)
cat > $tmp/vk_layer_settings.txt <<SETTINGS
khronos_validation.debug_action = VK_DBG_LAYER_ACTION_LOG_MSG
khronos_validation.report_flags = error,warn
khronos_validation.log_filename = $OUT/validation-messages.txt
khronos_validation.enables = VK_VALIDATION_FEATURE_ENABLE_SYNCHRONIZATION_VALIDATION_EXT
SETTINGS
{
ls /usr/share/vulkan/explicit_layer.d/
cd runtime/vulkan
VK_LAYER_SETTINGS_PATH=$tmp/vk_layer_settings.txt VK_INSTANCE_LAYERS=VK_LAYER_KHRONOS_validation timeout 400 ../../bin/vulkan.test -test.count=1 -test.v \
  -test.run 'TestCoop|TestConformance$|TestFixtures$|TestConformanceSubmitEach|TestPairedGLU$|TestDecodeStepFused$|TestMLPBlock$|TestDecodeStepMLPBlock$|TestAttentionOut$|TestDecodeStepAttnBlock$|TestDecodeStepConvFold$|TestSSMOut$|TestDecodeStepSSMBlock$|TestMatMulNormed$|TestDecodeStepNormFold$|TestConformanceRowPairs|TestSSMChunked|TestAttentionOnePass|TestGocoder$|TestOutOfDeviceMemory|TestGreedyFed$|TestSubmitReadAwait$|TestEmbedFed$|TestTopK$|TestStepTopK$' 2>&1 \
  | grep -E '^(--- |FAIL|ok|PASS)|panic' | grep -v -- '--- PASS: .*/'
echo "rc ${PIPESTATUS[0]}"
cd ../..
if [ ! -e $OUT/validation-messages.txt ]; then echo "validation layer did not load"; 
elif [ -s $OUT/validation-messages.txt ]; then echo "validation messages: $(grep -c . $OUT/validation-messages.txt) lines"; head -c 6000 $OUT/validation-messages.txt;
else echo "no validation errors or warnings"; fi
} > $OUT/validate.txt 2>&1
cat $OUT/validate.txt | tail -c 9000
