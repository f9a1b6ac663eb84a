import { createDatadogSender } from "./datadog-sender.ts";
import type { CreateDestinationSender } from "./destination-sender.ts";
import { createHttpsSender } from "./https-sender.ts";
import { createS3Sender } from "./s3-sender.ts";
import { createSplunkSender } from "./splunk-sender.ts";

/** The sender of a destination, by its type. */
export const createDestinationSender: CreateDestinationSender = (destination, secret, deps) => {
  switch (destination.type) {
    case "https":
      return createHttpsSender(destination, secret, deps);
    case "splunk":
      return createSplunkSender(destination, secret, deps);
    case "datadog":
      return createDatadogSender(destination, secret, deps);
    case "s3":
      return createS3Sender(destination, secret, deps);
  }
};
