#include "netlink_socket.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <sched.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <string>

#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif
#ifndef NETLINK_GET_STRICT_CHK
#define NETLINK_GET_STRICT_CHK 12
#endif
#ifndef NETLINK_CAP_ACK
#define NETLINK_CAP_ACK 10
#endif

namespace ipsec_offload {
namespace {

// 1 MiB holds any single netlink message the kernel builds in practice (a
// link with a thousand VFs is ~300 KiB). Should one ever be larger it is
// reported as a "truncated" event and the buffer grows for the next one.
constexpr size_t kInitialReceiveBuffer = 1 << 20;
constexpr size_t kMaxReceiveBuffer = 64 << 20;

std::string ErrnoName(int err) {
  const char* name = strerrorname_np(err);
  return name != nullptr ? name : "E" + std::to_string(err);
}

// Calls a JS callback from a libuv callback. With C++ exceptions enabled,
// node-addon-api turns a JS exception into a thrown Napi::Error; nothing up
// the stack can catch it (it would terminate the process), so hand it to
// Node's uncaught-exception handling, as a throw in a JS timer would be.
void CallJs(Napi::Env env, Napi::FunctionReference& fn, Napi::Value self, std::initializer_list<napi_value> args) {
  try {
    fn.MakeCallback(self, args);
  } catch (const Napi::Error& e) {
    napi_fatal_exception(env, e.Value());
  }
}

Napi::Error ErrnoError(Napi::Env env, const char* syscall, int err) {
  std::string message = std::string(syscall) + " failed: " + strerror(err) + " (" + ErrnoName(err) + ")";
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("errno", Napi::Number::New(env, err));
  error.Set("code", Napi::String::New(env, ErrnoName(err)));
  error.Set("syscall", Napi::String::New(env, syscall));
  return error;
}

// Restores the thread's original network namespace when it goes out of scope,
// so an exception between setns() calls cannot leave the JS thread in the
// target namespace.
class NetnsGuard {
 public:
  NetnsGuard() = default;
  NetnsGuard(const NetnsGuard&) = delete;
  NetnsGuard& operator=(const NetnsGuard&) = delete;
  ~NetnsGuard() {
    if (self_ >= 0) {
      // Failing to return would leave every later socket of this process in the
      // wrong namespace; there is no safe way to continue.
      if (setns(self_, CLONE_NEWNET) != 0) abort();
      close(self_);
    }
  }
  int Enter(int target_fd) {
    self_ = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (self_ < 0) return errno;
    if (setns(target_fd, CLONE_NEWNET) != 0) {
      int err = errno;
      close(self_);
      self_ = -1;
      return err;
    }
    return 0;
  }

