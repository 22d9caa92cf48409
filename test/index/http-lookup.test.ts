/** Host name look-ups made once per HTTP client and reused by its connections. */
import type dns from "node:dns";
import { afterEach, describe, expect, it } from "vitest";
import { HttpClient } from "../../src/index/http.ts";
import { cachedLookup, LOOKUP_TTL_MS, type LookupFunction } from "../../src/index/http-lookup.ts";
import { startServer, type TestServer, text } from "./http-fixtures.ts";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

type Answer = {
  err: NodeJS.ErrnoException | null;
  address: string | dns.LookupAddress[];
  family?: number;
};

function ask(lookup: LookupFunction, host: string, options: dns.LookupOptions): Promise<Answer> {
  return new Promise((resolve) =>
    lookup(host, options, (err, address, family) => resolve({ err, address, family })),
  );
}

const BOTH: dns.LookupAddress[] = [
  { address: "2001:db8::1", family: 6 },
  { address: "192.0.2.7", family: 4 },
];

describe("cachedLookup", () => {
  it("asks the resolver once per host and answers each call as dns.lookup would", async () => {
    const asked: string[] = [];
    const lookup = cachedLookup(async (host) => {
      asked.push(host);
      return host === "index.test" ? BOTH : [{ address: "198.51.100.1", family: 4 }];
    });
    expect(await ask(lookup, "index.test", { all: true })).toEqual({
      err: null,
      address: BOTH,
      family: undefined,
    });
    expect(await ask(lookup, "index.test", {})).toEqual({
      err: null,
      address: "2001:db8::1",
      family: 6,
    });
    expect(await ask(lookup, "index.test", { family: 4 })).toEqual({
      err: null,
      address: "192.0.2.7",
      family: 4,
    });
    expect(await ask(lookup, "index.test", { family: "IPv6", all: true })).toEqual({
      err: null,
      address: [BOTH[0]],
      family: undefined,
    });
    expect((await ask(lookup, "files.test", {})).address).toBe("198.51.100.1");
    expect(asked).toEqual(["index.test", "files.test"]);
  });

  it("concurrent calls share one look-up", async () => {
    let calls = 0;
    const lookup = cachedLookup(async () => {
      calls++;
      await new Promise((r) => setTimeout(r, 20));
      return BOTH;
    });
    const answers = await Promise.all(
      Array.from({ length: 8 }, () => ask(lookup, "index.test", {})),
    );
    expect(answers.every((a) => a.address === "2001:db8::1")).toBe(true);
    expect(calls).toBe(1);
  });

  it("a family the host has no address of is ENOTFOUND", async () => {
    const lookup = cachedLookup(async () => [{ address: "192.0.2.7", family: 4 }]);
    const answer = await ask(lookup, "index.test", { family: 6 });
    expect(answer.err?.code).toBe("ENOTFOUND");
    expect(answer.err?.message).toContain("index.test");
  });

  it("failures are passed on and not remembered", async () => {
    let calls = 0;
    const lookup = cachedLookup(async () => {
      calls++;
      if (calls === 1) {
        const err: NodeJS.ErrnoException = new Error("getaddrinfo EAI_AGAIN index.test");
        err.code = "EAI_AGAIN";
        throw err;
      }
      return BOTH;
    });
    expect((await ask(lookup, "index.test", {})).err?.code).toBe("EAI_AGAIN");
    expect(await ask(lookup, "index.test", {})).toEqual({
      err: null,
      address: "2001:db8::1",
      family: 6,
    });
    expect(calls).toBe(2);
  });

  it("an answer older than the TTL is asked again", async () => {
    let clock = 1_000;
    let calls = 0;
    const lookup = cachedLookup(
      async () => {
        calls++;
        return [{ address: `192.0.2.${calls}`, family: 4 }];
      },
      () => clock,
    );
    expect((await ask(lookup, "index.test", {})).address).toBe("192.0.2.1");
    clock += LOOKUP_TTL_MS;
    expect((await ask(lookup, "index.test", {})).address).toBe("192.0.2.1");
    clock += 1;
    expect((await ask(lookup, "index.test", {})).address).toBe("192.0.2.2");
  });
});

describe("HttpClient with a host name", () => {
  it("reaches a server by name through the cached look-up, over several connections", async () => {
    const server: TestServer = await startServer(async (_req, res) => {
      await new Promise((r) => setTimeout(r, 30));
      res.end("ok");
    });
    cleanups.push(() => server.close());
    const client = new HttpClient({ netrc: false, env: {}, concurrency: 4 });
    cleanups.push(() => client.close());
    const url = (i: number) => `http://localhost:${server.port}/p${i}`;
    const answers = await Promise.all([0, 1, 2, 3].map((i) => client.get(url(i))));
    expect(answers.map((a) => [a.status, text(a.body)])).toEqual(Array(4).fill([200, "ok"]));
    expect(server.connections).toBe(4);
  });
});
