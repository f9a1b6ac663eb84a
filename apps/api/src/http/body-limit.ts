import { bodyLimit } from "hono/body-limit";
import { ApiError } from "../errors.ts";

/** 413 with the common error body for a request body over `maxSize` bytes. */
export function limitBody(maxSize: number) {
  return bodyLimit({
    maxSize,
    onError: () => {
      throw new ApiError("payload_too_large", `request body exceeds ${maxSize} bytes`);
    },
  });
}