 private:
  int self_ = -1;
};

bool BoolOption(const Napi::Object& options, const char* key, bool fallback) {
  if (!options.Has(key)) return fallback;
  Napi::Value v = options.Get(key);
  return v.IsUndefined() ? fallback : v.ToBoolean().Value();
}

}  // namespace

void NetlinkSocket::Init(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor = DefineClass(env, "NetlinkSocket",
                                    {
                                        InstanceMethod<&NetlinkSocket::Send>("send"),
                                        InstanceMethod<&NetlinkSocket::AddMembership>("addMembership"),
                                        InstanceMethod<&NetlinkSocket::DropMembership>("dropMembership"),
                                        InstanceMethod<&NetlinkSocket::SetReceiveBuffer>("setReceiveBuffer"),
                                        InstanceMethod<&NetlinkSocket::GetReceiveBuffer>("getReceiveBuffer"),
                                        InstanceMethod<&NetlinkSocket::KeepAlive>("keepAlive"),
                                        InstanceMethod<&NetlinkSocket::Close>("close"),
                                        InstanceAccessor<&NetlinkSocket::PortId>("portId"),
                                        InstanceAccessor<&NetlinkSocket::Protocol>("protocol"),
                                    });
  exports.Set("NetlinkSocket", ctor);
}

// new NetlinkSocket(protocol, options, onData(buffers[]), onEvent(event))
// options: { netnsPath?: string, netnsFd?: number, receiveBuffer?: number,
//            batch?: number, extAck?: boolean, strictCheck?: boolean, capAck?: boolean }
NetlinkSocket::NetlinkSocket(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NetlinkSocket>(info) {
  Napi::Env env = info.Env();
  if (info.Length() < 4 || !info[0].IsNumber() || !info[1].IsObject() || !info[2].IsFunction() ||
      !info[3].IsFunction()) {
    throw Napi::TypeError::New(env, "NetlinkSocket(protocol: number, options: object, onData: function, onEvent: function)");
  }
  protocol_ = info[0].As<Napi::Number>().Int32Value();
  Napi::Object options = info[1].As<Napi::Object>();
  on_data_ = Napi::Persistent(info[2].As<Napi::Function>());
  on_event_ = Napi::Persistent(info[3].As<Napi::Function>());
  if (options.Has("batch") && options.Get("batch").IsNumber()) {
    int64_t b = options.Get("batch").As<Napi::Number>().Int64Value();
    batch_ = b < 1 ? 1 : (b > 4096 ? 4096 : static_cast<uint32_t>(b));
  }

  int netns_fd = -1;
  bool own_netns_fd = false;
  if (options.Has("netnsPath") && options.Get("netnsPath").IsString()) {
    std::string path = options.Get("netnsPath").As<Napi::String>().Utf8Value();
    netns_fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (netns_fd < 0) {
      Napi::Error e = ErrnoError(env, "open(netns)", errno);
      e.Set("path", Napi::String::New(env, path));
      throw e;
    }
    own_netns_fd = true;
  } else if (options.Has("netnsFd") && options.Get("netnsFd").IsNumber()) {
    netns_fd = options.Get("netnsFd").As<Napi::Number>().Int32Value();
  }

  {
    NetnsGuard guard;
    if (netns_fd >= 0) {
      int err = guard.Enter(netns_fd);
      if (own_netns_fd) close(netns_fd);
      if (err != 0) throw ErrnoError(env, "setns", err);
    }
    fd_ = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, protocol_);
    if (fd_ < 0) throw ErrnoError(env, "socket(AF_NETLINK)", errno);
  }

  int one = 1;
  struct {
    const char* key;
    int option;
    bool fallback;
  } flags[] = {
      {"extAck", NETLINK_EXT_ACK, true},
      {"strictCheck", NETLINK_GET_STRICT_CHK, true},
      // With CAP_ACK an error ack carries only the request's header, never its
      // payload: key material in a failed NEWSA is not echoed back to us.
      {"capAck", NETLINK_CAP_ACK, true},
  };
  for (auto& f : flags) {
    if (!BoolOption(options, f.key, f.fallback)) continue;
    if (setsockopt(fd_, SOL_NETLINK, f.option, &one, sizeof(one)) != 0 && errno != ENOPROTOOPT) {
      int err = errno;
      close(fd_);
      fd_ = -1;
      throw ErrnoError(env, "setsockopt(SOL_NETLINK)", err);
    }
  }

  struct sockaddr_nl local;
  memset(&local, 0, sizeof(local));
  local.nl_family = AF_NETLINK;
  if (bind(fd_, reinterpret_cast<struct sockaddr*>(&local), sizeof(local)) != 0) {
    int err = errno;
    close(fd_);
    fd_ = -1;
    throw ErrnoError(env, "bind(AF_NETLINK)", err);
  }
  socklen_t len = sizeof(local);
  if (getsockname(fd_, reinterpret_cast<struct sockaddr*>(&local), &len) == 0) port_id_ = local.nl_pid;

  if (options.Has("receiveBuffer") && options.Get("receiveBuffer").IsNumber()) {
    int size = options.Get("receiveBuffer").As<Napi::Number>().Int32Value();
    if (setsockopt(fd_, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) != 0)
      setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
  }

  rbuf_.resize(kInitialReceiveBuffer);
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr) {
    close(fd_);
    fd_ = -1;
    throw Napi::Error::New(env, "no libuv loop");
  }
  poll_ = new uv_poll_t;
  if (int rc = uv_poll_init(loop, poll_, fd_); rc != 0) {
    delete poll_;
    poll_ = nullptr;
    close(fd_);
    fd_ = -1;
    throw Napi::Error::New(env, std::string("uv_poll_init: ") + uv_strerror(rc));
  }
  poll_->data = this;
  uv_poll_start(poll_, UV_READABLE, &NetlinkSocket::OnPoll);
  // While open, the socket is reachable from libuv: keep the JS object alive.
  Ref();
}

NetlinkSocket::~NetlinkSocket() { Shutdown(); }

