// The C baseline of bench/sa-install.ts: one NETLINK_XFRM socket, one
// XFRM_MSG_NEWSA per sendmsg with NLM_F_ACK, the ack read before the next
// request. This is the shape of a plain hand-written installer (no batching),
// the floor a userspace loop of single requests can reach.
//
//   sa-install-loop SPEC_FILE [BATCH]
//
// BATCH (default 1) > 1 packs that many NEWSA into each sendmsg and then
// reads their acks: the batched request pattern of our requester, in C, as
// a reference for what batching alone can buy on a given kernel.
//
// SPEC_FILE: one SA per line, "SRC DST SPI REQID KEYHEX" (IPv4, decimal SPI,
// 20-byte rfc4106 key+salt in hex), written by bench/sa-install-guest.ts
// prepare. Every line becomes an ESP transport SA with rfc4106(gcm(aes)),
// 128-bit ICV, no lifetime limits: the same SAs the other two methods install.
//
// Output: one JSON line {"method":"c-loop","n":..,"ok":..,"failed":..,
// "firstErrno":..,"ns":..}; ns is CLOCK_MONOTONIC around the send/ack loop
// only (socket setup and file parsing are outside it).
// Built by the bench at run time (gcc -O2), never committed as a binary.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netlink.h>
#include <linux/xfrm.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif
#ifndef NETLINK_CAP_ACK
#define NETLINK_CAP_ACK 10
#endif

#define KEY_BYTES 20 /* AES-128 key + 4-byte salt (rfc4106) */
#define AEAD_NAME "rfc4106(gcm(aes))"
#define MAX_BATCH 256
#define MAX_REQUEST 512 /* one NEWSA here is 336 bytes */

struct sa_spec {
  struct in_addr src, dst;
  uint32_t spi, reqid;
  uint8_t key[KEY_BYTES];
};

