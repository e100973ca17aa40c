// SO_PEERCRED for unix sockets: who is on the other end of the control socket.
#pragma once

#include <napi.h>

namespace ipsec_offload {
void InitPeerCredentials(Napi::Env env, Napi::Object exports);
}
