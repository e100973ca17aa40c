// Map element operations on map fds. Keys and values are Buffers whose
// lengths are checked against the map's own key/value size before any
// syscall: the kernel copies exactly that many bytes, so a short Buffer would
// otherwise be read or written past its end. Per-CPU maps take and return
// one 8-byte-aligned value per possible CPU, concatenated.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/bpf.h>

#include <string>
#include <vector>

#include "bpf_common.h"

namespace ipsec_offload {
namespace bpf {
namespace {

struct MapShape {
  uint32_t type;
  uint32_t key_size;
  uint32_t value_size;  // bytes per element as user space sees them
};

bool IsPerCpu(uint32_t type) {
  return type == BPF_MAP_TYPE_PERCPU_HASH || type == BPF_MAP_TYPE_PERCPU_ARRAY ||
         type == BPF_MAP_TYPE_LRU_PERCPU_HASH || type == BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE;
}

struct bpf_map_info MapInfo(Napi::Env env, int fd, const std::string& op) {
  struct bpf_map_info mi = {};
  uint32_t len = sizeof(mi);
  BeginLog();
  if (int err = bpf_obj_get_info_by_fd(fd, &mi, &len)) throw ErrnoError(env, op, err);
  return mi;
}

MapShape Shape(Napi::Env env, int fd, const char* fn) {
  struct bpf_map_info mi = MapInfo(env, fd, std::string(fn) + ": map info");
  MapShape s{mi.type, mi.key_size, mi.value_size};
  if (IsPerCpu(mi.type)) {
    int cpus = libbpf_num_possible_cpus();
    if (cpus < 0) throw ErrnoError(env, "libbpf_num_possible_cpus", cpus);
    s.value_size = ((mi.value_size + 7) & ~7u) * static_cast<uint32_t>(cpus);
  }
  return s;
}

void CheckLen(Napi::Env env, const char* fn, const char* what, size_t got, uint32_t want) {
  if (got != want)
    throw Napi::RangeError::New(env, std::string(fn) + ": " + what + " is " + std::to_string(got) + " bytes, the map takes " +
                                         std::to_string(want));
}

// The (fd, key) lookup and delete take, the key checked against the map.
struct Keyed {
  int fd;
  Napi::Buffer<uint8_t> key;
  MapShape shape;
};

Keyed KeyedArgs(const Napi::CallbackInfo& info, const char* fn) {
  int fd = FdArg(info, 0, fn);
  auto key = BufferArg(info, 1, fn, "key");
  MapShape s = Shape(info.Env(), fd, fn);
  CheckLen(info.Env(), fn, "key", key.Length(), s.key_size);
  return {fd, key, s};
}

// bpfMapUpdate(fd, key, value, flags, netns?) — netns matters for devmaps:
// the kernel resolves the ifindex in the caller's namespace.
Napi::Value Update(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0, "bpfMapUpdate");
  auto key = BufferArg(info, 1, "bpfMapUpdate", "key");
  auto value = BufferArg(info, 2, "bpfMapUpdate", "value");
  uint32_t flags = U32Arg(info, 3, "bpfMapUpdate", "flags");
  MapShape s = Shape(env, fd, "bpfMapUpdate");
  CheckLen(env, "bpfMapUpdate", "key", key.Length(), s.key_size);
  CheckLen(env, "bpfMapUpdate", "value", value.Length(), s.value_size);
  NetnsScope ns(env, info.Length() > 4 ? info[4] : env.Undefined());
  if (bpf_map_update_elem(fd, key.Data(), value.Data(), flags) != 0) throw ErrnoError(env, "bpf_map_update_elem", errno);
  return env.Undefined();
}

// bpfMapLookup(fd, key) -> Buffer | null (ENOENT)
Napi::Value Lookup(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Keyed k = KeyedArgs(info, "bpfMapLookup");
  auto value = Napi::Buffer<uint8_t>::New(env, k.shape.value_size);
  if (bpf_map_lookup_elem(k.fd, k.key.Data(), value.Data()) != 0) {
    if (errno == ENOENT) return env.Null();
    throw ErrnoError(env, "bpf_map_lookup_elem", errno);
  }
  return value;
}

// bpfMapDelete(fd, key) -> true if deleted, false if absent
Napi::Value Delete(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Keyed k = KeyedArgs(info, "bpfMapDelete");
  if (bpf_map_delete_elem(k.fd, k.key.Data()) != 0) {
    if (errno == ENOENT) return Napi::Boolean::New(env, false);
    throw ErrnoError(env, "bpf_map_delete_elem", errno);
  }
  return Napi::Boolean::New(env, true);
}

// bpfMapKeys(fd) -> Buffer[]: every key, by BPF_MAP_GET_NEXT_KEY. Entries
// deleted concurrently may be skipped, never repeated for a hash map walked
// to its end.
Napi::Value Keys(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0, "bpfMapKeys");
  MapShape s = Shape(env, fd, "bpfMapKeys");
  std::vector<uint8_t> cur(s.key_size), next(s.key_size);
  Napi::Array out = Napi::Array::New(env);
  uint32_t n = 0;
  const void* prev = nullptr;
  for (;;) {
    if (bpf_map_get_next_key(fd, prev, next.data()) != 0) {
      if (errno == ENOENT) break;
      throw ErrnoError(env, "bpf_map_get_next_key", errno);
    }
    out.Set(n++, Napi::Buffer<uint8_t>::Copy(env, next.data(), next.size()));
    cur.swap(next);
    prev = cur.data();
  }
  return out;
}

// bpfMapInfo(fd) -> { id, name, type, keySize, valueSize, maxEntries, flags }
Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0, "bpfMapInfo");
  return MapInfoObject(env, MapInfo(env, fd, "bpfMapInfo"));
}

Napi::Value PossibleCpus(const Napi::CallbackInfo& info) {
  int cpus = libbpf_num_possible_cpus();
  if (cpus < 0) throw ErrnoError(info.Env(), "libbpf_num_possible_cpus", cpus);
  return Napi::Number::New(info.Env(), cpus);
}

}  // namespace

void InitMaps(Napi::Env env, Napi::Object exports) {
  exports.Set("bpfMapUpdate", Napi::Function::New<Update>(env, "bpfMapUpdate"));
  exports.Set("bpfMapLookup", Napi::Function::New<Lookup>(env, "bpfMapLookup"));
  exports.Set("bpfMapDelete", Napi::Function::New<Delete>(env, "bpfMapDelete"));
  exports.Set("bpfMapKeys", Napi::Function::New<Keys>(env, "bpfMapKeys"));
  exports.Set("bpfMapInfo", Napi::Function::New<Info>(env, "bpfMapInfo"));
  exports.Set("bpfPossibleCpus", Napi::Function::New<PossibleCpus>(env, "bpfPossibleCpus"));
}

}  // namespace bpf
}  // namespace ipsec_offload
