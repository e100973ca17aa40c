// XDP attach/detach/query on a device (optionally in another netns),
// interface name <-> index in that netns, and BPF_PROG_TEST_RUN.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/bpf.h>
#include <linux/if_link.h>
#include <net/if.h>

#include <string>
#include <vector>

#include "bpf_common.h"

namespace ipsec_offload {
namespace bpf {
namespace {

std::string ModeOption(const Napi::Object& o, const char* fn) {
  if (!o.Has("mode") || o.Get("mode").IsUndefined()) return "auto";
  std::string m = o.Get("mode").ToString().Utf8Value();
  if (m != "auto" && m != "native" && m != "generic")
    throw Napi::TypeError::New(o.Env(), std::string(fn) + ": mode must be 'auto', 'native' or 'generic'");
  return m;
}

int IntOption(const Napi::Object& o, const char* key, int fallback) {
  if (!o.Has(key) || !o.Get(key).IsNumber()) return fallback;
  return o.Get(key).As<Napi::Number>().Int32Value();
}

// xdpAttach(ifindex, progFd, { mode?: 'auto'|'native'|'generic', replaceFd?, netnsPath?, netnsFd? })
//   -> 'native' | 'generic'
// Without replaceFd the attach fails (EBUSY) when the device already runs a
// program: we never clobber someone else's. With replaceFd the kernel swaps
// atomically, and only if replaceFd is what runs now. 'auto' tries native
// and falls back to generic when the driver has no native XDP (EOPNOTSUPP).
Napi::Value Attach(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t ifindex = U32Arg(info, 0, "xdpAttach", "ifindex");
  int prog_fd = FdArg(info, 1, "xdpAttach");
  Napi::Object o = OptionsArg(info, 2, "xdpAttach");
  std::string mode = ModeOption(o, "xdpAttach");
  int replace_fd = IntOption(o, "replaceFd", -1);
  NetnsScope ns(env, o);

  LIBBPF_OPTS(bpf_xdp_attach_opts, opts);
  uint32_t base = XDP_FLAGS_UPDATE_IF_NOEXIST;
  if (replace_fd >= 0) {
    base = XDP_FLAGS_REPLACE;
    opts.old_prog_fd = replace_fd;
  }
  BeginLog();
  if (mode != "generic") {
    int err = bpf_xdp_attach(static_cast<int>(ifindex), prog_fd, base | XDP_FLAGS_DRV_MODE, &opts);
    if (err == 0) return Napi::String::New(env, "native");
    if (mode == "native" || err != -EOPNOTSUPP) throw ErrnoError(env, "xdp attach (native)", err);
  }
  int err = bpf_xdp_attach(static_cast<int>(ifindex), prog_fd, base | XDP_FLAGS_SKB_MODE, &opts);
  if (err != 0) throw ErrnoError(env, "xdp attach (generic)", err);
  TakeLog();
  return Napi::String::New(env, "generic");
}

// xdpDetach(ifindex, { mode: 'native'|'generic', expectedFd?, netnsPath?, netnsFd? })
// With expectedFd the kernel detaches only if that program is the one
// attached (EEXIST otherwise): a program someone else put there stays.
Napi::Value Detach(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t ifindex = U32Arg(info, 0, "xdpDetach", "ifindex");
  Napi::Object o = OptionsArg(info, 1, "xdpDetach");
  std::string mode = ModeOption(o, "xdpDetach");
  if (mode == "auto") throw Napi::TypeError::New(env, "xdpDetach: mode must be 'native' or 'generic'");
  int expected = IntOption(o, "expectedFd", -1);
  NetnsScope ns(env, o);
  LIBBPF_OPTS(bpf_xdp_attach_opts, opts);
  uint32_t flags = mode == "native" ? XDP_FLAGS_DRV_MODE : XDP_FLAGS_SKB_MODE;
  if (expected >= 0) {
    flags |= XDP_FLAGS_REPLACE;
    opts.old_prog_fd = expected;
  }
  BeginLog();
  if (int err = bpf_xdp_detach(static_cast<int>(ifindex), flags, &opts)) throw ErrnoError(env, "xdp detach", err);
  TakeLog();
  return env.Undefined();
}

// xdpQuery(ifindex, netns?) -> { attachMode, progId, drvProgId, skbProgId, hwProgId }
Napi::Value Query(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t ifindex = U32Arg(info, 0, "xdpQuery", "ifindex");
  NetnsScope ns(env, info.Length() > 1 ? info[1] : env.Undefined());
  LIBBPF_OPTS(bpf_xdp_query_opts, q);
  BeginLog();
  if (int err = bpf_xdp_query(static_cast<int>(ifindex), 0, &q)) throw ErrnoError(env, "xdp query", err);
  static const char* modes[] = {"none", "native", "generic", "hw", "multi"};
  Napi::Object o = Napi::Object::New(env);
  o.Set("attachMode", q.attach_mode < 5 ? modes[q.attach_mode] : "unknown");
  o.Set("progId", q.prog_id);
  o.Set("drvProgId", q.drv_prog_id);
  o.Set("skbProgId", q.skb_prog_id);
  o.Set("hwProgId", q.hw_prog_id);
  return o;
}

// ifNameToIndex(name, netns?) -> ifindex, 0 when there is no such device
Napi::Value NameToIndex(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name = StringArg(info, 0, "ifNameToIndex", "name");
  NetnsScope ns(env, info.Length() > 1 ? info[1] : env.Undefined());
  return Napi::Number::New(env, if_nametoindex(name.c_str()));
}

// ifIndexToName(ifindex, netns?) -> name | null
Napi::Value IndexToName(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t ifindex = U32Arg(info, 0, "ifIndexToName", "ifindex");
  NetnsScope ns(env, info.Length() > 1 ? info[1] : env.Undefined());
  char name[IF_NAMESIZE];
  if (if_indextoname(ifindex, name) == nullptr) return env.Null();
  return Napi::String::New(env, name);
}

// bpfProgTestRun(fd, data, { repeat?, ingressIfindex?, rxQueueIndex?, netnsPath?, netnsFd? })
//   -> { retval, data, durationNs }
// Non-live mode: the program sees a copy of `data`; XDP_REDIRECT is only a
// return value here, nothing is transmitted. `data` comes back as the program
// left it (tags pushed or popped). ingressIfindex fills xdp_md for programs
// that read it; the kernel resolves it in the (given) netns.
Napi::Value TestRun(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = FdArg(info, 0, "bpfProgTestRun");
  auto data = BufferArg(info, 1, "bpfProgTestRun", "data");
  Napi::Object o = OptionsArg(info, 2, "bpfProgTestRun");
  int repeat = IntOption(o, "repeat", 1);
  if (repeat < 1) throw Napi::RangeError::New(env, "bpfProgTestRun: repeat must be >= 1");
  NetnsScope ns(env, o);

  // Room for the program to grow the frame (a pushed tag) and then some.
  std::vector<uint8_t> out(data.Length() + 512);
  struct xdp_md ctx = {};
  LIBBPF_OPTS(bpf_test_run_opts, opts);
  opts.data_in = data.Data();
  opts.data_size_in = static_cast<uint32_t>(data.Length());
  opts.data_out = out.data();
  opts.data_size_out = static_cast<uint32_t>(out.size());
  opts.repeat = repeat;
  if (o.Has("ingressIfindex") && o.Get("ingressIfindex").IsNumber()) {
    // The kernel wants data_end = the frame's length (no metadata before it).
    ctx.data_end = static_cast<uint32_t>(data.Length());
    ctx.ingress_ifindex = o.Get("ingressIfindex").As<Napi::Number>().Uint32Value();
    ctx.rx_queue_index = static_cast<uint32_t>(IntOption(o, "rxQueueIndex", 0));
    opts.ctx_in = &ctx;
    opts.ctx_size_in = sizeof(ctx);
  }
  BeginLog();
  if (bpf_prog_test_run_opts(fd, &opts) != 0) throw ErrnoError(env, "BPF_PROG_TEST_RUN", errno);
  Napi::Object r = Napi::Object::New(env);
  r.Set("retval", opts.retval);
  r.Set("data", Napi::Buffer<uint8_t>::Copy(env, out.data(), opts.data_size_out));
  r.Set("durationNs", opts.duration);
  return r;
}

}  // namespace

void InitXdp(Napi::Env env, Napi::Object exports) {
  exports.Set("xdpAttach", Napi::Function::New<Attach>(env, "xdpAttach"));
  exports.Set("xdpDetach", Napi::Function::New<Detach>(env, "xdpDetach"));
  exports.Set("xdpQuery", Napi::Function::New<Query>(env, "xdpQuery"));
  exports.Set("ifNameToIndex", Napi::Function::New<NameToIndex>(env, "ifNameToIndex"));
  exports.Set("ifIndexToName", Napi::Function::New<IndexToName>(env, "ifIndexToName"));
  exports.Set("bpfProgTestRun", Napi::Function::New<TestRun>(env, "bpfProgTestRun"));
}

}  // namespace bpf
}  // namespace ipsec_offload
