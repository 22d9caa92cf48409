/** Types for bin/node-check.js (plain JavaScript, so that any Node parses it). */
export declare const NODE_REQUIRED: string;
export declare const NODE_REQUIRED_FROM_SOURCE: string;
export declare function nodeIsSupported(version: string): boolean;
export declare function nodeProblem(input: {
  node: string;
  typescript: string | false | undefined;
  fromSource: boolean;
  root: string;
}): string | undefined;
export declare function silenceSqliteWarning(): void;
