import { testCheckpointKeyFile } from "@auditlog/tlog/testing";

// Every test process (and every API or worker process a test spawns, which inherits this
// environment) signs and verifies checkpoints with the one shared test key.
process.env.CHECKPOINT_KEY_FILE ??= testCheckpointKeyFile();
