import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { raiseNiceness } from "./deployment.ts";

function fakeOs(niceness: number, refuse = false) {
  const os = {
    niceness,
    getPriority: () => os.niceness,
    setPriority: (priority: number) => {
      if (refuse) throw new Error("EACCES");
      os.niceness = priority;
    },
  };
  return os;
}

describe("raiseNiceness", () => {
  it("raises a lower niceness to the target", () => {
    const os = fakeOs(0);
    expect(raiseNiceness(10, os)).toBe(10);
    expect(os.niceness).toBe(10);
  });

  it("never lowers a niceness set higher, and leaves 0 as it is", () => {
    const os = fakeOs(15);
    expect(raiseNiceness(10, os)).toBe(15);
    expect(raiseNiceness(0, fakeOs(0))).toBe(0);
  });

  it("keeps the worker running as it was when the system refuses", () => {
    expect(raiseNiceness(10, fakeOs(0, true))).toBe(0);
  });

  it("changes the real process's niceness", () => {
    // In a child process, so the test runner keeps its own priority.
    const printed = execFileSync(
      process.execPath,
      [
        "--import",
        "tsx",
        "-e",
        `import("./src/deployment.ts").then((m) => console.log(m.raiseNiceness(7), require("node:os").getPriority()))`,
      ],
      { cwd: new URL("..", import.meta.url), encoding: "utf8" },
    );
    expect(printed.trim()).toBe("7 7");
  });
});
