#include "bpf_common.h"

#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

namespace ipsec_offload {
namespace bpf {
namespace {

constexpr size_t kMaxLog = 16 * 1024;
// libbpf reports through one process-wide callback; every call into it
// happens on the JS thread, so one buffer is enough.
std::string g_log;

int CollectLibbpfOutput(enum libbpf_print_level level, const char* format, va_list args) {
  if (level == LIBBPF_DEBUG) return 0;
  // One message can be a whole verifier log: size it first.
  va_list copy;
  va_copy(copy, args);
  int n = vsnprintf(nullptr, 0, format, copy);
  va_end(copy);
  if (n <= 0) return n;
  std::string msg(static_cast<size_t>(n) + 1, '\0');
  vsnprintf(msg.data(), msg.size(), format, args);
  msg.resize(static_cast<size_t>(n));
  g_log += msg;
  // Keep the tail: a verifier log ends with the reason it refused.
  if (g_log.size() > kMaxLog) g_log.erase(0, g_log.size() - kMaxLog);
  return n;
}

std::string ErrnoName(int err) {
  const char* name = strerrorname_np(err);
  return name != nullptr ? name : "E" + std::to_string(err);
}

}  // namespace

void BeginLog() { g_log.clear(); }

std::string TakeLog() {
  std::string out;
  out.swap(g_log);
  return out;
}

Napi::Error ErrnoError(Napi::Env env, const std::string& op, int err) {
  if (err < 0) err = -err;
  Napi::Error error = Napi::Error::New(env, op + " failed: " + strerror(err) + " (" + ErrnoName(err) + ")");
  error.Set("errno", Napi::Number::New(env, err));
  error.Set("code", Napi::String::New(env, ErrnoName(err)));
  error.Set("op", Napi::String::New(env, op));
  std::string log = TakeLog();
  if (!log.empty()) error.Set("log", Napi::String::New(env, log));
  return error;
}

NetnsScope::NetnsScope(Napi::Env env, const Napi::Value& options) {
  if (!options.IsObject()) return;
  Napi::Object o = options.As<Napi::Object>();
  int target = -1;
  bool own = false;
  if (o.Has("netnsPath") && o.Get("netnsPath").IsString()) {
    std::string path = o.Get("netnsPath").As<Napi::String>().Utf8Value();
    target = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (target < 0) throw ErrnoError(env, "open(" + path + ")", errno);
    own = true;
  } else if (o.Has("netnsFd") && o.Get("netnsFd").IsNumber()) {
    target = o.Get("netnsFd").As<Napi::Number>().Int32Value();
  } else {
    return;
  }
  self_ = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (self_ < 0) {
    int err = errno;
    if (own) close(target);
    throw ErrnoError(env, "open(/proc/thread-self/ns/net)", err);
  }
  if (setns(target, CLONE_NEWNET) != 0) {
    int err = errno;
    if (own) close(target);
    close(self_);
    self_ = -1;
    throw ErrnoError(env, "setns", err);
  }
  if (own) close(target);
}

NetnsScope::~NetnsScope() {
  if (self_ < 0) return;
  // Staying in the target namespace would silently move every later socket
  // and device lookup of this process: there is no safe way to continue.
  if (setns(self_, CLONE_NEWNET) != 0) abort();
  close(self_);
}

std::string Hex(const unsigned char* p, size_t n) {
  static const char* digits = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n; i++) {
    s.push_back(digits[p[i] >> 4]);
    s.push_back(digits[p[i] & 15]);
  }
  return s;
}

Napi::Object MapInfoObject(Napi::Env env, const struct bpf_map_info& mi) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("id", mi.id);
  o.Set("name", mi.name);
  o.Set("type", mi.type);
  o.Set("keySize", mi.key_size);
  o.Set("valueSize", mi.value_size);
  o.Set("maxEntries", mi.max_entries);
  o.Set("flags", mi.map_flags);
  return o;
}

int FdArg(const Napi::CallbackInfo& info, size_t i, const char* fn) {
  if (info.Length() <= i || !info[i].IsNumber()) throw Napi::TypeError::New(info.Env(), std::string(fn) + ": fd expected");
  int fd = info[i].As<Napi::Number>().Int32Value();
  if (fd < 0) throw Napi::TypeError::New(info.Env(), std::string(fn) + ": fd must be >= 0");
  return fd;
}

uint32_t U32Arg(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* what) {
  if (info.Length() <= i || !info[i].IsNumber())
    throw Napi::TypeError::New(info.Env(), std::string(fn) + ": " + what + " (number) expected");
  double v = info[i].As<Napi::Number>().DoubleValue();
  if (v < 0 || v > 4294967295.0 || v != static_cast<double>(static_cast<uint32_t>(v)))
    throw Napi::RangeError::New(info.Env(), std::string(fn) + ": " + what + " must be a u32");
  return static_cast<uint32_t>(v);
}

Napi::Buffer<uint8_t> BufferArg(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* what) {
  if (info.Length() <= i || !info[i].IsBuffer())
    throw Napi::TypeError::New(info.Env(), std::string(fn) + ": " + what + " (Buffer) expected");
  return info[i].As<Napi::Buffer<uint8_t>>();
}

std::string StringArg(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* what) {
  if (info.Length() <= i || !info[i].IsString())
    throw Napi::TypeError::New(info.Env(), std::string(fn) + ": " + what + " (string) expected");
  return info[i].As<Napi::String>().Utf8Value();
}

Napi::Object OptionsArg(const Napi::CallbackInfo& info, size_t i, const char* fn) {
  if (info.Length() <= i || info[i].IsUndefined()) return Napi::Object::New(info.Env());
  if (!info[i].IsObject()) throw Napi::TypeError::New(info.Env(), std::string(fn) + ": options object expected");
  return info[i].As<Napi::Object>();
}

}  // namespace bpf

void InitBpf(Napi::Env env, Napi::Object exports) {
  libbpf_set_print(bpf::CollectLibbpfOutput);
  bpf::InitObject(env, exports);
  bpf::InitMaps(env, exports);
  bpf::InitXdp(env, exports);
  bpf::InitFs(env, exports);
}

}  // namespace ipsec_offload
