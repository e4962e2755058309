#include "core/model_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
// For XXH3_state_t by value.
#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/hyperparameters.h"

namespace adaline {
namespace {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "model files are little-endian; add byte swapping here");

constexpr char kMagic[8] = {'A', 'D', 'A', 'L', 'I', 'N', 'E', '\n'};
constexpr uint32_t kFormatVersion = 1;
constexpr char kKeyScheme[] = "xxh3-namespace-seed-v1";
constexpr uint32_t kMaxHeaderSize = 1 << 20;

std::string ErrnoText() { return std::strerror(errno); }

// Model files are read and written in blocks of this size: an entry is a
// few small fields, and a call to stdio or to the hash per field cost more
// than the bytes themselves.
constexpr size_t kBlockSize = 1 << 20;

// Buffered writes to a file descriptor that hash everything they write,
// a block at a time.
class HashingWriter {
 public:
  explicit HashingWriter(int fd) : fd_(fd), buffer_(new char[kBlockSize]) {
    XXH3_64bits_reset(&hash_);
  }

  void Write(const void* data, size_t size) {
    if (used_ + size > kBlockSize) Flush();
    if (size > kBlockSize) {
      XXH3_64bits_update(&hash_, data, size);
      WriteAll(static_cast<const char*>(data), size);
      return;
    }
    std::memcpy(buffer_.get() + used_, data, size);
    used_ += size;
  }
  template <typename T>
  void WriteValue(const T& value) {
    Write(&value, sizeof value);
  }
  void WriteChecksum() {
    Flush();
    const uint64_t checksum = XXH3_64bits_digest(&hash_);
    WriteAll(reinterpret_cast<const char*>(&checksum), sizeof checksum);
  }
  void Flush() {
    XXH3_64bits_update(&hash_, buffer_.get(), used_);
    WriteAll(buffer_.get(), used_);
    used_ = 0;
  }
  const absl::Status& status() const { return status_; }

 private:
  void WriteAll(const char* data, size_t size) {
    while (size > 0 && status_.ok()) {
      const ssize_t written = ::write(fd_, data, size);
      if (written < 0) {
        if (errno == EINTR) continue;
        status_ =
            absl::InternalError(absl::StrCat("write failed: ", ErrnoText()));
        return;
      }
      data += written;
      size -= static_cast<size_t>(written);
    }
  }

  int fd_;
  XXH3_state_t hash_;
  std::unique_ptr<char[]> buffer_;
  size_t used_ = 0;
  absl::Status status_;
};

// Reads a file front to back a block at a time, hashing the bytes it hands
// out (not those read ahead, which may be the checksum).
class HashingReader {
 public:
  HashingReader(std::FILE* file, std::string path)
      : file_(file), path_(std::move(path)), buffer_(new char[kBlockSize]) {
    XXH3_64bits_reset(&hash_);
  }

  absl::Status Read(void* data, size_t size, absl::string_view what) {
    if (!Take(data, size)) {
      return absl::DataLossError(absl::StrCat(
          path_, ": model file is truncated (while reading ", what, ")"));
    }
    return absl::OkStatus();
  }
  // Bytes left in the file, or 0 where that cannot be known (a pipe).
  uint64_t RemainingBytes() const {
    struct stat info;
    if (::fstat(::fileno(file_), &info) != 0 || !S_ISREG(info.st_mode)) {
      return 0;
    }
    const long at = std::ftell(file_);
    if (at < 0 || info.st_size < at) return 0;
    return static_cast<uint64_t>(info.st_size - at) + (end_ - position_);
  }
  // Reads the trailing checksum and requires the file to end there.
  absl::Status VerifyChecksum() {
    HashTaken();
    const uint64_t digest = XXH3_64bits_digest(&hash_);
    uint64_t stored;
    if (!Take(&stored, sizeof stored)) {
      return absl::DataLossError(
          absl::StrCat(path_, ": model file is truncated (no checksum)"));
    }
    if (stored != digest) {
      return absl::DataLossError(
          absl::StrCat(path_, ": model file is corrupt (checksum mismatch)"));
    }
    if (position_ != end_ || std::fgetc(file_) != EOF) {
      return absl::DataLossError(
          absl::StrCat(path_, ": model file has bytes after its checksum"));
    }
    return absl::OkStatus();
  }

