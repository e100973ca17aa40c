// Entry point of the ipsec-offload native addon. Each concern lives in its
// own translation unit and registers its exports here.
#include <napi.h>

#include "bpf_common.h"
#include "netlink_socket.h"
#include "peer_credentials.h"

#if defined(IPSEC_OFFLOAD_UNSUPPORTED_ARCH) || !defined(__LP64__)
// Debian kernels are built without CONFIG_XFRM_USER_COMPAT: a 32-bit process
// gets EOPNOTSUPP from every XFRM request, and our struct layouts are the
// 64-bit ones. Refuse to build rather than fail at run time.
#error "ipsec-offload's native addon must be built for a 64-bit target"
#endif

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  ipsec_offload::NetlinkSocket::Init(env, exports);
  ipsec_offload::InitPeerCredentials(env, exports);
  ipsec_offload::InitBpf(env, exports);
  return exports;
}

NODE_API_MODULE(ipsec_offload, Init)
