/**
 * Host name look-ups for the connections of one HTTP client, made once per host and reused.
 * undici opens a connection per request in flight (up to 16 to an index), and each new
 * connection asks the system resolver again; here one answer serves them all for a minute.
 * Besides the work, this avoids the resolver's worst case: a lost UDP answer is retried only
 * after its time-out (5 s with glibc's defaults, seen on 2 of 60 look-ups on a test machine),
 * and a run that makes 20 look-ups meets it far more often than one that makes two.
 * Failures are not remembered.
 */
import dns from "node:dns";

type Resolve = (hostname: string) => Promise<dns.LookupAddress[]>;

export type LookupFunction = (
  hostname: string,
  options: dns.LookupOptions,
  callback: (
    err: NodeJS.ErrnoException | null,
    address: string | dns.LookupAddress[],
    family?: number,
  ) => void,
) => void;

/** How long an answer is reused. */
export const LOOKUP_TTL_MS = 60_000;

const systemResolve: Resolve = (hostname) => dns.promises.lookup(hostname, { all: true });

function familyOf(family: dns.LookupOptions["family"]): 0 | 4 | 6 {
  if (family === 4 || family === "IPv4") return 4;
  if (family === 6 || family === "IPv6") return 6;
  return 0;
}

/**
 * A `lookup` for net.connect / tls.connect that asks `resolve` (the system's `dns.lookup`,
 * every address, in its order) once per host name and answers later calls from that, as
 * `dns.lookup` would for their options (`all`, `family`).
 */
export function cachedLookup(resolve: Resolve = systemResolve, now = Date.now): LookupFunction {
  const answers = new Map<string, { at: number; addresses: Promise<dns.LookupAddress[]> }>();
  return (hostname, options, callback) => {
    let entry = answers.get(hostname);
    if (entry === undefined || now() - entry.at > LOOKUP_TTL_MS) {
      const addresses = resolve(hostname);
      const made = { at: now(), addresses };
      entry = made;
      answers.set(hostname, made);
      addresses.catch(() => {
        if (answers.get(hostname) === made) answers.delete(hostname);
      });
    }
    entry.addresses.then(
      (all) => {
        const family = familyOf(options.family);
        const list = family === 0 ? all : all.filter((a) => a.family === family);
        const first = list[0];
        if (first === undefined) {
          const err: NodeJS.ErrnoException = new Error(`getaddrinfo ENOTFOUND ${hostname}`);
          err.code = "ENOTFOUND";
          callback(err, options.all ? [] : "");
        } else if (options.all) {
          callback(null, list);
        } else {
          callback(null, first.address, first.family);
        }
      },
      (err: NodeJS.ErrnoException) => callback(err, options.all ? [] : ""),
    );
  };
}
