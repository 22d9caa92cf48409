/**
 * Seeded generators of PEP 440 versions and specifiers (valid, odd and broken) for the
 * differential tests against pypa/packaging, plus hand-picked corner cases.
 */

import { Rng } from "../helpers/random.ts";

// --- seeded generation -------------------------------------------------------------------

/** Rng plus PEP 440 shaped pieces. */
export class Gen extends Rng {
  randomCase(s: string): string {
    return Array.from(s, (c) => (this.chance(0.3) ? c.toUpperCase() : c)).join("");
  }
  number(small: boolean): string {
    const r = this.next();
    if (small || r < 0.6) return String(this.int(small ? 3 : 12));
    if (r < 0.75) return "0".repeat(1 + this.int(3)) + String(this.int(100)); // leading zeros
    if (r < 0.9) return String(this.int(100000));
    return Array.from({ length: 17 + this.int(25) }, (_, i) =>
      i === 0 ? 1 + this.int(9) : this.int(10),
    ).join(""); // beyond 2^53
  }
  sep(): string {
    return this.pick(["", "", ".", "-", "_"]);
  }
  /** A version-like string; `small` keeps numbers tiny so specifier boundaries get hit. */
  version(small = false): string {
    let s = "";
    if (this.chance(0.1)) s += this.pick(["v", "V"]);
    if (this.chance(small ? 0.05 : 0.15)) s += `${this.number(true)}!`;
    const parts = 1 + this.int(small ? 3 : 5);
    s += Array.from({ length: parts }, () => this.number(small)).join(".");
    if (this.chance(0.3)) {
      s +=
        this.sep() +
        this.randomCase(this.pick(["a", "b", "rc", "c", "alpha", "beta", "pre", "preview"]));
      if (this.chance(0.8)) s += this.sep() + this.number(true);
    }
    if (this.chance(0.25)) {
      if (this.chance(0.25)) s += `-${this.number(true)}`;
      else {
        s += this.sep() + this.randomCase(this.pick(["post", "rev", "r"]));
        if (this.chance(0.8)) s += this.sep() + this.number(true);
      }
    }
    if (this.chance(0.25)) {
      s += this.sep() + this.randomCase("dev");
      if (this.chance(0.8)) s += this.sep() + this.number(true);
    }
    if (this.chance(small ? 0.15 : 0.2)) {
      const segs = 1 + this.int(3);
      s += `+${Array.from({ length: segs }, () => this.pick(["1", "01", "2", "a", "abc", "B2", "ubuntu", "0"])).join(this.pick([".", ".", "-", "_"]))}`;
    }
    if (!small && this.chance(0.1)) s = this.pick([" ", "\t", "\n", "\u00a0", "\x0b"]) + s;
    if (!small && this.chance(0.1)) s += this.pick([" ", "\r\n", "\f", "\u2003"]);
    return s;
  }
  /** Valid-looking versions, sometimes broken on purpose. */
  maybeInvalidVersion(): string {
    const s = this.version();
    if (!this.chance(0.3)) return s;
    const junk = [
      "",
      ".",
      "-",
      "_",
      "+",
      "!",
      "*",
      "a",
      "x",
      "..",
      " ",
      "é",
      "1",
      "post",
      "dev",
      "ſ",
      "K",
    ];
    const at = this.int(s.length + 1);
    switch (this.int(5)) {
      case 0:
        return s.slice(0, at) + this.pick(junk) + s.slice(at);
      case 1:
        return s.slice(0, at) + s.slice(at + 1);
      case 2:
        return s + this.pick(["-", ".", "+", "_", "+a.", ".*", "-dev-", "a1b1"]);
      case 3:
        return this.pick([
          "",
          " ",
          "1.0-",
          "1..0",
          ".1",
          "1.",
          "v",
          "1.0+",
          "1.0+a..b",
          "1!",
          "!1",
          "1.0a1a1",
          "1.0.dev1.post1",
          "a1",
          "1.0 1",
          "1.0-1-1",
          "1.0_1",
          "1_0",
        ]);
      default:
        return s.toUpperCase();
    }
  }
  specifier(valid: boolean): string {
    const ops = ["==", "!=", "<=", ">=", "<", ">", "~=", "==="];
    const op = this.pick(ops);
    let v = this.version(true);
    if ((op === "==" || op === "!=") && this.chance(0.3))
      v = `${v
        .replace(/^v/i, "")
        .replace(/[^0-9.!]+.*$/, "")
        .replace(/\.$/, "")}.*`;
    if (op === "~=" && !v.includes(".") && this.chance(0.8)) v += ".0";
    if (op === "===" && this.chance(0.3))
      v = this.pick(["foobar", "1.0", "1.0+local", "1.0A1", "1.0.0"]);
    let s = op + this.pick(["", "", " ", "  "]) + v;
    if (!valid && this.chance(0.5)) {
      s = this.pick([
        s.replace(/^[<>=!~]+/, this.pick(["=", "=>", "<>", "~", "!", "=<", ""])),
        `${s}.*`,
        `${s};`,
        `${s})`,
        `${s}+local`,
        `${s} x`,
        "~=1",
        "==1.0.*+local",
        "<1.0.*",
        ">=1.0.*",
        "~=1.0.*",
        "=== a b",
        "lolwat",
        "==",
      ]);
    }
    return this.pick(["", " ", "\t"]) + s + this.pick(["", " ", "\n"]);
  }
  /** A candidate near the versions a specifier text names, to hit boundary rules. */
  near(spec: string): string {
    const versions = spec.match(/v?[0-9][0-9a-z.!_+-]*/gi) ?? [];
    if (versions.length === 0 || this.chance(0.3)) return this.version(true);
    const base = this.pick(versions).replace(/[.]$/, "");
    const bare = base.replace(/\+.*$/, "");
    const suffix = [
      "",
      ".0",
      ".post1",
      ".post0",
      "+local",
      "+1",
      ".dev0",
      ".dev1",
      "a1",
      "rc1",
      ".post1.dev0",
      "+1.post",
      "a1.post1",
      ".1",
      ".0.1",
    ];
    return (this.chance(0.7) ? bare : base) + this.pick(suffix);
  }
  specifierSet(): string {
    const n = this.int(4);
    return Array.from({ length: n }, () => this.specifier(this.chance(0.95))).join(
      this.pick([",", ", ", " ,", ",,"]),
    );
  }
}