 private:
  bool Take(void* data, size_t size) {
    char* out = static_cast<char*>(data);
    while (size > 0) {
      if (position_ == end_ && !Refill()) return false;
      const size_t taken = std::min(size, end_ - position_);
      std::memcpy(out, buffer_.get() + position_, taken);
      position_ += taken;
      out += taken;
      size -= taken;
    }
    return true;
  }
  bool Refill() {
    HashTaken();
    end_ = std::fread(buffer_.get(), 1, kBlockSize, file_);
    position_ = 0;
    hashed_ = 0;
    return end_ > 0;
  }
  void HashTaken() {
    XXH3_64bits_update(&hash_, buffer_.get() + hashed_, position_ - hashed_);
    hashed_ = position_;
  }

  std::FILE* file_;
  std::string path_;
  XXH3_state_t hash_;
  std::unique_ptr<char[]> buffer_;
  // buffer_[0, end_) was read; [0, position_) handed out; [0, hashed_)
  // hashed.
  size_t end_ = 0;
  size_t position_ = 0;
  size_t hashed_ = 0;
};

// Reads and writes one hyperparameter in an OptimizerConfig: in the field of
// its name, or in more_hyperparameters when it has none.
class HyperparameterField {
 public:
  explicit HyperparameterField(const Hyperparameter& h)
      : h_(h),
        name_(h.field),
        field_(adaline::v1::OptimizerConfig::descriptor()->FindFieldByName(
            name_)) {}

  void Write(const OptimizerOptions& o,
             adaline::v1::OptimizerConfig& config) const {
    const auto& reflection = *config.GetReflection();
    if (field_ == nullptr) {
      (*config.mutable_more_hyperparameters())[name_] = h_.get(o);
    } else if (h_.is_bool) {
      reflection.SetBool(&config, field_, h_.get(o) != 0);
    } else {
      reflection.SetDouble(&config, field_, h_.get(o));
    }
  }

  // Leaves `o` as it is when an older file does not hold the value.
  void Read(const adaline::v1::OptimizerConfig& config,
            OptimizerOptions& o) const {
    const auto& reflection = *config.GetReflection();
    if (field_ == nullptr) {
      const auto found = config.more_hyperparameters().find(name_);
      if (found != config.more_hyperparameters().end())
        h_.set(o, found->second);
    } else if (h_.is_bool) {
      h_.set(o, reflection.GetBool(config, field_) ? 1 : 0);
    } else {
      h_.set(o, reflection.GetDouble(config, field_));
    }
  }

 private:
  const Hyperparameter& h_;
  const std::string name_;
  const google::protobuf::FieldDescriptor* const field_;
};

}  // namespace

adaline::v1::OptimizerConfig ToProto(const OptimizerOptions& o) {
  adaline::v1::OptimizerConfig config;
  config.set_name(std::string(OptimizerName(o.kind)));
  config.set_lazy(std::string(LazyModeName(o.lazy)));
  for (const Hyperparameter& h : Hyperparameters()) {
    HyperparameterField(h).Write(o, config);
  }
  return config;
}

absl::StatusOr<OptimizerOptions> FromProto(
    const adaline::v1::OptimizerConfig& config) {
  absl::StatusOr<OptimizerKind> kind = ParseOptimizerKind(config.name());
  if (!kind.ok()) return kind.status();
  absl::StatusOr<LazyMode> lazy = ParseLazyMode(config.lazy());
  if (!lazy.ok()) return lazy.status();
  OptimizerOptions o = OptimizerOptions::Defaults(*kind);
  o.lazy = *lazy;
  for (const Hyperparameter& h : Hyperparameters()) {
    HyperparameterField(h).Read(config, o);
  }
  if (absl::Status valid = ValidateOptimizerOptions(o); !valid.ok()) {
    return valid;
  }
  return o;
}

ModelSnapshot SnapshotModel(const ModelConfig& config, const WeightStore& store,
                            const FeatureNames* names) {
  ModelSnapshot snapshot;
  snapshot.config = config;
  snapshot.step = store.step();
  snapshot.norm_sum = store.norm_sum();
  snapshot.state_width = store.optimizer().state_width();
  snapshot.entries.reserve(store.size());
  store.ForEach([&](const Entry& entry) { snapshot.entries.push_back(entry); });
  snapshot.names = names;
  return snapshot;
}

