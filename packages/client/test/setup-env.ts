import { testCheckpointKeyFile } from "@auditlog/tlog/testing";

// The API and worker processes these tests start inherit this environment: they sign and
// verify checkpoints with the one shared test key.
process.env.CHECKPOINT_KEY_FILE ??= testCheckpointKeyFile();
