import {
  type EntriesStoredMessage,
  entriesStoredMessageSchema,
  type RealtimeMessage,
  realtimeChannels,
  realtimeMessageSchema,
} from "@auditlog/events";
import type { Logger } from "@auditlog/observability";
import { isCluster, pubSubConnection, type RedisConnection } from "@auditlog/redis";
import type { Cluster } from "ioredis";

const channels = [
  realtimeChannels.notifications,
  realtimeChannels.exportProgress,
  realtimeChannels.entriesStored,
];

/** One open console (an SSE stream) of a user. */
export interface RealtimeClient {
  /** A message for this client's user. Called synchronously; must not throw. */
  deliver(message: RealtimeMessage): void;
  /**
   * Entries were stored in some organisation's log. Every client is offered every such message
   * and keeps those of the organisations its user administers (a set the client keeps current;
   * memberships change while a stream is open). Called synchronously; must not throw.
   */
  entriesStored?(message: EntriesStoredMessage): void;
  /** The subscriber reconnected to Redis: messages may have been missed, refetch. */
  resync(): void;
  /** The hub is closing (the process is stopping): end the stream. */
  close(): void;
}

export interface RealtimeSubscription {
  /** Settles once the subscriber is subscribed to every channel (or failed to be). */
  ready: Promise<void>;
  unsubscribe(): void;
}

/**
 * Fan-out of realtime messages inside one API process. The process holds ONE dedicated Redis
 * subscriber connection (created on the first client, subscribed to every realtime channel) and
 * hands each message to that process's open streams of the message's user. Every API process
 * runs its own hub, so a message published once reaches a user's consoles whichever process
 * serves them.
 *
 * The subscriber is opened by `connectSubscriber` (the connection factory's `subscriber` role):
 * it queues commands while offline and never gives up, so it reconnects and resubscribes by
 * itself (ioredis `autoResubscribe`) after a Redis outage. On a Redis Cluster it subscribes on
 * one node, and a PUBLISH on any node reaches every node (the cluster bus carries it), so a
 * worker's message reaches every API process whichever nodes each is on; when a node leaves
 * (a failover), or the connection the cluster client subscribes over ends for any other reason,
 * ioredis subscribes again on another, and the clients are told to resync.
 */
