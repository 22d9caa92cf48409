/** Helpers for tests that expect a SlimenvError. */
import { expect } from "vitest";
import { type ErrorCode, isSlimenvError, type SlimenvError } from "../../src/base/index.ts";

/**
 * Run `fn`, which must throw a SlimenvError, and return that error. The test fails when `fn`
 * returns normally or throws anything else.
 */
export function thrown(fn: () => unknown): SlimenvError {
  try {
    fn();
  } catch (err) {
    if (isSlimenvError(err)) return err;
    throw new Error(`expected a SlimenvError, got ${String(err)}`, { cause: err });
  }
  throw new Error("expected a SlimenvError, got none");
}

/** The SlimenvError `fn` throws, as one string "CODE: message" for toMatch / startsWith. */
export function thrownCodeAndMessage(fn: () => unknown): string {
  const err = thrown(fn);
  return `${err.code}: ${err.message}`;
}

/**
 * Expect `fn` to throw a `code` error about `input` that says "at column N" (1-based) and whose
 * detail points at that column under the input; returns the error for further checks.
 */
export function thrownAtColumn(
  fn: () => unknown,
  code: ErrorCode,
  input: string,
  column: number,
): SlimenvError {
  const err = thrown(fn);
  expect(err.code).toBe(code);
  expect(err.message).toContain(`at column ${column}`);
  expect(err.detail).toBe(`${input}\n${" ".repeat(column - 1)}^`);
  return err;
}
