# Sourced by the bench/gpu scripts on the GPU machine: the Vulkan loader and
# the EGL/GLVND libraries NVIDIA's ICD loads (carried in .gl/, see
# shared/GPU.md), and the GLVND vendor file when the image lacks it.
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [ ! -f /usr/share/glvnd/egl_vendor.d/10_nvidia.json ]; then
  mkdir -p /usr/share/glvnd/egl_vendor.d
  echo '{"file_format_version":"1.0.0","ICD":{"library_path":"libEGL_nvidia.so.0"}}' > /usr/share/glvnd/egl_vendor.d/10_nvidia.json
fi
