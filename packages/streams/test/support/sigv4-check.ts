import { createHash, createHmac } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { SignatureV4 } from "@smithy/signature-v4";

/** SHA-256 (or its HMAC) for the signer, from node:crypto. */
class NodeSha256 {
  private readonly hash;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = secret
      ? createHmac(
          "sha256",
          typeof secret === "string" ? secret : Buffer.from(secret as Uint8Array),
        )
      : createHash("sha256");
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(typeof data === "string" ? data : Buffer.from(data as Uint8Array));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
}

export type SigV4Check =
  | { ok: true }
  /** S3's error code and message, as S3 answers them (403 unless noted). */
  | { ok: false; status: number; code: string; message: string };

const authPattern =
  /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/;

/**
 * Checks a request's AWS Signature Version 4 (header form) the way S3 does: recomputes the
 * signature with the account's secret over the method, the path as sent, the query, the signed
 * headers and `x-amz-content-sha256`, which must also match the body when it is a hash.
 * `secretOf` answers an access key id's secret (undefined: not ours to judge, let S3 answer).
 */
export async function checkSigV4(
  request: { method: string; path: string; headers: IncomingHttpHeaders; body: Buffer },
  secretOf: (accessKeyId: string) => string | undefined,
): Promise<SigV4Check> {
  const authorization = request.headers.authorization;
  if (typeof authorization !== "string") return { ok: true };
  const match = authPattern.exec(authorization);
  if (!match) {
    return {
      ok: false,
      status: 400,
      code: "AuthorizationHeaderMalformed",
      message: "The authorization header is malformed.",
    };
  }
  const [, accessKeyId = "", , region = "", service = "", signedHeaders = "", signature = ""] =
    match;
  const secretAccessKey = secretOf(accessKeyId);
  if (secretAccessKey === undefined) return { ok: true };
  const payloadHash = String(request.headers["x-amz-content-sha256"] ?? "");
  if (/^[0-9a-f]{64}$/.test(payloadHash)) {
    const actual = createHash("sha256").update(request.body).digest("hex");
    if (actual !== payloadHash) {
      return {
        ok: false,
        status: 400,
        code: "XAmzContentSHA256Mismatch",
        message: "The provided 'x-amz-content-sha256' header does not match what was computed.",
      };
    }
  }
  const amzDate = String(request.headers["x-amz-date"] ?? "");
  const dateMatch = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
  if (!dateMatch) {
    return {
      ok: false,
      status: 403,
      code: "AccessDenied",
      message: "AWS authentication requires a valid Date or x-amz-date header",
    };
  }
  const [, y, mo, d, h, mi, s] = dateMatch;
  const signingDate = new Date(`${y}-${mo}-${d}T${h}:${mi}:${s}Z`);
  const names = signedHeaders.split(";");
  const headers: Record<string, string> = {};
  for (const name of names) {
    const value = request.headers[name];
    headers[name] = Array.isArray(value) ? value.join(",") : String(value ?? "");
  }
  const url = new URL(request.path, "http://placeholder");
  const query: Record<string, string | string[]> = {};
  for (const [key, value] of url.searchParams) {
    const previous = query[key];
    query[key] =
      previous === undefined
        ? value
        : [...(Array.isArray(previous) ? previous : [previous]), value];
  }
  const host = headers.host ?? "";
  const signer = new SignatureV4({
    credentials: { accessKeyId, secretAccessKey },
    region,
    service,
    sha256: NodeSha256,
    uriEscapePath: false,
    applyChecksum: false,
  });
  const signed = await signer.sign(
    {
      method: request.method,
      protocol: "http:",
      hostname: host.split(":")[0] ?? host,
      path: url.pathname,
      query,
      headers,
    },
    { signingDate, signableHeaders: new Set(names) },
  );
  const expected = /Signature=([0-9a-f]{64})/.exec(String(signed.headers.authorization ?? ""))?.[1];
  if (expected !== signature) {
    return {
      ok: false,
      status: 403,
      code: "SignatureDoesNotMatch",
      message:
        "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
    };
  }
  return { ok: true };
}

