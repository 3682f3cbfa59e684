/**
 * A DNS server stub on loopback UDP, so reverse-DNS tests never leave the machine: it answers every PTR
 * query with one name, or (silent) never answers at all, to play an unreachable resolver.
 */
import dgram from 'node:dgram';

/** A running stub. */
export interface DnsStub {
  /** `127.0.0.1:port`, for Resolver.setServers / new ReverseDns(..., [server]). */
  server: string;
  /** Queries received so far. */
  readonly queries: number;
  close(): Promise<void>;
}

/** Encode a domain name as DNS labels. */
function encodeName(name: string): Buffer {
  const parts = name.split('.').filter((p) => p !== '');
  return Buffer.concat([...parts.map((p) => Buffer.concat([Buffer.from([p.length]), Buffer.from(p, 'ascii')])), Buffer.from([0])]);
}

/** Build the answer to `query` with one PTR record pointing at `name`. */
function ptrAnswer(query: Buffer, name: string): Buffer {
  // Question section: from byte 12 to the end of the name, plus QTYPE and QCLASS.
  let i = 12;
  while (query[i] !== 0) i += query[i] + 1;
  const questionEnd = i + 5;
  const header = Buffer.alloc(12);
  query.copy(header, 0, 0, 2); // ID
  header.writeUInt16BE(0x8180, 2); // response, recursion desired + available, no error
  header.writeUInt16BE(1, 4); // QDCOUNT
  header.writeUInt16BE(1, 6); // ANCOUNT
  const rdata = encodeName(name);
  const answer = Buffer.alloc(12);
  answer.writeUInt16BE(0xc00c, 0); // name: pointer to the question's name
  answer.writeUInt16BE(12, 2); // TYPE PTR
  answer.writeUInt16BE(1, 4); // CLASS IN
  answer.writeUInt32BE(60, 6); // TTL
  answer.writeUInt16BE(rdata.length, 10);
  return Buffer.concat([header, query.subarray(12, questionEnd), answer, rdata]);
}

/** Start a stub answering PTR queries with `name`, or never answering when `name` is null. */
export function startDnsStub(name: string | null): Promise<DnsStub> {
  const sock = dgram.createSocket('udp4');
  let queries = 0;
  sock.on('message', (msg, rinfo) => {
    queries++;
    if (name === null || msg.length < 17) return;
    sock.send(ptrAnswer(msg, name), rinfo.port, rinfo.address);
  });
  return new Promise((resolve) => {
    sock.bind(0, '127.0.0.1', () => {
      resolve({
        server: `127.0.0.1:${sock.address().port}`,
        get queries() {
          return queries;
        },
        close: () => new Promise<void>((r) => sock.close(() => r())),
      });
    });
  });
}
