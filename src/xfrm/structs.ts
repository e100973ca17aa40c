// The XFRM uAPI structs as [offset, type] tables (x86_64/arm64 LP64 layout).
// Offsets are checked against gcc's offsetof()/sizeof() on <linux/xfrm.h>
// by test/unit/xfrm/struct-layout.test.ts; sizes here are sizeof() with tail
// padding (u64 members make several structs 8-aligned: usersa_info is 224).
import {
  address16,
  be16,
  be32,
  cstring,
  i32,
  struct,
  u16,
  u32,
  u64,
  u8,
  type CodecContext,
  type FieldType,
} from '../netlink/codec/struct.js';

/**
 * A field whose addresses take their family from a u16 `delta` bytes away
 * (a sibling field, e.g. xfrm_aevent_id.saddr uses sa_id.family). Zero there
 * falls back to the surrounding context.
 */
export function withFamilyAt<T, I>(inner: FieldType<T, I>, delta: number): FieldType<T, I> {
  const familyAt = (b: Buffer, o: number, ctx: CodecContext): CodecContext => {
    const at = o + delta;
    if (at < 0 || at + 2 > b.length) return ctx;
    const family = b.readUInt16LE(at);
    return family ? { family } : ctx;
  };
  return {
    size: inner.size,
    read: (b, o, ctx) => inner.read(b, o, familyAt(b, o, ctx)),
    write: (b, o, v, ctx) => inner.write(b, o, v, familyAt(b, o, ctx)),
  };
}

export const xfrmSelector = struct(
  'xfrm_selector',
  56,
  {
    family: [40, u16],
    daddr: [0, address16],
    saddr: [16, address16],
    dport: [32, be16],
    dportMask: [34, be16],
    sport: [36, be16],
    sportMask: [38, be16],
    prefixlenD: [42, u8],
    prefixlenS: [43, u8],
    proto: [44, u8],
    ifindex: [48, i32],
    user: [52, u32],
  },
  { family: 'family' },
);

/** daddr's family comes from the enclosing struct. */
export const xfrmId = struct('xfrm_id', 24, {
  daddr: [0, address16],
  spi: [16, be32],
  proto: [20, u8],
});

export const xfrmLifetimeCfg = struct('xfrm_lifetime_cfg', 64, {
  softByteLimit: [0, u64],
  hardByteLimit: [8, u64],
  softPacketLimit: [16, u64],
  hardPacketLimit: [24, u64],
  softAddExpiresSeconds: [32, u64],
  hardAddExpiresSeconds: [40, u64],
  softUseExpiresSeconds: [48, u64],
  hardUseExpiresSeconds: [56, u64],
});

export const xfrmLifetimeCur = struct('xfrm_lifetime_cur', 32, {
  bytes: [0, u64],
  packets: [8, u64],
  addTime: [16, u64],
  useTime: [24, u64],
});

export const xfrmStats = struct('xfrm_stats', 12, {
  replayWindow: [0, u32],
  replay: [4, u32],
  integrityFailed: [8, u32],
});

export const xfrmUsersaInfo = struct(
  'xfrm_usersa_info',
  224,
  {
    family: [212, u16],
    sel: [0, xfrmSelector],
    id: [56, xfrmId],
    saddr: [80, address16],
    lft: [96, xfrmLifetimeCfg],
    curlft: [160, xfrmLifetimeCur],
    stats: [192, xfrmStats],
    seq: [204, u32],
    reqid: [208, u32],
    mode: [214, u8],
    replayWindow: [215, u8],
    flags: [216, u8],
  },
  { family: 'family' },
);

export const xfrmUsersaId = struct(
  'xfrm_usersa_id',
  24,
  {
    family: [20, u16],
    daddr: [0, address16],
    spi: [16, be32],
    proto: [22, u8],
  },
  { family: 'family' },
);

export const xfrmAeventId = struct('xfrm_aevent_id', 48, {
  saId: [0, xfrmUsersaId],
  saddr: [24, withFamilyAt(address16, -4)],
  flags: [40, u32],
  reqid: [44, u32],
});

export const xfrmUserspiInfo = struct('xfrm_userspi_info', 232, {
  info: [0, xfrmUsersaInfo],
  min: [224, u32],
  max: [228, u32],
});

