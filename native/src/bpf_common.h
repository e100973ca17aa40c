// Shared pieces of the libbpf binding: typed errors that carry errno and the
// messages libbpf printed during the failed call (verifier log, kernel
// extack), and a guard that runs one call inside another network namespace.
#pragma once

#include <napi.h>

#include <string>

struct bpf_map_info;

namespace ipsec_offload {
namespace bpf {

// Starts collecting libbpf's messages for the current call (replaces
// whatever an earlier call left behind).
void BeginLog();
// The messages collected since BeginLog(), at most the last 16 KiB.
std::string TakeLog();

// Error "<op> failed: <strerror> (<ECODE>)" with errno, code, op and the
// collected libbpf log attached. `err` is a positive errno.
Napi::Error ErrnoError(Napi::Env env, const std::string& op, int err);

// Runs the JS-thread call inside the network namespace named by the last
// argument ({ netnsPath } or { netnsFd }), and back afterwards, even when
// the call throws. Without that argument nothing changes.
class NetnsScope {
 public:
  NetnsScope(Napi::Env env, const Napi::Value& options);
  NetnsScope(const NetnsScope&) = delete;
  NetnsScope& operator=(const NetnsScope&) = delete;
  ~NetnsScope();

 private:
  int self_ = -1;
};

// Lower-case hex of n bytes (program tags).
std::string Hex(const unsigned char* p, size_t n);

// { id, name, type, keySize, valueSize, maxEntries, flags } of a map, as
// bpfMapInfo returns it and bpfLoadObject reports each map.
Napi::Object MapInfoObject(Napi::Env env, const struct bpf_map_info& mi);

// Argument helpers that throw a TypeError naming the function.
int FdArg(const Napi::CallbackInfo& info, size_t i, const char* fn);
uint32_t U32Arg(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* what);
Napi::Buffer<uint8_t> BufferArg(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* what);
std::string StringArg(const Napi::CallbackInfo& info, size_t i, const char* fn, const char* what);
// info[i] as an object, or an empty object when absent/undefined.
Napi::Object OptionsArg(const Napi::CallbackInfo& info, size_t i, const char* fn);

void InitObject(Napi::Env env, Napi::Object exports);
void InitMaps(Napi::Env env, Napi::Object exports);
void InitXdp(Napi::Env env, Napi::Object exports);
void InitFs(Napi::Env env, Napi::Object exports);

}  // namespace bpf

// Registers every libbpf export on the addon's exports object.
void InitBpf(Napi::Env env, Napi::Object exports);

}  // namespace ipsec_offload