ModelSnapshot WeightsOnly(ModelSnapshot snapshot, const WeightStore& store) {
  std::vector<Entry>& entries = snapshot.entries;
  size_t kept = 0;
  for (Entry entry : entries) {
    entry = store.CaughtUp(entry);
    if (entry.weight == 0) continue;
    entry.last_step = snapshot.step;
    std::fill(std::begin(entry.state), std::end(entry.state), 0.0f);
    entries[kept++] = entry;
  }
  entries.resize(kept);
  snapshot.state_width = 0;
  snapshot.weights_only = true;
  return snapshot;
}

uint64_t CountNonZeroWeights(const WeightStore& store) {
  uint64_t count = 0;
  store.ForEach([&](const Entry& entry) {
    if (store.CaughtUp(entry).weight != 0) ++count;
  });
  return count;
}

absl::Status SaveModel(const std::string& path, const ModelConfig& config,
                       const WeightStore& store, const FeatureNames* names) {
  return WriteModel(path, SnapshotModel(config, store, names));
}

absl::Status WriteModel(const std::string& path,
                        const ModelSnapshot& snapshot) {
  const ModelConfig& config = snapshot.config;
  const int width = snapshot.state_width;
  const std::vector<Entry>& entries = snapshot.entries;
  const FeatureNames* names = snapshot.names;
  adaline::v1::ModelHeader header;
  *header.mutable_optimizer() = ToProto(config.optimizer);
  header.set_loss(std::string(LossName(config.loss)));
  header.set_bias(config.bias);
  for (std::string& spelling : config.interactions.Spellings()) {
    header.add_interactions(std::move(spelling));
  }
  header.set_step(snapshot.step);
  header.set_entry_count(entries.size());
  header.set_state_width(static_cast<uint32_t>(width));
  header.set_weights_only(snapshot.weights_only);
  header.set_norm_sum(snapshot.norm_sum);
  header.set_shard_index(snapshot.shard_index);
  header.set_shard_count(snapshot.shard_count);
  header.set_name_count(names != nullptr ? names->size() : 0);
  header.set_key_scheme(kKeyScheme);
  if (width > 0) {
    for (absl::string_view name : StateNames(config.optimizer)) {
      header.add_state_names(std::string(name));
    }
  }
  const std::string header_bytes = header.SerializeAsString();

  const std::string temporary = absl::StrCat(path, ".tmp.", ::getpid());
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) {
    return absl::InternalError(
        absl::StrCat("cannot create ", temporary, ": ", ErrnoText()));
  }
  HashingWriter writer(fd);
  writer.Write(kMagic, sizeof kMagic);
  writer.WriteValue(kFormatVersion);
  writer.WriteValue(static_cast<uint32_t>(header_bytes.size()));
  writer.Write(header_bytes.data(), header_bytes.size());
  for (const Entry& entry : entries) {
    writer.WriteValue(entry.key);
    // The low 32 bits: the store keeps every step within 2^31 of the
    // model's, which the reader reconstructs.
    writer.WriteValue(static_cast<uint32_t>(entry.last_step));
    writer.WriteValue(entry.weight);
    writer.Write(entry.state, width * sizeof(float));
  }
  if (names != nullptr) {
    // In key order, not the hash map's: the same model, the same bytes.
    std::vector<const std::pair<const uint64_t, std::string>*> sorted;
    sorted.reserve(names->size());
    for (const auto& named : names->all()) sorted.push_back(&named);
    std::sort(sorted.begin(), sorted.end(),
              [](const auto* a, const auto* b) { return a->first < b->first; });
    for (const auto* named : sorted) {
      writer.WriteValue(named->first);
      writer.WriteValue(static_cast<uint32_t>(named->second.size()));
      writer.Write(named->second.data(), named->second.size());
    }
  }
  writer.WriteChecksum();
  absl::Status status = writer.status();
  if (status.ok() && ::fsync(fd) != 0) {
    status = absl::InternalError(absl::StrCat("fsync failed: ", ErrnoText()));
  }
  if (::close(fd) != 0 && status.ok()) {
    status = absl::InternalError(absl::StrCat("close failed: ", ErrnoText()));
  }
  if (status.ok() && std::rename(temporary.c_str(), path.c_str()) != 0) {
    status = absl::InternalError(absl::StrCat("cannot rename ", temporary,
                                              " to ", path, ": ", ErrnoText()));
  }
  if (!status.ok()) {
    ::unlink(temporary.c_str());
    return absl::Status(status.code(), absl::StrCat("saving model ", path, ": ",
                                                    status.message()));
  }
  // The rename itself survives a power cut only once its directory is synced.
  const size_t slash = path.rfind('/');
  const std::string directory =
      slash == std::string::npos ? "." : path.substr(0, slash + 1);
  const int directory_fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY);
  if (directory_fd >= 0) {
    ::fsync(directory_fd);
    ::close(directory_fd);
  }
  return absl::OkStatus();
}

