/**
 * Redis key layout of a cluster. Everything a run writes lives under `<prefix>:run:{id}:…`, so a
 * run is cleaned up by deleting known names (`runKeys`); nothing is ever found with KEYS/SCAN.
 */
export class ClusterKeys {
  constructor(readonly prefix = 'iotload') {}

  /** Set of member ids that registered (stale ids are removed when their info key is gone). */
  get members(): string {
    return `${this.prefix}:members`
  }
  /** JSON `MemberInfo`, with a TTL renewed by the heartbeat: its absence means the daemon is gone. */
  member(id: string): string {
    return `${this.prefix}:member:${id}`
  }
  /** List of run ids assigned to the member (RPUSH by a coordinator, LPOP by the member). */
  inbox(id: string): string {
    return `${this.prefix}:member:${id}:inbox`
  }
  /** List of clock requests to a member (NTP-style exchange, see clock-exchange.ts). */
  clockRequests(id: string): string {
    return `${this.prefix}:member:${id}:clock`
  }
  /** Prefix of the reply lists of clock requests to a member (suffix: the requester's id). */
  clockReplyPrefix(id: string): string {
    return `${this.prefix}:member:${id}:clock:reply:`
  }
  /** Hash member → JSON {offsetUs, uncertaintyUs}: each daemon's clock offset to the run's coordinator. */
  clocks(run: string): string {
    return `${this.prefix}:run:${run}:clocks`
  }
  /** Set of run ids whose coordination has not ended: where daemons look for runs to adopt. */
  get coordinatedRuns(): string {
    return `${this.prefix}:runs:coordinated`
  }
  /** Set when a user asked the run to stop, so a coordinator that adopts it knows why it is `stop`. */
  stopRequested(run: string): string {
    return `${this.prefix}:run:${run}:stop-requested`
  }
  /** Epoch ms at which the run went (`state` = `go`), for a coordinator that adopts it later. */
  startedAt(run: string): string {
    return `${this.prefix}:run:${run}:started`
  }
  /** Number of times the run was adopted after its coordinator stalled or died (hand-overs excluded). */
  adoptionCount(run: string): string {
    return `${this.prefix}:run:${run}:adoptions:count`
  }
  /** List of JSON adoption events {from, by, state, atMs, handover}. */
  adoptions(run: string): string {
    return `${this.prefix}:run:${run}:adoptions`
  }
  /** Member id of a coordinator that handed the run over on shutdown (its adoption is no stall). */
  handover(run: string): string {
    return `${this.prefix}:run:${run}:handover`
  }
  /** Coordinator lock of a run: `SET NX PX`, renewed by the lease keeper while coordinating. */
  coordinator(run: string): string {
    return `${this.prefix}:run:${run}:coordinator`
  }
  /** JSON `RunPlan`: the scenario and who does what. */
  plan(run: string): string {
    return `${this.prefix}:run:${run}:plan`
  }
  /** Run state: `advertise` → `go` → `stop` → `done`. */
  state(run: string): string {
    return `${this.prefix}:run:${run}:state`
  }
  /** Hash topic → JSON {device, producer}: topics advertised by the producers. */
  topics(run: string): string {
    return `${this.prefix}:run:${run}:topics`
  }
  /** Claim of one topic by one consumer/bridge member (`SET NX PX`, renewed). */
  claim(run: string, role: string, topic: string): string {
    return `${this.prefix}:run:${run}:claim:${role}:${topic}`
  }
  /** List of JSON claim events {topic, member, role, atMs}: who owned which topic since when. */
  owners(run: string): string {
    return `${this.prefix}:run:${run}:owners`
  }
  /** Hash `<second>:<member>` → JSON per-second record of one topic (counters + encoded histograms). */
  results(run: string, topic: string): string {
    return `${this.prefix}:run:${run}:res:${topic}`
  }
  /** Hash topic → messages sent (warm-up included), written by producers. */
  sent(run: string): string {
    return `${this.prefix}:run:${run}:sent`
  }
  /** Hash `<second>:<member>` → JSON per-second producer counters. */
  producerSeconds(run: string): string {
    return `${this.prefix}:run:${run}:psec`
  }
  /** Hash member → JSON status of a producer / consumer / bridge task. */
  tasks(run: string, role: string): string {
    return `${this.prefix}:run:${run}:tasks:${role}`
  }

  /** Every key of a run except the per-topic ones (those need the topic names: `topicKeys`). */
  runKeys(run: string): string[] {
    return [
      this.coordinator(run),
      this.plan(run),
      this.state(run),
      this.startedAt(run),
      this.stopRequested(run),
      this.topics(run),
      this.owners(run),
      this.sent(run),
      this.producerSeconds(run),
      this.tasks(run, 'producer'),
      this.tasks(run, 'consumer'),
      this.tasks(run, 'bridge'),
      this.clocks(run),
      this.adoptionCount(run),
      this.adoptions(run),
      this.handover(run),
    ]
  }

  /** Per-topic keys of a run. */
  topicKeys(run: string, topics: string[]): string[] {
    return topics.flatMap((t) => [
      this.results(run, t),
      this.claim(run, 'consumer', t),
      this.claim(run, 'bridge', t),
    ])
  }
}
