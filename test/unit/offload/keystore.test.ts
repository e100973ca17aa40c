import { describe, expect, it } from 'vitest';
import { KeyStore } from '../../../src/offload/keystore.js';
import { SecretBytes } from '../../../src/netlink/codec/secret.js';
import { makeState, type XfrmState } from '../../../src/xfrm/state.js';

const state = (): XfrmState =>
  makeState({
    saddr: '10.0.0.1',
    daddr: '10.0.0.2',
    spi: 0x100,
    proto: 'esp',
    mode: 'transport',
    reqid: 1,
    aead: { name: 'rfc4106(gcm(aes))', key: new SecretBytes(Buffer.alloc(20, 7)), keyBits: 160, icvBits: 128 },
  });

describe('KeyStore', () => {
  it('wipes the keys of a replaced state', () => {
    const ks = new KeyStore();
    const a = state();
    ks.set('k', a);
    ks.set('k', state());
    expect(a.aead?.key.wiped).toBe(true);
  });

  it('keeps keys the new state shares with the old one (a {...copy})', () => {
    const ks = new KeyStore();
    const a = state();
    ks.set('k', a);
    const copy: XfrmState = { ...a, seq: 0 };
    ks.set('k', copy);
    expect(copy.aead?.key.wiped).toBe(false);
    expect(ks.get('k')?.aead?.key.reveal().length).toBe(20);
  });

  it('drop and dropAll wipe; JSON never shows anything', () => {
    const ks = new KeyStore();
    const a = state();
    const b = state();
    ks.set('a', a);
    ks.set('b', b);
    expect(JSON.stringify({ ks })).toBe('{"ks":"[KeyStore: 2 states, redacted]"}');
    ks.drop('a');
    expect(a.aead?.key.wiped).toBe(true);
    ks.dropAll();
    expect(b.aead?.key.wiped).toBe(true);
    expect(ks.size).toBe(0);
  });
});
