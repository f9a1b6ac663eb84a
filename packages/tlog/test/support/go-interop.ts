import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

// Runs interop/main.go: Go's own golang.org/x/mod/sumdb/note and sumdb/tlog, answering JSON
// lines. Built offline from Debian's packages; missing ones fail the suite (never skip it).

export const GO_INSTALL = "apt-get install -y golang-go golang-golang-x-mod-dev";
const X_MOD_SUMDB = "/usr/share/gocode/src/golang.org/x/mod/sumdb";
const INTEROP_DIR = join(dirname(fileURLToPath(import.meta.url)), "../../interop");

export interface GoResponse {
  error?: string;
  signerKey?: string;
  verifierKey?: string;
  note?: string;
  text?: string;
  name?: string;
  keyId?: string;
  sigs?: { name: string; keyId: string }[];
  unverified?: { name: string; keyId: string }[];
  hash?: string;
  proof?: string[];
  proofs?: string[][];
  treeProofs?: string[][];
  path?: string;
  ok?: boolean;
}

function buildInterop(): string {
  const version = spawnSync("go", ["version"], { encoding: "utf8" });
  if (version.error !== undefined || version.status !== 0) {
    throw new Error(`Go is not installed, and these tests need it: ${GO_INSTALL}`);
  }
  for (const part of ["note/note.go", "tlog/tlog.go", "tlog/tile.go"]) {
    if (!existsSync(join(X_MOD_SUMDB, part))) {
      throw new Error(
        `golang.org/x/mod's sources are not in /usr/share/gocode, and these tests need them: ${GO_INSTALL}`,
      );
    }
  }
  const binary = join(mkdtempSync(join(tmpdir(), "tlog-interop-")), "interop");
  const build = spawnSync("go", ["build", "-o", binary, "."], {
    cwd: INTEROP_DIR,
    encoding: "utf8",
    env: {
      ...process.env,
      GO111MODULE: "off",
      GOPATH: "/usr/share/gocode",
      GOCACHE: join(tmpdir(), "auditlog-tlog-gocache"),
      GOFLAGS: "",
      GOPROXY: "off",
    },
  });
  if (build.status !== 0) throw new Error(`building interop/main.go failed:\n${build.stderr}`);
  return binary;
}

export class GoInterop {
  readonly #process: ChildProcessWithoutNullStreams;
  readonly #waiting: ((response: GoResponse) => void)[] = [];
  readonly #binary: string;

  private constructor(binary: string) {
    this.#binary = binary;
    this.#process = spawn(binary, [], { stdio: ["pipe", "pipe", "pipe"] });
    createInterface({ input: this.#process.stdout }).on("line", (line) => {
      this.#waiting.shift()?.(JSON.parse(line) as GoResponse);
    });
    this.#process.stderr.on("data", (chunk) => process.stderr.write(chunk));
  }

  static start(): GoInterop {
    return new GoInterop(buildInterop());
  }

  request(request: Record<string, unknown>): Promise<GoResponse> {
    return new Promise((resolve, reject) => {
      if (this.#process.exitCode !== null) {
        reject(new Error(`the Go interop process exited (${this.#process.exitCode})`));
        return;
      }
      this.#waiting.push(resolve);
      this.#process.stdin.write(`${JSON.stringify(request)}\n`);
    });
  }

  /** A request Go must answer without an error. */
  async ok(request: Record<string, unknown>): Promise<GoResponse> {
    const response = await this.request(request);
    if (response.error !== undefined)
      throw new Error(`Go refused ${request.op}: ${response.error}`);
    return response;
  }

  async close(): Promise<void> {
    this.#process.stdin.end();
    if (this.#process.exitCode === null) {
      await new Promise((resolve) => this.#process.once("exit", resolve));
    }
    rmSync(dirname(this.#binary), { recursive: true, force: true });
  }
}
