// Loading a BPF object file: maps declared with LIBBPF_PIN_BY_NAME are
// reused from (or created and pinned under) the pin root, then the programs
// are loaded against those maps. The result hands JS its own duplicates of
// every program and map fd; the libbpf object itself is closed before we
// return, so no native state outlives the call.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "bpf_common.h"

namespace ipsec_offload {
namespace bpf {
namespace {

struct ObjectCloser {
  void operator()(struct bpf_object* obj) const { bpf_object__close(obj); }
};

// bpfLoadObject(file, { pinRoot?: string, attachTypes?: { [prog]: 'xdp' } })
// Without pinRoot every map is private to this load (nothing is pinned).
// `attachTypes` loads a devmap program as a plain XDP program: the same
// instructions become runnable by BPF_PROG_TEST_RUN, which refuses devmap
// programs. Only tests use it.
Napi::Value LoadObject(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string file = StringArg(info, 0, "bpfLoadObject", "file");
  Napi::Object options = OptionsArg(info, 1, "bpfLoadObject");
  std::string pin_root;
  if (options.Has("pinRoot") && options.Get("pinRoot").IsString()) pin_root = options.Get("pinRoot").As<Napi::String>().Utf8Value();

  BeginLog();
  LIBBPF_OPTS(bpf_object_open_opts, open_opts);
  if (!pin_root.empty()) open_opts.pin_root_path = pin_root.c_str();
  std::unique_ptr<struct bpf_object, ObjectCloser> obj(bpf_object__open_file(file.c_str(), &open_opts));
  if (!obj) throw ErrnoError(env, "bpf_object__open_file(" + file + ")", errno);

  if (options.Has("attachTypes") && options.Get("attachTypes").IsObject()) {
    Napi::Object types = options.Get("attachTypes").As<Napi::Object>();
    Napi::Array names = types.GetPropertyNames();
    for (uint32_t i = 0; i < names.Length(); i++) {
      std::string name = names.Get(i).As<Napi::String>().Utf8Value();
      std::string type = types.Get(name).ToString().Utf8Value();
      struct bpf_program* prog = bpf_object__find_program_by_name(obj.get(), name.c_str());
      if (prog == nullptr) throw Napi::Error::New(env, "bpfLoadObject: no program " + name + " in " + file);
      if (type != "xdp") throw Napi::TypeError::New(env, "bpfLoadObject: attach type must be 'xdp'");
      bpf_program__set_expected_attach_type(prog, BPF_XDP);
    }
  }

  // Maps already pinned are reused here rather than by libbpf: libbpf 1.1
  // compares map_flags verbatim, and the kernel adds BPF_F_RDONLY_PROG to
  // every devmap it creates, so libbpf would refuse to reuse our own pinned
  // steer_ports. We compare everything else exactly and hand libbpf the fd.
  // Per map, in bpf_object__for_each_map order: where it is pinned and
  // whether that pin was reused.
  struct Pin {
    std::string path;
    bool reused;
  };
  std::vector<Pin> pins;
  struct bpf_map* map;
  bpf_object__for_each_map(map, obj.get()) {
    // No pin root: private maps (libbpf would otherwise pin to /sys/fs/bpf).
    if (pin_root.empty()) bpf_map__set_pin_path(map, nullptr);
    const char* p = bpf_map__pin_path(map);
    std::string path = p != nullptr ? p : "";
    struct stat st;
    bool pinned = !path.empty() && stat(path.c_str(), &st) == 0;
    pins.push_back({path, pinned});
    if (!pinned) continue;
    int fd = bpf_obj_get(path.c_str());
    if (fd < 0) throw ErrnoError(env, "bpf_obj_get(" + path + ")", errno);
    struct bpf_map_info mi = {};
    uint32_t len = sizeof(mi);
    int err = bpf_obj_get_info_by_fd(fd, &mi, &len);
    if (err) {
      close(fd);
      throw ErrnoError(env, "map info " + path, err);
    }
    uint32_t flags = mi.map_flags;
    if (mi.type == BPF_MAP_TYPE_DEVMAP || mi.type == BPF_MAP_TYPE_DEVMAP_HASH) flags &= ~BPF_F_RDONLY_PROG;
    if (mi.type != bpf_map__type(map) || mi.key_size != bpf_map__key_size(map) || mi.value_size != bpf_map__value_size(map) ||
        mi.max_entries != bpf_map__max_entries(map) || flags != bpf_map__map_flags(map)) {
      close(fd);
      Napi::Error e = Napi::Error::New(
          env, "pinned map " + path + " (type " + std::to_string(mi.type) + ", key " + std::to_string(mi.key_size) + ", value " +
                   std::to_string(mi.value_size) + ", max " + std::to_string(mi.max_entries) + ", flags " + std::to_string(mi.map_flags) +
                   ") does not match " + bpf_map__name(map) + " in " + file);
      e.Set("code", "EPINMISMATCH");
      e.Set("pinPath", path);
      throw e;
    }
    err = bpf_map__reuse_fd(map, fd);
    close(fd);
    if (err) throw ErrnoError(env, "bpf_map__reuse_fd(" + path + ")", err);
    bpf_map__set_pin_path(map, nullptr);
  }

  int err = bpf_object__load(obj.get());
  if (err) throw ErrnoError(env, "bpf_object__load(" + file + ")", err);

  Napi::Object result = Napi::Object::New(env);
  Napi::Array progs = Napi::Array::New(env);
  // Every fd we hand out is a dup owned by JS; on any failure below the
  // ones created so far are closed again.
  std::vector<int> dups;
  auto dup_or_throw = [&](int fd, const std::string& what) {
    int d = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    if (d < 0) {
      int e = errno;
      for (int x : dups) close(x);
      throw ErrnoError(env, "dup(" + what + ")", e);
    }
    dups.push_back(d);
    return d;
  };

  struct bpf_program* prog;
  uint32_t n = 0;
  bpf_object__for_each_program(prog, obj.get()) {
    int fd = dup_or_throw(bpf_program__fd(prog), bpf_program__name(prog));
    struct bpf_prog_info pi = {};
    uint32_t len = sizeof(pi);
    bpf_obj_get_info_by_fd(fd, &pi, &len);
    Napi::Object p = Napi::Object::New(env);
    p.Set("name", bpf_program__name(prog));
    p.Set("section", bpf_program__section_name(prog));
    p.Set("fd", fd);
    p.Set("id", pi.id);
    p.Set("tag", Hex(pi.tag, sizeof(pi.tag)));
    p.Set("expectedAttachType", static_cast<double>(bpf_program__expected_attach_type(prog)));
    progs.Set(n++, p);
  }
  result.Set("programs", progs);

  Napi::Array maps = Napi::Array::New(env);
  n = 0;
  bpf_object__for_each_map(map, obj.get()) {
    const Pin& pin = pins[n];
    int fd = dup_or_throw(bpf_map__fd(map), bpf_map__name(map));
    struct bpf_map_info mi = {};
    uint32_t len = sizeof(mi);
    bpf_obj_get_info_by_fd(fd, &mi, &len);
    Napi::Object m = MapInfoObject(env, mi);
    // The kernel's name is cut to BPF_OBJ_NAME_LEN - 1; libbpf has it whole.
    m.Set("name", bpf_map__name(map));
    m.Set("fd", fd);
    m.Set("reused", pin.reused);
    if (!pin.path.empty()) m.Set("pinPath", pin.path);
    maps.Set(n++, m);
  }
  result.Set("maps", maps);
  TakeLog();
  return result;
}

}  // namespace

void InitObject(Napi::Env env, Napi::Object exports) {
  exports.Set("bpfLoadObject", Napi::Function::New<LoadObject>(env, "bpfLoadObject"));
}

}  // namespace bpf
}  // namespace ipsec_offload