/** Hand-picked corners, compared along with the generated inputs. */
export const EDGE_VERSIONS = [
  "\x1c1.0",
  "1.0\u3000",
  "\u00851.0\u2028",
  "\ufeff1.0",
  "1.0\u200b",
  "1.0a.",
  "1.0a-",
  "1.0.post.",
  "1.0.dev.",
  "1.0.dev.+abc",
  "1.0-",
  "1.0-r",
  "1.0-dev",
  "1.0a.post",
  "1.0a.dev",
  "1.0prev",
  "1.0.re",
  "1.0-post-1",
  "1.0pre",
  "1.0preview1",
  "1.0c",
  "01!02.003a04.post05.dev06+007.x08",
  "99999999999999999999999.1",
  "1!1.0+ABC-Def_1",
  "V1.0",
  "vv1.0",
  "1.0+",
  "1.0++a",
  "1.0+a_",
  "1.0+_a",
  "1.0+a..b",
  "1.0+\u00e9",
  "\u0661.0",
  "1.\uff10",
  "1.0RC1",
  "1.0ALPHA",
  "1.0.Post1",
  "1.0.DEV",
  "1.0alpha.beta",
  "0",
  "0.0",
  "00",
  "1.0.0.0.0.0",
  "",
  "  ",
  "1.0 ",
  " v1.0 ",
  "1.0a1a1",
  "1.0.dev1.post1",
  "1.0rc1.dev2.post1",
  "1.0-1-1",
  "1.0-1.dev1",
  "1.0_1",
];
export const EDGE_SPECS = [
  "===",
  "=== ",
  "====1",
  "===1.0;",
  "===1.0)",
  "===1.0(",
  "==1.0 .*",
  "== 1.0.*",
  "==1.0.* ",
  "==v1.0.*",
  "==1!1.0.*",
  "==1.0a1.*",
  "==1.0.post1.*",
  "==1.0.dev1.*",
  "==1.0+local.*",
  "!=1.0+local",
  "<=1.0+local",
  ">1.0+local",
  "~=1",
  "~=1.0",
  "~=v1!1.0.post1.dev1",
  "~=1.0+local",
  "<1.0.*",
  ">=1.0.*",
  "~=1.0.*",
  "lolwat",
  ">=1.0,",
  ",>=1.0",
  ">=1.0,,<2",
  " , ",
  "",
  ">=1.0;python_version<'3'",
  ">=1.0 <2",
  "=>1.0",
  "<>1.0",
  "=<1.0",
  "==1.0,==1.0.0,==v1.0",
  "~=1.0,~=1.0.0",
  ">=1.0a1",
  "!=1.0a1",
  "===1.0a1",
  "===FooBar,===foobar",
  ">= 1.0 , < 2.0",
  "\u00a0>=1.0",
  ">=\u20031.0",
  "==1.0\u3000",
];
