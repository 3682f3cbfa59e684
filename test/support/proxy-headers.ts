/** PROXY protocol v2 headers built byte by byte, for the parser tests, the socket tests and the fuzz. */
import { V2_SIGNATURE } from '../../adapters/proxy/proxy-protocol.js';

/** A v2 header: command (0 LOCAL, 1 PROXY), family byte, address block, then `tlv` bytes. */
export function v2(cmd: number, fam: number, addr: Buffer, tlv: Buffer = Buffer.alloc(0), version = 2): Buffer {
  const len = Buffer.alloc(2);
  len.writeUInt16BE(addr.length + tlv.length);
  return Buffer.concat([V2_SIGNATURE, Buffer.from([(version << 4) | cmd, fam]), len, addr, tlv]);
}

/** A TCP4 address block. */
export function tcp4(src: number[], dst: number[], sport: number, dport: number): Buffer {
  const b = Buffer.alloc(12);
  Buffer.from(src).copy(b, 0);
  Buffer.from(dst).copy(b, 4);
  b.writeUInt16BE(sport, 8);
  b.writeUInt16BE(dport, 10);
  return b;
}
