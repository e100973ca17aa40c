#include "peer_credentials.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include <string>

namespace ipsec_offload {
namespace {

// peerCredentials(fd) -> { pid, uid, gid }. The kernel records them at
// connect(); a client cannot lie about them. Node's net module has no API
// for this, and the control socket's access check needs it.
Napi::Value PeerCredentials(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) throw Napi::TypeError::New(env, "peerCredentials(fd: number)");
  int fd = info[0].As<Napi::Number>().Int32Value();
  struct ucred cred;
  socklen_t len = sizeof(cred);
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
    int err = errno;
    Napi::Error e = Napi::Error::New(env, std::string("getsockopt(SO_PEERCRED) failed: ") + strerror(err));
    e.Set("errno", Napi::Number::New(env, err));
    throw e;
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("pid", Napi::Number::New(env, cred.pid));
  out.Set("uid", Napi::Number::New(env, cred.uid));
  out.Set("gid", Napi::Number::New(env, cred.gid));
  return out;
}

}  // namespace

void InitPeerCredentials(Napi::Env env, Napi::Object exports) {
  exports.Set("peerCredentials", Napi::Function::New(env, PeerCredentials, "peerCredentials"));
}

}  // namespace ipsec_offload