bool StartsLikeModelFile(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) return false;
  char magic[sizeof kMagic];
  const bool read = std::fread(magic, 1, sizeof magic, file) == sizeof magic;
  std::fclose(file);
  return read && std::memcmp(magic, kMagic, sizeof kMagic) == 0;
}

absl::StatusOr<Model> LoadModel(const std::string& path, size_t max_keys) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("cannot open model ", path, ": ", ErrnoText()));
  }
  absl::StatusOr<Model> model = ReadModel(file, path, max_keys);
  std::fclose(file);
  return model;
}

absl::StatusOr<Model> ReadModel(std::FILE* file, const std::string& path,
                                size_t max_keys) {
  HashingReader reader(file, path);

  char magic[sizeof kMagic];
  if (absl::Status s = reader.Read(magic, sizeof magic, "magic"); !s.ok()) {
    return s;
  }
  if (std::memcmp(magic, kMagic, sizeof kMagic) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": not an adaline model file"));
  }
  uint32_t version = 0, header_size = 0;
  if (absl::Status s = reader.Read(&version, sizeof version, "version");
      !s.ok()) {
    return s;
  }
  if (version != kFormatVersion) {
    return absl::FailedPreconditionError(absl::StrCat(
        path, ": model format version ", version,
        " is not supported (this adaline reads version ", kFormatVersion, ")"));
  }
  if (absl::Status s = reader.Read(&header_size, sizeof header_size, "header");
      !s.ok()) {
    return s;
  }
  if (header_size > kMaxHeaderSize) {
    return absl::DataLossError(absl::StrCat(
        path, ": model file is corrupt (header size ", header_size, ")"));
  }
  std::string header_bytes(header_size, '\0');
  if (absl::Status s = reader.Read(header_bytes.data(), header_size, "header");
      !s.ok()) {
    return s;
  }
  adaline::v1::ModelHeader header;
  if (!header.ParseFromString(header_bytes)) {
    return absl::DataLossError(
        absl::StrCat(path, ": model file is corrupt (unreadable header)"));
  }
  if (header.key_scheme() != kKeyScheme) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, ": features are hashed with '", header.key_scheme(),
                     "', this adaline uses '", kKeyScheme, "'"));
  }
  Model model;
  absl::StatusOr<OptimizerOptions> optimizer = FromProto(header.optimizer());
  if (!optimizer.ok()) {
    return absl::DataLossError(absl::StrCat(
        path, ": model configuration: ", optimizer.status().message()));
  }
  absl::StatusOr<Loss> loss = ParseLoss(header.loss());
  if (!loss.ok()) {
    return absl::DataLossError(
        absl::StrCat(path, ": model configuration: ", loss.status().message()));
  }
  model.config.optimizer = *optimizer;
  model.config.loss = *loss;
  model.config.bias = header.bias();
  absl::StatusOr<Interactions> interactions =
      Interactions::Parse(std::vector<std::string>(
          header.interactions().begin(), header.interactions().end()));
  if (!interactions.ok()) {
    return absl::DataLossError(absl::StrCat(
        path, ": model configuration: ", interactions.status().message()));
  }
  model.config.interactions = *std::move(interactions);
  model.weights_only = header.weights_only();
  model.shard_index = header.shard_index();
  model.shard_count = header.shard_count();
  const int width = model.weights_only ? 0 : StateWidth(*optimizer);
  if (header.state_width() != static_cast<uint32_t>(width)) {
    return absl::DataLossError(absl::StrCat(
        path, ": model file is corrupt (state width ", header.state_width(),
        " for optimizer ", header.optimizer().name(), ")"));
  }
  model.store = std::make_unique<WeightStore>(*optimizer, max_keys);
  model.store->SetStep(header.step());
  if (!std::isfinite(header.norm_sum()) || header.norm_sum() < 0) {
    return absl::DataLossError(absl::StrCat(
        path, ": model file is corrupt (normalizer ", header.norm_sum(), ")"));
  }
  model.store->SetNormSum(header.norm_sum());
  // Growing while inserting costs a rehash per growth step; sizing first
  // makes loading linear. The count is checked against the file's size
  // first, so a corrupt header cannot ask for absurd memory.
  if (header.entry_count() <= reader.RemainingBytes() / (12 + 4 * width)) {
    model.store->Reserve(static_cast<size_t>(
        std::min<uint64_t>(header.entry_count(), max_keys)));
  }
  for (uint64_t i = 0; i < header.entry_count(); ++i) {
    // key, low 32 bits of the last step, weight, state.
    char bytes[16 + sizeof(Entry::state)];
    absl::Status s = reader.Read(bytes, 16 + width * sizeof(float), "entries");
    if (!s.ok()) return s;
    Entry entry;
    uint32_t last_step;
    std::memcpy(&entry.key, bytes, 8);
    std::memcpy(&last_step, bytes + 8, 4);
    std::memcpy(&entry.weight, bytes + 12, 4);
    std::memcpy(entry.state, bytes + 16, width * sizeof(float));
    if (model.weights_only) model.store->optimizer().InitState(entry.state);
    // Steps are stored modulo 2^32; below that, none can be in the future.
    if (header.step() <= UINT32_MAX && last_step > header.step()) {
      return absl::DataLossError(
          absl::StrCat(path, ": model file is corrupt (key ", entry.key,
                       " was updated at step ", last_step,
                       ", after the model's step ", header.step(), ")"));
    }
    entry.last_step = FullStepAtOrBefore(last_step, header.step());
    if (s = model.store->Insert(entry); !s.ok()) {
      return absl::Status(s.code(), absl::StrCat(path, ": ", s.message()));
    }
  }
  std::string name;
  for (uint64_t i = 0; i < header.name_count(); ++i) {
    uint64_t key;
    uint32_t size;
    absl::Status s = reader.Read(&key, sizeof key, "names");
    if (s.ok()) s = reader.Read(&size, sizeof size, "names");
    if (!s.ok()) return s;
    if (size > kMaxFeatureNameBytes) {
      return absl::DataLossError(
          absl::StrCat(path, ": model file is corrupt (a feature name of ",
                       size, " bytes)"));
    }
    name.resize(size);
    if (s = reader.Read(name.data(), size, "names"); !s.ok()) return s;
    model.names.Add(key, name);
  }
  if (absl::Status s = reader.VerifyChecksum(); !s.ok()) return s;
  return model;
}