export const xfrmUserpolicyInfo = struct('xfrm_userpolicy_info', 168, {
  sel: [0, xfrmSelector],
  lft: [56, xfrmLifetimeCfg],
  curlft: [120, xfrmLifetimeCur],
  priority: [152, u32],
  index: [156, u32],
  dir: [160, u8],
  action: [161, u8],
  flags: [162, u8],
  share: [163, u8],
});

export const xfrmUserpolicyId = struct('xfrm_userpolicy_id', 64, {
  sel: [0, xfrmSelector],
  index: [56, u32],
  dir: [60, u8],
});

export const xfrmUserTmpl = struct(
  'xfrm_user_tmpl',
  64,
  {
    family: [24, u16],
    id: [0, xfrmId],
    saddr: [28, address16],
    reqid: [44, u32],
    mode: [48, u8],
    share: [49, u8],
    optional: [50, u8],
    aalgos: [52, u32],
    ealgos: [56, u32],
    calgos: [60, u32],
  },
  { family: 'family' },
);

/** Fixed heads of the algorithm structs; the key bytes follow (see attributes.ts). */
export const xfrmAlgo = struct('xfrm_algo', 68, {
  algName: [0, cstring(64)],
  algKeyLen: [64, u32],
});

export const xfrmAlgoAuth = struct('xfrm_algo_auth', 72, {
  algName: [0, cstring(64)],
  algKeyLen: [64, u32],
  algTruncLen: [68, u32],
});

export const xfrmAlgoAead = struct('xfrm_algo_aead', 72, {
  algName: [0, cstring(64)],
  algKeyLen: [64, u32],
  algIcvLen: [68, u32],
});

export const xfrmReplayState = struct('xfrm_replay_state', 12, {
  oseq: [0, u32],
  seq: [4, u32],
  bitmap: [8, u32],
});

/** Head of xfrm_replay_state_esn; bmp_len u32 words follow. */
export const xfrmReplayStateEsn = struct('xfrm_replay_state_esn', 24, {
  bmpLen: [0, u32],
  oseq: [4, u32],
  seq: [8, u32],
  oseqHi: [12, u32],
  seqHi: [16, u32],
  replayWindow: [20, u32],
});

export const xfrmUserOffload = struct('xfrm_user_offload', 8, {
  ifindex: [0, i32],
  flags: [4, u8],
});

export const xfrmMark = struct('xfrm_mark', 8, {
  v: [0, u32],
  m: [4, u32],
});

/** encap_oa's family comes from the SA. */
export const xfrmEncapTmpl = struct('xfrm_encap_tmpl', 24, {
  encapType: [0, u16],
  encapSport: [2, be16],
  encapDport: [4, be16],
  encapOa: [8, address16],
});

export const xfrmUserExpire = struct('xfrm_user_expire', 232, {
  state: [0, xfrmUsersaInfo],
  hard: [224, u8],
});

export const xfrmUserPolexpire = struct('xfrm_user_polexpire', 176, {
  pol: [0, xfrmUserpolicyInfo],
  hard: [168, u8],
});

/** The acquired SA's addresses take the family of its selector (sel.family at 40+40). */
export const xfrmUserAcquire = struct('xfrm_user_acquire', 280, {
  id: [0, withFamilyAt(xfrmId, 80)],
  saddr: [24, withFamilyAt(address16, 56)],
  sel: [40, xfrmSelector],
  policy: [96, xfrmUserpolicyInfo],
  aalgos: [264, u32],
  ealgos: [268, u32],
  calgos: [272, u32],
  seq: [276, u32],
});

export const xfrmAddressFilter = struct(
  'xfrm_address_filter',
  36,
  {
    family: [32, u16],
    saddr: [0, address16],
    daddr: [16, address16],
    splen: [34, u8],
    dplen: [35, u8],
  },
  { family: 'family' },
);

/** NAT-T mapping change: the addresses take the family of id.family (at 20). */
export const xfrmUserMapping = struct('xfrm_user_mapping', 64, {
  id: [0, xfrmUsersaId],
  reqid: [24, u32],
  oldSaddr: [28, withFamilyAt(address16, 20 - 28)],
  newSaddr: [44, withFamilyAt(address16, 20 - 44)],
  oldSport: [60, be16],
  newSport: [62, be16],
});

