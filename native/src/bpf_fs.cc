// bpffs pins (get/pin), fds by id, program info, and the bpffs mount the
// pins live on.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <string>

#include "bpf_common.h"

namespace ipsec_offload {
namespace bpf {
namespace {

// bpfObjGet(path) -> fd of the pinned program or map
Napi::Value ObjGet(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = StringArg(info, 0, "bpfObjGet", "path");
  BeginLog();
  int fd = bpf_obj_get(path.c_str());
  if (fd < 0) throw ErrnoError(env, "bpf_obj_get(" + path + ")", errno);
  return Napi::Number::New(env, fd);
}

// bpfObjPin(fd, path)
Napi::Value ObjPin(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0, "bpfObjPin");
  std::string path = StringArg(info, 1, "bpfObjPin", "path");
  BeginLog();
  if (bpf_obj_pin(fd, path.c_str()) != 0) throw ErrnoError(env, "bpf_obj_pin(" + path + ")", errno);
  return env.Undefined();
}

// bpfClose(fd): for fds this binding handed out (object loads, obj get, by id)
Napi::Value Close(const Napi::CallbackInfo& info) {
  int fd = FdArg(info, 0, "bpfClose");
  if (close(fd) != 0) throw ErrnoError(info.Env(), "close", errno);
  return info.Env().Undefined();
}

// fn(id) -> fd of the program or map with that kernel id, by `get` (named `op` in errors)
Napi::Value FdById(const Napi::CallbackInfo& info, const char* fn, const char* op, int (*get)(__u32)) {
  Napi::Env env = info.Env();
  uint32_t id = U32Arg(info, 0, fn, "id");
  BeginLog();
  int fd = get(id);
  if (fd < 0) throw ErrnoError(env, std::string(op) + "(" + std::to_string(id) + ")", errno);
  return Napi::Number::New(env, fd);
}

Napi::Value ProgGetFdById(const Napi::CallbackInfo& info) {
  return FdById(info, "bpfProgGetFdById", "bpf_prog_get_fd_by_id", bpf_prog_get_fd_by_id);
}

Napi::Value MapGetFdById(const Napi::CallbackInfo& info) {
  return FdById(info, "bpfMapGetFdById", "bpf_map_get_fd_by_id", bpf_map_get_fd_by_id);
}

// bpfProgInfo(fd) -> { id, name, tag, type }
Napi::Value ProgInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0, "bpfProgInfo");
  struct bpf_prog_info pi = {};
  uint32_t len = sizeof(pi);
  BeginLog();
  if (int err = bpf_obj_get_info_by_fd(fd, &pi, &len)) throw ErrnoError(env, "bpfProgInfo", err);
  Napi::Object o = Napi::Object::New(env);
  o.Set("id", pi.id);
  o.Set("name", pi.name);
  o.Set("tag", Hex(pi.tag, sizeof(pi.tag)));
  o.Set("type", pi.type);
  return o;
}

// bpffsIsMounted(path) -> true when path is on a bpf filesystem
Napi::Value IsBpffs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = StringArg(info, 0, "bpffsIsMounted", "path");
  struct statfs st;
  if (statfs(path.c_str(), &st) != 0) throw ErrnoError(env, "statfs(" + path + ")", errno);
  return Napi::Boolean::New(env, static_cast<unsigned long>(st.f_type) == BPF_FS_MAGIC);
}

// bpffsMount(path): mount a bpf filesystem on the (existing) directory path
Napi::Value MountBpffs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = StringArg(info, 0, "bpffsMount", "path");
  if (mount("bpf", path.c_str(), "bpf", 0, "mode=0700") != 0) throw ErrnoError(env, "mount(bpf, " + path + ")", errno);
  return env.Undefined();
}

}  // namespace

void InitFs(Napi::Env env, Napi::Object exports) {
  exports.Set("bpfObjGet", Napi::Function::New<ObjGet>(env, "bpfObjGet"));
  exports.Set("bpfObjPin", Napi::Function::New<ObjPin>(env, "bpfObjPin"));
  exports.Set("bpfClose", Napi::Function::New<Close>(env, "bpfClose"));
  exports.Set("bpfProgGetFdById", Napi::Function::New<ProgGetFdById>(env, "bpfProgGetFdById"));
  exports.Set("bpfMapGetFdById", Napi::Function::New<MapGetFdById>(env, "bpfMapGetFdById"));
  exports.Set("bpfProgInfo", Napi::Function::New<ProgInfo>(env, "bpfProgInfo"));
  exports.Set("bpffsIsMounted", Napi::Function::New<IsBpffs>(env, "bpffsIsMounted"));
  exports.Set("bpffsMount", Napi::Function::New<MountBpffs>(env, "bpffsMount"));
}

}  // namespace bpf
}  // namespace ipsec_offload
