// Compiles LibTorch's precompiled header once (CMakeLists.txt:
// flowlat_torch_pch); every target that uses LibTorch reuses it.
