// Result files: Google Benchmark's JSON layout (context + benchmarks, so its tools/compare.py
// reads them) with a versioned `swapbench` block in the context and in every benchmark entry.
// The schema is documented in results/SCHEMA.md; bump kSchemaVersion on any incompatible change.
#pragma once
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace swapbench {

constexpr int kSchemaVersion = 1;
// Google Benchmark's own layout version, checked by its tools.
constexpr int kGbenchSchemaVersion = 1;

// Writes a result where the user asked, without ever replacing what is not a regular file:
// - a regular file (or a new name): a temporary file in the same folder, fsync'd, then renamed
//   over it, so a reader sees the old file or the whole new one and a failed run leaves an
//   earlier result intact;
// - a symlink: the same, applied to its target (the link stays);
// - a character or block device or a FIFO (/dev/stdout, /dev/null, a pipe): written through in
//   place. Renaming over /dev/null as root would replace the device with a regular file.
// A folder, or a missing parent folder, is an error: nothing is created that was not asked for.
// Throws std::runtime_error naming the path.
// A device or FIFO is opened without waiting (O_NONBLOCK: a FIFO without a reader is an error,
// not a hang) and a reader that takes nothing is waited for visibly: a line on stderr after
// kStreamNoticeSeconds, an error after kStreamPatienceSeconds without progress.
void write_output_file(const std::string& path, const std::string& text);

// Why a run as root must not follow the symlink chain at path, or nullopt (not root, no link, or
// every link in the chain root's). A link another user owns would let them point root's result at
// any file (/etc/shadow replaced by JSON, mode 0644): the rule of the kernel's
// fs.protected_symlinks, applied everywhere, not only in sticky folders.
std::optional<std::string> foreign_symlink_problem(const std::string& path);

constexpr int kStreamNoticeSeconds = 10;
constexpr int kStreamPatienceSeconds = 600;

// The write end of a FIFO result path, opened when the plan is checked (so "no reader" is bad
// input before the run) and held until the result is written: closing it in between would give a
// waiting reader its end of file.
class HeldOutput {
 public:
  explicit HeldOutput(int fd) : fd_(fd) {}
  ~HeldOutput();
  HeldOutput(const HeldOutput&) = delete;
  HeldOutput& operator=(const HeldOutput&) = delete;
  // Writes text and closes; throws std::runtime_error naming path as write_output_file does.
  void write_and_close(const std::string& path, const std::string& text);

 private:
  int fd_;
};
void write_json_file(const std::string& path, const nlohmann::json& j);  // write_output_file of j.dump(2)
std::string default_results_dir();  // $SWAPBENCH_RESULTS_DIR, else ./results
std::string utc_stamp(const char* strftime_format);
// Where the run executes: native, kvm, tcg, ... (SWAPBENCH_ACCELERATOR overrides; a guest runner
// that knows better sets it).
std::string detect_accelerator();
// FNV-1a 64 of the running kernel's config (/proc/config.gz or /boot/config-<release>), or "".
std::string kernel_config_hash(std::string* source);
// context.swapbench.kernel: release, version, machine and the config's hash with its source.
nlohmann::json kernel_json();

}  // namespace swapbench