export class RealtimeHub {
  private readonly clients = new Map<string, Set<RealtimeClient>>();
  private subscriber: RedisConnection | undefined;
  private subscribed: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly connectSubscriber: () => RedisConnection,
    private readonly logger: Logger,
    private readonly limits: { perUser: number; perProcess: number } = {
      perUser: 5,
      perProcess: 1000,
    },
  ) {}

  /** Whether one more stream fits within this process's cap. */
  hasRoom(): boolean {
    return this.clientCount() < this.limits.perProcess;
  }

  /**
   * Adds a stream of the user's. A user's streams are capped: one more than the cap closes their
   * oldest (a forgotten tab), so an account cannot hold connections without bound.
   */
  subscribe(userId: string, client: RealtimeClient): RealtimeSubscription {
    if (this.closed) throw new Error("realtime hub is closed");
    let set = this.clients.get(userId);
    if (!set) {
      set = new Set();
      this.clients.set(userId, set);
    }
    while (set.size >= this.limits.perUser) {
      const oldest = set.values().next().value as RealtimeClient;
      set.delete(oldest);
      try {
        oldest.close();
      } catch {
        // A stream that fails to close is dropped all the same.
      }
    }
    set.add(client);
    const ready = this.ensureSubscribed();
    return {
      ready,
      unsubscribe: () => {
        const current = this.clients.get(userId);
        if (!current) return;
        current.delete(client);
        if (current.size === 0) this.clients.delete(userId);
      },
    };
  }

  /** Open clients of one user, or of everyone; for tests and metrics. */
  clientCount(userId?: string): number {
    if (userId !== undefined) return this.clients.get(userId)?.size ?? 0;
    let total = 0;
    for (const set of this.clients.values()) total += set.size;
    return total;
  }

  /** Whether this process opened its subscriber connection yet. */
  get connected(): boolean {
    return this.subscriber !== undefined;
  }

  /** Ends every open stream and closes the subscriber connection. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const set of [...this.clients.values()]) {
      for (const client of [...set]) {
        try {
          client.close();
        } catch {
          // A client that fails to close must not keep the others open.
        }
      }
    }
    this.clients.clear();
    this.subscriber?.disconnect();
  }

  private ensureSubscribed(): Promise<void> {
    if (!this.subscriber) {
      const subscriber = this.connectSubscriber();
      let readyBefore = false;
      subscriber.on("error", () => {
        // Reconnection is automatic; the producer's readiness check reports outages.
      });
      subscriber.on("ready", () => {
        if (readyBefore) {
          // ioredis resubscribes by itself; subscribing again (a no-op for Redis) tells when
          // that is done, so a client told to resync cannot miss what is published next.
          subscriber.subscribe(...channels).then(
            () => {
              this.logger.info("realtime subscriber reconnected");
              this.forEachClient((client) => client.resync());
            },
            () => {},
          );
        }
        readyBefore = true;
      });
      if (isCluster(subscriber)) {
        // The cluster client moves its subscription to another node when the one it used
        // leaves; what was published meanwhile is missed.
        subscriber.on("-node", () => {
          if (!readyBefore || this.closed) return;
          subscriber.subscribe(...channels).then(
            () => {
              this.logger.info("realtime subscriber moved to another Redis node");
              this.forEachClient((client) => client.resync());
            },
            () => {},
          );
        });
      }
      subscriber.on("message", (channel: string, raw: string) => this.dispatch(channel, raw));
      this.subscriber = subscriber;
    }
    if (!this.subscribed) {
      const subscriber = this.subscriber;
      this.subscribed = subscriber.subscribe(...channels).then(
        () => {
          if (isCluster(subscriber)) this.watchClusterPubSub(subscriber);
        },
        (error: Error) => {
          // Let the next client try again.
          this.subscribed = undefined;
          this.logger.warn("realtime subscribe failed", { error: error.message });
        },
      );
    }
    return this.subscribed;
  }

  /**
   * A cluster client subscribes over one node connection of its own, which it replaces when that
   * ends (a dropped connection, a node restarting, `CLIENT KILL`) without any event of the
   * cluster's: that connection's `end` is watched, and the clients are told to resync once the
   * replacement is subscribed.
   */
  private watchClusterPubSub(subscriber: Cluster): void {
    const connection = pubSubConnection(subscriber);
    if (!connection || this.closed) return;
    connection.once("end", () => {
      if (this.closed) return;
      // ioredis's own handler of this event ran first (it registered first): a new connection
      // is picked and subscribes to the same channels. Subscribing again (a no-op for Redis)
      // tells when that is done, so a client told to resync cannot miss what comes next.
      const resubscribe = () => {
        if (this.closed) return;
        subscriber.subscribe(...channels).then(
          () => {
            this.logger.info("realtime subscriber connection replaced");
            this.forEachClient((client) => client.resync());
            this.watchClusterPubSub(subscriber);
          },
          () => {
            setTimeout(resubscribe, 500).unref();
          },
        );
      };
      resubscribe();
    });
  }

  private dispatch(channel: string, raw: string): void {
    if (channel === realtimeChannels.entriesStored) {
      this.dispatchEntriesStored(raw);
      return;
    }
    let parsed: ReturnType<typeof realtimeMessageSchema.safeParse>;
    try {
      parsed = realtimeMessageSchema.safeParse(JSON.parse(raw));
    } catch {
      this.logger.warn("realtime message is not JSON", { channel });
      return;
    }
    if (!parsed.success) {
      this.logger.warn("realtime message does not match the contract", { channel });
      return;
    }
    const message = parsed.data;
    const set = this.clients.get(message.userId);
    if (!set) return;
    for (const client of [...set]) {
      try {
        client.deliver(message);
      } catch (error) {
        this.logger.warn("realtime delivery failed", { error: (error as Error).message });
      }
    }
  }

  /** One message per organisation and write: offered to every open stream of this process. */
  private dispatchEntriesStored(raw: string): void {
    let parsed: ReturnType<typeof entriesStoredMessageSchema.safeParse>;
    try {
      parsed = entriesStoredMessageSchema.safeParse(JSON.parse(raw));
    } catch {
      this.logger.warn("realtime message is not JSON", { channel: realtimeChannels.entriesStored });
      return;
    }
    if (!parsed.success) {
      this.logger.warn("realtime message does not match the contract", {
        channel: realtimeChannels.entriesStored,
      });
      return;
    }
    const message = parsed.data;
    this.forEachClient((client) => client.entriesStored?.(message));
  }

  private forEachClient(fn: (client: RealtimeClient) => void): void {
    for (const set of this.clients.values()) {
      for (const client of [...set]) {
        try {
          fn(client);
        } catch {
          // One broken stream must not starve the others.
        }
      }
    }
  }
}
