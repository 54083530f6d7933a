# Cross build of the suite for arm64 guests (kernels-config/kmatrix/arm64.py), with Debian's cross
# toolchain (g++-aarch64-linux-gnu) and the arm64 libraries unpacked, not installed, into
# SWAPBENCH_SYSROOT (`python3 -m kmatrix cross-sysroot` prints it; ./swapbench does all of this when an
# arm64 kernel is asked for). Linked dynamically: Debian ships no static libbenchmark; the guest's
# initramfs gets the libraries the binary needs (kmatrix/arm64.py guest_libs).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)

set(SWAPBENCH_SYSROOT "" CACHE PATH "the unpacked arm64 libraries (kmatrix/arm64.py ensure_sysroot)")
if(NOT SWAPBENCH_SYSROOT OR NOT EXISTS "${SWAPBENCH_SYSROOT}/usr/lib/aarch64-linux-gnu")
  message(FATAL_ERROR "SWAPBENCH_SYSROOT='${SWAPBENCH_SYSROOT}' holds no usr/lib/aarch64-linux-gnu: "
                      "run ./swapbench matrix --kernels debian-6.12-arm64, or pass -DSWAPBENCH_SYSROOT=$(python3 -m kmatrix cross-sysroot)")
endif()
# Toolchain files are read again for try_compile projects: hand the value down.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES SWAPBENCH_SYSROOT)

# Libraries and CMake packages from the cross glibc and the sysroot only; programs from the host.
# Header-only packages that are architecture-independent (nlohmann-json, CLI11) are the host's.
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu "${SWAPBENCH_SYSROOT}")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)

# pkg-config: the sysroot's .pc files, their /usr paths moved under the sysroot.
set(ENV{PKG_CONFIG_LIBDIR} "${SWAPBENCH_SYSROOT}/usr/lib/aarch64-linux-gnu/pkgconfig")
set(ENV{PKG_CONFIG_SYSROOT_DIR} "${SWAPBENCH_SYSROOT}")
set(ENV{PKG_CONFIG_PATH} "")

# The libraries' own dependencies (libudev, libnuma under hwloc) are found at link time here.
set(CMAKE_EXE_LINKER_FLAGS_INIT
    "-Wl,-rpath-link,${SWAPBENCH_SYSROOT}/usr/lib/aarch64-linux-gnu -Wl,-rpath-link,${SWAPBENCH_SYSROOT}/lib/aarch64-linux-gnu")
# Multiarch headers (hwloc's autogen/config.h) live under include/aarch64-linux-gnu, which the cross
# compiler searches only in its own tree.
set(CMAKE_CXX_STANDARD_INCLUDE_DIRECTORIES "${SWAPBENCH_SYSROOT}/usr/include/aarch64-linux-gnu")
set(CMAKE_C_STANDARD_INCLUDE_DIRECTORIES "${SWAPBENCH_SYSROOT}/usr/include/aarch64-linux-gnu")