const credentialPattern = /^([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request$/;

/**
 * Checks a presigned URL (SigV4 in the query string) the way S3 does: not expired
 * (`X-Amz-Date` + `X-Amz-Expires` against `now`), and `X-Amz-Signature` recomputed with the
 * account's secret over the method, the path, every other query parameter, the signed headers and
 * the payload `UNSIGNED-PAYLOAD`. A request without query authentication is `ok` (not ours).
 */
export async function checkPresignedSigV4(
  request: { method: string; path: string; headers: IncomingHttpHeaders },
  secretOf: (accessKeyId: string) => string | undefined,
  now = new Date(),
): Promise<SigV4Check> {
  const url = new URL(request.path, "http://placeholder");
  const params = url.searchParams;
  if (!params.has("X-Amz-Algorithm")) return { ok: true };
  const denied = (message: string): SigV4Check => ({
    ok: false,
    status: 403,
    code: "AccessDenied",
    message,
  });
  const credential = credentialPattern.exec(params.get("X-Amz-Credential") ?? "");
  const dateMatch = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(
    params.get("X-Amz-Date") ?? "",
  );
  const expires = Number(params.get("X-Amz-Expires"));
  const signature = params.get("X-Amz-Signature") ?? "";
  const signedHeaders = (params.get("X-Amz-SignedHeaders") ?? "").split(";").filter(Boolean);
  if (
    params.get("X-Amz-Algorithm") !== "AWS4-HMAC-SHA256" ||
    !credential ||
    !dateMatch ||
    !Number.isInteger(expires) ||
    expires < 1 ||
    expires > 604_800 ||
    !/^[0-9a-f]{64}$/.test(signature) ||
    signedHeaders.length === 0
  ) {
    return denied("Query-string authentication requires the X-Amz-* parameters, well formed.");
  }
  const [, accessKeyId = "", , region = "", service = ""] = credential;
  const secretAccessKey = secretOf(accessKeyId);
  if (secretAccessKey === undefined) return { ok: true };
  const [, y, mo, d, h, mi, s] = dateMatch;
  const signingDate = new Date(`${y}-${mo}-${d}T${h}:${mi}:${s}Z`);
  if (now.getTime() > signingDate.getTime() + expires * 1000) return denied("Request has expired");
  const headers: Record<string, string> = { "x-amz-content-sha256": "UNSIGNED-PAYLOAD" };
  for (const name of signedHeaders) {
    const value = request.headers[name];
    headers[name] = Array.isArray(value) ? value.join(",") : String(value ?? "");
  }
  const query: Record<string, string | string[]> = {};
  for (const [key, value] of params) {
    if (key === "X-Amz-Signature") continue;
    const previous = query[key];
    query[key] =
      previous === undefined
        ? value
        : [...(Array.isArray(previous) ? previous : [previous]), value];
  }
  const signer = new SignatureV4({
    credentials: { accessKeyId, secretAccessKey },
    region,
    service,
    sha256: NodeSha256,
    uriEscapePath: false,
    applyChecksum: false,
  });
  const host = headers.host ?? "";
  const signed = await signer.sign(
    {
      method: request.method,
      protocol: "http:",
      hostname: host.split(":")[0] ?? host,
      path: url.pathname,
      query,
      headers,
    },
    // Header signing would add x-amz-date and sign it; in a query signature both it and the
    // payload marker are not headers.
    { signingDate, unsignableHeaders: new Set(["x-amz-date", "x-amz-content-sha256"]) },
  );
  const expected = /Signature=([0-9a-f]{64})/.exec(String(signed.headers.authorization ?? ""))?.[1];
  if (expected !== signature) {
    return {
      ok: false,
      status: 403,
      code: "SignatureDoesNotMatch",
      message:
        "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
    };
  }
  return { ok: true };
}