export const xfrmUserpolicyType = struct('xfrm_userpolicy_type', 6, {
  type: [0, u8],
  reserved1: [2, u16],
  reserved2: [4, u8],
});

export const xfrmUsersaFlush = struct('xfrm_usersa_flush', 1, {
  proto: [0, u8],
});

export const xfrmUserpolicyDefault = struct('xfrm_userpolicy_default', 3, {
  in: [0, u8],
  fwd: [1, u8],
  out: [2, u8],
});

/** Head of XFRMA_SEC_CTX; ctx_len bytes of context string follow. */
export const xfrmUserSecCtx = struct('xfrm_user_sec_ctx', 8, {
  len: [0, u16],
  exttype: [2, u16],
  ctxAlg: [4, u8],
  ctxDoi: [5, u8],
  ctxLen: [6, u16],
});

export const xfrmUserKmaddress = struct(
  'xfrm_user_kmaddress',
  40,
  {
    family: [36, u16],
    local: [0, address16],
    remote: [16, address16],
    reserved: [32, u32],
  },
  { family: 'family' },
);

/** Old and new addresses each take their own family (old_family@72, new_family@74). */
export const xfrmUserMigrate = struct('xfrm_user_migrate', 76, {
  oldDaddr: [0, withFamilyAt(address16, 72 - 0)],
  oldSaddr: [16, withFamilyAt(address16, 72 - 16)],
  newDaddr: [32, withFamilyAt(address16, 74 - 32)],
  newSaddr: [48, withFamilyAt(address16, 74 - 48)],
  proto: [64, u8],
  mode: [65, u8],
  reserved: [66, u16],
  reqid: [68, u32],
  oldFamily: [72, u16],
  newFamily: [74, u16],
});

export const xfrmUserReport = struct('xfrm_user_report', 60, {
  proto: [0, u8],
  sel: [4, xfrmSelector],
});

export const xfrmuSadhinfo = struct('xfrmu_sadhinfo', 8, {
  sadhcnt: [0, u32],
  sadhmcnt: [4, u32],
});

export const xfrmuSpdinfo = struct('xfrmu_spdinfo', 24, {
  incnt: [0, u32],
  outcnt: [4, u32],
  fwdcnt: [8, u32],
  inscnt: [12, u32],
  outscnt: [16, u32],
  fwdscnt: [20, u32],
});

export const xfrmuSpdhinfo = struct('xfrmu_spdhinfo', 8, {
  spdhcnt: [0, u32],
  spdhmcnt: [4, u32],
});

export const xfrmuSpdhthresh = struct('xfrmu_spdhthresh', 2, {
  lbits: [0, u8],
  rbits: [1, u8],
});

/** The bare u32 that heads SADINFO/SPDINFO messages (iproute2 sends 0xffffffff). */
export const xfrmInfoFlags = struct('u32', 4, { flags: [0, u32] });

/** Messages with no fixed header (FLUSHPOLICY, GETSA/GETPOLICY dumps). */
export const noHeader = struct('none', 0, {});

/** Every uAPI struct above, for the layout test (name = C struct tag). */
export const XFRM_STRUCTS = [
  xfrmSelector,
  xfrmId,
  xfrmLifetimeCfg,
  xfrmLifetimeCur,
  xfrmStats,
  xfrmUsersaInfo,
  xfrmUsersaId,
  xfrmAeventId,
  xfrmUserspiInfo,
  xfrmUserpolicyInfo,
  xfrmUserpolicyId,
  xfrmUserTmpl,
  xfrmAlgo,
  xfrmAlgoAuth,
  xfrmAlgoAead,
  xfrmReplayState,
  xfrmReplayStateEsn,
  xfrmUserOffload,
  xfrmMark,
  xfrmEncapTmpl,
  xfrmUserExpire,
  xfrmUserPolexpire,
  xfrmUserAcquire,
  xfrmAddressFilter,
  xfrmUserMapping,
  xfrmUserpolicyType,
  xfrmUsersaFlush,
  xfrmUserpolicyDefault,
  xfrmUserSecCtx,
  xfrmUserKmaddress,
  xfrmUserMigrate,
  xfrmUserReport,
  xfrmuSadhinfo,
  xfrmuSpdinfo,
  xfrmuSpdhinfo,
  xfrmuSpdhthresh,
] as const;
