// What the two halves of the swap area (swap_area.cpp: the file; swap_device.cpp: the device) both
// use. Not an interface: nothing outside those two files includes it.
#pragma once
#include <unistd.h>

#include <cstdint>
#include <optional>
#include <string>

namespace swapbench::swap_area_parts {

std::string mib(uint64_t bytes);  // rounded up, "N MiB", for messages

// An fd closed on every path, the throwing ones included.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

std::string parent_of(const std::string& p);
// fsync, or SystemError naming the swap area.
void check_fsync(int fd, const std::string& path);
// Why a user other than root could replace what the run makes in `real_dir` (it or a folder above
// it is theirs, or writable by them without the sticky bit); nothing when none can.
std::optional<std::string> folder_others_control(const std::string& real_dir);
// realpath, or "" with *err set.
std::string canonical(const std::string& p, int* err);

}  // namespace swapbench::swap_area_parts
