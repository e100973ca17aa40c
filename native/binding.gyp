{
  "targets": [
    {
      "target_name": "ipsec_offload",
      "sources": [
        "src/addon.cc",
        "src/netlink_socket.cc",
        "src/peer_credentials.cc",
        "src/bpf_common.cc",
        "src/bpf_object.cc",
        "src/bpf_maps.cc",
        "src/bpf_xdp.cc",
        "src/bpf_fs.cc"
      ],
      "libraries": ["-lbpf"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "cflags_cc!": ["-fno-exceptions"],
      "conditions": [
        ["target_arch!='x64' and target_arch!='arm64'", {
          "defines": ["IPSEC_OFFLOAD_UNSUPPORTED_ARCH"]
        }]
      ]
    }
  ]
}