static int hexval(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static int parse_line(const char *line, struct sa_spec *s) {
  char src[64], dst[64], key[2 * KEY_BYTES + 2];
  unsigned long spi, reqid;
  if (sscanf(line, "%63s %63s %lu %lu %42s", src, dst, &spi, &reqid, key) != 5) return -1;
  if (inet_pton(AF_INET, src, &s->src) != 1 || inet_pton(AF_INET, dst, &s->dst) != 1) return -1;
  if (strlen(key) != 2 * KEY_BYTES) return -1;
  for (int i = 0; i < KEY_BYTES; i++) {
    int hi = hexval(key[2 * i]), lo = hexval(key[2 * i + 1]);
    if (hi < 0 || lo < 0) return -1;
    s->key[i] = (uint8_t)(hi << 4 | lo);
  }
  s->spi = (uint32_t)spi;
  s->reqid = (uint32_t)reqid;
  return 0;
}

static struct sa_spec *read_specs(const char *path, size_t *count) {
  FILE *f = fopen(path, "r");
  if (!f) {
    perror(path);
    exit(2);
  }
  size_t n = 0, cap = 1024;
  struct sa_spec *v = malloc(cap * sizeof(*v));
  char line[512];
  while (v && fgets(line, sizeof(line), f)) {
    if (line[0] == '\n' || line[0] == '#') continue;
    if (n == cap) v = realloc(v, (cap *= 2) * sizeof(*v));
    if (!v) break;
    if (parse_line(line, &v[n]) != 0) {
      fprintf(stderr, "%s: bad line %zu: %s", path, n + 1, line);
      exit(2);
    }
    n++;
  }
  if (!v) {
    fprintf(stderr, "out of memory\n");
    exit(2);
  }
  fclose(f);
  *count = n;
  return v;
}

// NEWSA request: nlmsghdr + xfrm_usersa_info + XFRMA_ALG_AEAD, as iproute2
// builds it for `ip xfrm state add ... aead "rfc4106(gcm(aes))" KEY 128`.
static size_t build_newsa(uint8_t *buf, const struct sa_spec *s, uint32_t seq) {
  struct nlmsghdr *nh = (struct nlmsghdr *)buf;
  struct xfrm_usersa_info *sa = NLMSG_DATA(nh);
  memset(buf, 0, NLMSG_SPACE(sizeof(*sa)));
  nh->nlmsg_type = XFRM_MSG_NEWSA;
  nh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  nh->nlmsg_seq = seq;
  sa->family = AF_INET;
  sa->saddr.a4 = s->src.s_addr;
  sa->id.daddr.a4 = s->dst.s_addr;
  sa->id.spi = htonl(s->spi);
  sa->id.proto = IPPROTO_ESP;
  sa->mode = XFRM_MODE_TRANSPORT;
  sa->reqid = s->reqid;
  sa->lft.soft_byte_limit = XFRM_INF;
  sa->lft.hard_byte_limit = XFRM_INF;
  sa->lft.soft_packet_limit = XFRM_INF;
  sa->lft.hard_packet_limit = XFRM_INF;
  size_t len = NLMSG_SPACE(sizeof(*sa));

  struct nlattr *nla = (struct nlattr *)(buf + len);
  struct xfrm_algo_aead *aead = (struct xfrm_algo_aead *)((uint8_t *)nla + NLA_HDRLEN);
  size_t payload = sizeof(*aead) + KEY_BYTES;
  memset(aead, 0, payload);
  nla->nla_type = XFRMA_ALG_AEAD;
  nla->nla_len = (uint16_t)(NLA_HDRLEN + payload);
  strcpy(aead->alg_name, AEAD_NAME);
  aead->alg_key_len = KEY_BYTES * 8;
  aead->alg_icv_len = 128;
  memcpy(aead->alg_key, s->key, KEY_BYTES);
  len += NLA_ALIGN(nla->nla_len);
  nh->nlmsg_len = (uint32_t)len;
  return len;
}

static int64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

int main(int argc, char **argv) {
  if (argc < 2 || argc > 3) {
    fprintf(stderr, "usage: %s SPEC_FILE [BATCH]\n", argv[0]);
    return 2;
  }
  size_t batch = argc == 3 ? strtoul(argv[2], NULL, 10) : 1;
  if (batch < 1 || batch > MAX_BATCH) {
    fprintf(stderr, "BATCH must be 1..%d\n", MAX_BATCH);
    return 2;
  }
  size_t n = 0;
  struct sa_spec *specs = read_specs(argv[1], &n);

  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_XFRM);
  if (fd < 0) {
    perror("socket(NETLINK_XFRM)");
    return 2;
  }
  // The same socket options our requester sets: extended acks, and acks that
  // do not echo the request (no key bytes coming back on errors).
  int one = 1;
  setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
  setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
  struct sockaddr_nl local = {.nl_family = AF_NETLINK};
  if (bind(fd, (struct sockaddr *)&local, sizeof(local)) != 0) {
    perror("bind");
    return 2;
  }

  static uint8_t req[MAX_BATCH * MAX_REQUEST];
  static uint8_t ack[64 * 1024];
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  size_t ok = 0, failed = 0;
  int first_errno = 0;
  if (batch > 1) {
    // Acks of a whole batch are queued at once: make room for them.
    int rcvbuf = 4 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf));
  }

  int64_t t0 = now_ns();
  for (size_t i = 0; i < n; i += batch) {
    size_t k = n - i < batch ? n - i : batch, len = 0;
    for (size_t j = 0; j < k; j++) len += build_newsa(req + len, &specs[i + j], (uint32_t)(i + j) + 1);
    struct iovec iov = {req, len};
    struct msghdr msg = {.msg_name = &kernel, .msg_namelen = sizeof(kernel), .msg_iov = &iov, .msg_iovlen = 1};
    if (sendmsg(fd, &msg, 0) < 0) {
      perror("sendmsg");
      return 2;
    }
    // Read until every request of this datagram is acked (nothing else is
    // addressed to us; acks arrive in request order).
    size_t acked = 0;
    while (acked < k) {
      ssize_t r = recv(fd, ack, sizeof(ack), 0);
      if (r < 0) {
        if (errno == EINTR) continue;
        perror("recv");
        return 2;
      }
      size_t left = (size_t)r;
      for (struct nlmsghdr *h = (struct nlmsghdr *)ack; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
        if (h->nlmsg_type != NLMSG_ERROR || h->nlmsg_seq <= i || h->nlmsg_seq > i + k) continue;
        int err = ((struct nlmsgerr *)NLMSG_DATA(h))->error;
        if (err == 0) {
          ok++;
        } else {
          failed++;
          if (!first_errno) first_errno = -err;
        }
        acked++;
      }
    }
  }
  int64_t t1 = now_ns();

  close(fd);
  memset(specs, 0, n * sizeof(*specs));
  free(specs);
  printf("{\"method\":\"%s\",\"n\":%zu,\"ok\":%zu,\"failed\":%zu,\"firstErrno\":%d,\"ns\":%lld}\n", batch > 1 ? "c-batch" : "c-loop", n, ok, failed,
         first_errno, (long long)(t1 - t0));
  return failed ? 1 : 0;
}
