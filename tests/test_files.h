// Helpers for tests that need files: a fresh temporary directory per test.
#ifndef ADALINE_TESTS_TEST_FILES_H_
#define ADALINE_TESTS_TEST_FILES_H_

#include <unistd.h>
#include <zlib.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "gtest/gtest.h"

namespace adaline {

// A directory under TEST_TMPDIR, removed with its files at the end.
class TemporaryDirectory {
 public:
  TemporaryDirectory() {
    const char* root = std::getenv("TEST_TMPDIR");
    std::string pattern =
        std::string(root != nullptr ? root : "/tmp") + "/adaline.XXXXXX";
    path_ = mkdtemp(pattern.data());
  }
  ~TemporaryDirectory() {
    [[maybe_unused]] int ignored =
        std::system(("rm -rf '" + path_ + "'").c_str());
  }
  std::string File(const std::string& name) const { return path_ + "/" + name; }
  // Writes `text` to `name` (gzip-compressed if it ends in .gz).
  std::string Write(const std::string& name, const std::string& text) const {
    const std::string path = File(name);
    if (name.size() > 3 && name.compare(name.size() - 3, 3, ".gz") == 0) {
      gzFile file = gzopen(path.c_str(), "wb");
      gzwrite(file, text.data(), static_cast<unsigned>(text.size()));
      gzclose(file);
    } else {
      std::FILE* file = std::fopen(path.c_str(), "wb");
      std::fwrite(text.data(), 1, text.size(), file);
      std::fclose(file);
    }
    return path;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace adaline

#endif  // ADALINE_TESTS_TEST_FILES_H_