void NetlinkSocket::Shutdown() {
  if (closed_) return;
  closed_ = true;
  if (poll_ != nullptr) {
    uv_poll_stop(poll_);
    uv_close(reinterpret_cast<uv_handle_t*>(poll_), [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
    poll_ = nullptr;
  }
  if (fd_ >= 0) {
    close(fd_);
    fd_ = -1;
  }
}

void NetlinkSocket::OnPoll(uv_poll_t* handle, int status, int events) {
  auto* self = static_cast<NetlinkSocket*>(handle->data);
  if (self == nullptr || self->closed_) return;
  Napi::Env env = self->Env();
  Napi::HandleScope scope(env);
  if (status < 0) {
    // A netlink overrun sets sk_err, epoll reports EPOLLERR, and libuv then
    // stops this poll handle and reports UV_EBADF. The socket is fine: reading
    // returns ENOBUFS (clearing sk_err) and then the queued messages. Drain,
    // and re-arm the poll if the drain made progress; otherwise the error is
    // real and is reported.
    int progressed = self->Drain(env);
    if (self->closed_) return;
    if (progressed > 0) {
      uv_poll_start(self->poll_, UV_READABLE, &NetlinkSocket::OnPoll);
      return;
    }
    Napi::Object ev = Napi::Object::New(env);
    ev.Set("type", "error");
    ev.Set("message", Napi::String::New(env, std::string("poll: ") + uv_strerror(status)));
    CallJs(env, self->on_event_, self->Value(), {ev});
    return;
  }
  self->Drain(env);
}

// Reads up to batch_ datagrams, then hands them to JS in one call. A bounded
// batch keeps a flood of multicast from starving the event loop; libuv polls
// level-triggered, so whatever is left is read on the next turn.
int NetlinkSocket::Drain(Napi::Env env) {
  if (in_drain_) return 0;
  in_drain_ = true;
  int progressed = 0;
  Napi::Array datagrams = Napi::Array::New(env);
  std::vector<Napi::Object> events;
  uint32_t count = 0;
  for (uint32_t i = 0; i < batch_ && !closed_; i++) {
    struct sockaddr_nl from;
    struct iovec iov = {rbuf_.data(), rbuf_.size()};
    struct msghdr msg;
    memset(&msg, 0, sizeof(msg));
    msg.msg_name = &from;
    msg.msg_namelen = sizeof(from);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    ssize_t n = recvmsg(fd_, &msg, MSG_DONTWAIT | MSG_TRUNC);
    if (n < 0) {
      int err = errno;
      if (err == EINTR) continue;
      if (err == EAGAIN || err == EWOULDBLOCK) break;
      Napi::Object ev = Napi::Object::New(env);
      // ENOBUFS: the kernel dropped messages for us. Not fatal; the owner must
      // assume its view is stale and re-dump.
      ev.Set("type", err == ENOBUFS ? "enobufs" : "error");
      ev.Set("errno", Napi::Number::New(env, err));
      ev.Set("code", Napi::String::New(env, ErrnoName(err)));
      events.push_back(ev);
      if (err == ENOBUFS) {
        progressed++;
        continue;
      }
      break;
    }
    progressed++;
    if (static_cast<size_t>(n) > rbuf_.size()) {
      Napi::Object ev = Napi::Object::New(env);
      ev.Set("type", "truncated");
      ev.Set("size", Napi::Number::New(env, static_cast<double>(n)));
      events.push_back(ev);
      size_t want = rbuf_.size();
      while (want < static_cast<size_t>(n) && want < kMaxReceiveBuffer) want *= 2;
      rbuf_.resize(want);
      continue;
    }
    if (from.nl_pid != 0) {
      // Only the kernel may talk to us; a privileged process could forge a
      // unicast to our port id. Drop it and say so.
      Napi::Object ev = Napi::Object::New(env);
      ev.Set("type", "foreign");
      ev.Set("portId", Napi::Number::New(env, from.nl_pid));
      events.push_back(ev);
      continue;
    }
    datagrams.Set(count++, Napi::Buffer<uint8_t>::Copy(env, rbuf_.data(), static_cast<size_t>(n)));
  }
  in_drain_ = false;
  for (auto& ev : events) {
    if (closed_) break;
    CallJs(env, on_event_, Value(), {ev});
  }
  if (count > 0 && !closed_) CallJs(env, on_data_, Value(), {datagrams});
  return progressed;
}

// send(buffer | buffer[]): all buffers go out in one sendmsg(), i.e. one
// datagram that the kernel walks message by message (netlink_rcv_skb).
Napi::Value NetlinkSocket::Send(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (closed_) throw ErrnoError(env, "sendmsg", EBADF);
  std::vector<struct iovec> iov;
  auto add = [&](const Napi::Value& v) {
    if (!v.IsBuffer()) throw Napi::TypeError::New(env, "send() takes a Buffer or an array of Buffers");
    auto b = v.As<Napi::Buffer<uint8_t>>();
    iov.push_back({b.Data(), b.Length()});
  };
  if (info.Length() < 1) throw Napi::TypeError::New(env, "send() takes a Buffer or an array of Buffers");
  if (info[0].IsArray()) {
    Napi::Array arr = info[0].As<Napi::Array>();
    for (uint32_t i = 0; i < arr.Length(); i++) add(arr.Get(i));
  } else {
    add(info[0]);
  }
  if (iov.empty()) return Napi::Number::New(env, 0);
  if (iov.size() > 1024) throw Napi::RangeError::New(env, "send(): at most 1024 buffers per datagram");
  struct sockaddr_nl kernel;
  memset(&kernel, 0, sizeof(kernel));
  kernel.nl_family = AF_NETLINK;
  struct msghdr msg;
  memset(&msg, 0, sizeof(msg));
  msg.msg_name = &kernel;
  msg.msg_namelen = sizeof(kernel);
  msg.msg_iov = iov.data();
  msg.msg_iovlen = iov.size();
  ssize_t n;
  do {
    n = sendmsg(fd_, &msg, 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0) throw ErrnoError(env, "sendmsg", errno);
  return Napi::Number::New(env, static_cast<double>(n));
}

Napi::Value NetlinkSocket::Membership(const Napi::CallbackInfo& info, int option) {
  Napi::Env env = info.Env();
  if (closed_) throw ErrnoError(env, "setsockopt", EBADF);
  if (info.Length() < 1 || !info[0].IsNumber()) throw Napi::TypeError::New(env, "group number expected");
  int group = info[0].As<Napi::Number>().Int32Value();
  if (setsockopt(fd_, SOL_NETLINK, option, &group, sizeof(group)) != 0)
    throw ErrnoError(env, option == NETLINK_ADD_MEMBERSHIP ? "setsockopt(NETLINK_ADD_MEMBERSHIP)"
                                                           : "setsockopt(NETLINK_DROP_MEMBERSHIP)",
                     errno);
  return env.Undefined();
}

Napi::Value NetlinkSocket::AddMembership(const Napi::CallbackInfo& info) {
  return Membership(info, NETLINK_ADD_MEMBERSHIP);
}

Napi::Value NetlinkSocket::DropMembership(const Napi::CallbackInfo& info) {
  return Membership(info, NETLINK_DROP_MEMBERSHIP);
}

// setReceiveBuffer(bytes) -> effective size. SO_RCVBUFFORCE (CAP_NET_ADMIN)
// passes rmem_max, which a daemon following a busy SAD needs.
Napi::Value NetlinkSocket::SetReceiveBuffer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (closed_) throw ErrnoError(env, "setsockopt", EBADF);
  if (info.Length() < 1 || !info[0].IsNumber()) throw Napi::TypeError::New(env, "size expected");
  int size = info[0].As<Napi::Number>().Int32Value();
  if (setsockopt(fd_, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) != 0 &&
      setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size)) != 0)
    throw ErrnoError(env, "setsockopt(SO_RCVBUF)", errno);
  return GetReceiveBuffer(info);
}

Napi::Value NetlinkSocket::GetReceiveBuffer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (closed_) throw ErrnoError(env, "getsockopt", EBADF);
  int size = 0;
  socklen_t len = sizeof(size);
  if (getsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &size, &len) != 0) throw ErrnoError(env, "getsockopt(SO_RCVBUF)", errno);
  return Napi::Number::New(env, size);
}

// keepAlive(false) lets the process exit while this socket only listens.
Napi::Value NetlinkSocket::KeepAlive(const Napi::CallbackInfo& info) {
  if (!closed_ && poll_ != nullptr && info.Length() > 0) {
    if (info[0].ToBoolean().Value())
      uv_ref(reinterpret_cast<uv_handle_t*>(poll_));
    else
      uv_unref(reinterpret_cast<uv_handle_t*>(poll_));
  }
  return info.Env().Undefined();
}

Napi::Value NetlinkSocket::Close(const Napi::CallbackInfo& info) {
  if (!closed_) {
    Shutdown();
    Unref();
  }
  return info.Env().Undefined();
}

Napi::Value NetlinkSocket::PortId(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), port_id_); }

Napi::Value NetlinkSocket::Protocol(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), protocol_);
}

}  // namespace ipsec_offload
