// A netlink socket of any protocol, optionally opened inside another network
// namespace, read through libuv so the JS thread never blocks.
#pragma once

#include <napi.h>
#include <uv.h>

#include <cstdint>
#include <vector>

namespace ipsec_offload {

class NetlinkSocket : public Napi::ObjectWrap<NetlinkSocket> {
 public:
  static void Init(Napi::Env env, Napi::Object exports);
  explicit NetlinkSocket(const Napi::CallbackInfo& info);
  ~NetlinkSocket() override;

 private:
  Napi::Value Send(const Napi::CallbackInfo& info);
  Napi::Value AddMembership(const Napi::CallbackInfo& info);
  Napi::Value DropMembership(const Napi::CallbackInfo& info);
  Napi::Value SetReceiveBuffer(const Napi::CallbackInfo& info);
  Napi::Value GetReceiveBuffer(const Napi::CallbackInfo& info);
  Napi::Value KeepAlive(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value PortId(const Napi::CallbackInfo& info);
  Napi::Value Protocol(const Napi::CallbackInfo& info);

  static void OnPoll(uv_poll_t* handle, int status, int events);
  // Returns how many datagrams or ENOBUFS reports it consumed.
  int Drain(Napi::Env env);
  void Shutdown();
  Napi::Value Membership(const Napi::CallbackInfo& info, int option);

  int fd_ = -1;
  int protocol_ = 0;
  uint32_t port_id_ = 0;
  uint32_t batch_ = 64;
  bool closed_ = false;
  bool in_drain_ = false;
  uv_poll_t* poll_ = nullptr;
  std::vector<uint8_t> rbuf_;
  Napi::FunctionReference on_data_;
  Napi::FunctionReference on_event_;
};

}  // namespace ipsec_offload
