// The controller's Event recorder, after client-go tools/record (kubernetes/kubernetes,
// staging/src/k8s.io/client-go/tools/record/events_cache.go, commit 00080d400fe27f11795b654ad1e124311831a0fc):
// - EventAggregator: events with the same source, object, type and reason but different messages are counted
//   per 10-minute window; from the 10th distinct message on they become one Event whose message is
//   "(combined from similar events): <latest message>". FailedDeployModel messages carry AWS's RequestID, so
//   repeated deploy failures aggregate this way, exactly as on a real cluster.
// - EventLogger: an event identical to one seen before (or the combined one) bumps `count` and `lastTimestamp`
//   on the existing Event object instead of creating another.
// - EventSourceObjectSpamFilter: per source and involved object (getSpamKey: source component and host, the
//   object's kind, namespace, name, uid and apiVersion) a token bucket of 25 refilled at 1 per 5 minutes
//   (defaultSpamBurst, defaultSpamQPS; flowcontrol's passive token bucket). EventCorrelate applies it after
//   aggregation and observation, so a filtered event still counts and the next one let through carries the count.
import { randomBytes } from "node:crypto";
import { ApiException, type CoreV1Api, PatchStrategy, setHeaderOptions, type V1Ingress } from "@kubernetes/client-node";
import { errorText } from "./errors";

/**
 * kubernetes-sigs/aws-load-balancer-controller v3.5.0 main.go: mgr.GetEventRecorderFor("ingress") for Ingresses,
 * GetEventRecorderFor("targetGroupBinding") for TargetGroupBindings; each recorder is client-go's, with its cache.
 */
export type EventSource = "ingress" | "targetGroupBinding";

/** The object an Event is about (corev1.ObjectReference, as tools/record GetReference fills it). */
export interface InvolvedObject {
  kind: string;
  apiVersion: string;
  namespace: string;
  name: string;
  uid?: string;
  resourceVersion?: string;
}

export const ingressReference = (ing: V1Ingress): InvolvedObject => ({
  kind: "Ingress",
  apiVersion: "networking.k8s.io/v1",
  namespace: ing.metadata?.namespace ?? "default",
  name: ing.metadata?.name ?? "",
  uid: ing.metadata?.uid ?? "",
  resourceVersion: ing.metadata?.resourceVersion,
});

const AGGREGATE_WINDOW_MS = 10 * 60_000;
const AGGREGATE_MAX_EVENTS = 10;
const SPAM_BURST = 25;
const SPAM_QPS = 1 / 300;

/** flowcontrol.NewTokenBucketPassiveRateLimiter: `burst` tokens, refilled continuously at `qps`, taken one per event. */
class TokenBucket {
  private tokens: number;
  private last: number;
  constructor(
    private readonly qps: number,
    private readonly burst: number,
    now: number,
  ) {
    this.tokens = burst;
    this.last = now;
  }

  tryAccept(now: number): boolean {
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.qps);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

export class EventRecorder {
  private readonly observed = new Map<string, { name: string; namespace: string; count: number; first: Date }>();
  private readonly aggregates = new Map<string, { messages: Set<string>; last: number }>();
  private readonly spam = new Map<string, TokenBucket>();
  private chain: Promise<void> = Promise.resolve();
  constructor(
    private readonly core: CoreV1Api,
    private readonly log: (m: string) => void,
    private readonly source: EventSource = "ingress",
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** EventSourceObjectSpamFilter.Filter: true when the source has used up its events about this object for now. */
  private filtered(spamKey: string, now: number): boolean {
    let bucket = this.spam.get(spamKey);
    if (!bucket) {
      bucket = new TokenBucket(SPAM_QPS, SPAM_BURST, now);
      this.spam.set(spamKey, bucket);
    }
    return !bucket.tryAccept(now);
  }

  record(ing: V1Ingress, type: "Normal" | "Warning", reason: string, message: string): void {
    this.recordFor(ingressReference(ing), type, reason, message);
  }

  recordFor(object: InvolvedObject, type: "Normal" | "Warning", reason: string, message: string): void {
    // Serialised so that two identical events in a row aggregate instead of racing to create two objects.
    this.chain = this.chain.then(() => this.write(object, type, reason, message)).catch(() => undefined);
  }

  flush(): Promise<void> {
    return this.chain;
  }

  private async write(object: InvolvedObject, type: "Normal" | "Warning", reason: string, rawMessage: string) {
    const { kind, apiVersion, namespace, name } = object;
    const uid = object.uid ?? "";
    const now = this.now();
    const spamKey = [this.source, "", kind, namespace, name, uid, apiVersion].join("");
    const aggregateKey = [this.source, kind, namespace, name, uid, apiVersion, type, reason].join("\u0000");
    let agg = this.aggregates.get(aggregateKey);
    if (!agg || now.getTime() - agg.last > AGGREGATE_WINDOW_MS) {
      agg = { messages: new Set(), last: now.getTime() };
      this.aggregates.set(aggregateKey, agg);
    }
    agg.messages.add(rawMessage);
    agg.last = now.getTime();
    let key = `${aggregateKey}\u0000${rawMessage}`;
    let message = rawMessage;
    if (agg.messages.size >= AGGREGATE_MAX_EVENTS) {
      // Do not grow the set beyond the threshold (PopAny), and dedupe the combined event by the aggregate key.
      const first = agg.messages.values().next().value;
      if (first !== undefined) agg.messages.delete(first);
      key = aggregateKey;
      message = `(combined from similar events): ${rawMessage}`;
    }

    const prior = this.observed.get(key);
    if (prior) prior.count += 1;
    if (this.filtered(spamKey, now.getTime())) return;
    if (prior) {
      try {
        // client-go sends a strategic merge patch of count, lastTimestamp and message; for these scalar fields
        // a JSON merge patch is the same change.
        await this.core.patchNamespacedEvent(
          {
            name: prior.name,
            namespace: prior.namespace,
            body: { count: prior.count, lastTimestamp: now.toISOString(), message },
          },
          setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
        );
        return;
      } catch (e) {
        if (!(e instanceof ApiException && e.code === 404)) {
          this.log(`event patch failed: ${errorText(e)}`);
          return;
        }
        // The Event expired or was deleted: create it afresh, like client-go does.
        this.observed.delete(key);
      }
    }
    // tools/record makeEvent: the name is "<object>.<unix nanos in hex>".
    const nanos = BigInt(now.getTime()) * 1_000_000n + BigInt(randomBytes(2).readUInt16BE(0));
    const eventName = `${name}.${nanos.toString(16)}`;
    try {
      await this.core.createNamespacedEvent({
        namespace,
        body: {
          apiVersion: "v1",
          kind: "Event",
          metadata: { name: eventName, namespace },
          involvedObject: object,
          type,
          reason,
          message,
          source: { component: this.source },
          reportingComponent: this.source,
          reportingInstance: "",
          firstTimestamp: now,
          lastTimestamp: now,
          count: 1,
        },
      });
      this.observed.set(key, { name: eventName, namespace, count: 1, first: now });
    } catch (e) {
      this.log(`event create failed: ${errorText(e)}`);
    }
  }
}