std::string ConfigDifference(const ModelConfig& flags,
                             const ModelConfig& model) {
  const OptimizerOptions& a = flags.optimizer;
  const OptimizerOptions& b = model.optimizer;
  auto differ = [](absl::string_view flag, auto mine, auto theirs) {
    return absl::StrCat("--", flag, " is ", mine,
                        " but the model was trained with ", theirs);
  };
  if (a.kind != b.kind)
    return differ("optimizer", OptimizerName(a.kind), OptimizerName(b.kind));
  if (flags.loss != model.loss)
    return differ("loss", LossName(flags.loss), LossName(model.loss));
  if (flags.bias != model.bias) return differ("bias", flags.bias, model.bias);
  if (flags.interactions != model.interactions) {
    auto spelled = [](const Interactions& interactions) {
      return interactions.empty()
                 ? std::string("none")
                 : absl::StrJoin(interactions.Spellings(), ",");
    };
    return differ("interactions", spelled(flags.interactions),
                  spelled(model.interactions));
  }
  if (a.lazy != b.lazy)
    return differ("lazy", LazyModeName(a.lazy), LazyModeName(b.lazy));
  for (const Hyperparameter& h : Hyperparameters()) {
    if (h.get(a) != h.get(b)) {
      return differ(DashedFlag(h.flag).substr(2), h.get(a), h.get(b));
    }
  }
  return "";
}

}  // namespace adaline
