import { expect } from "vitest";
import { CliFlagError } from "./cli-flag-error.ts";

/** The one-line message a command's flag check refuses with; fails the test if it accepts. */
export function flagRefusal(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(CliFlagError);
    return (error as Error).message;
  }
  throw new Error("accepted");
}
