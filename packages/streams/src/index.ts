export type {
  CreateDestinationSender,
  DeliveryOutcome,
  DestinationSender,
  SenderDeps,
  StreamBatch,
} from "./destination-sender.ts";
