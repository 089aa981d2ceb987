/**
 * The lease ledger: an instance's share of every limit it enforces, held in memory.
 *
 * A limit is a counter per window in the store (`t:<token>:rpm` in minute `m29474880`, ...). The
 * ledger leases blocks of a counter's capacity with {@linkcode Store.takeLeases} (atomic: the
 * leases of every instance together never pass the cap), spends them without waiting, and hands
 * back what it did not use once it has been idle, so the guarantee (never over the cap) costs at
 * most the blocks still held elsewhere when a window ends. A request waits for the store only
 * when its instance holds too little: at its first use of a window, near the cap, or when
 * spending outruns the refills that start in the background as a block runs low. Settlements
 * (a reservation that turned out larger or smaller than spent) travel with the next lease.
 * @module
 */
import type { Logger } from "../logger.ts";
import type { LeaseGrant, LeaseRequest, Store } from "../store/store.ts";
import { DEFAULT_TUNING, type LeaseTuning } from "./block_size.ts";
import { windowAfter, windowAt, type WindowKind } from "./windows.ts";
import { exhausted, leaseRequest, newSlot, noteSpent, type Slot, spareOf } from "./_slot.ts";

/** Units of one limit a request needs. */
export interface Demand {
  /** The counter, store-wide, e.g. `t:<tokenId>:rpm`; one counter counts in one window kind. */
  counter: string;
  /** Its window kind. */
  kind: WindowKind;
  /** Its cap per window. */
  cap: number;
  /** Units needed (whole, 1 or more). */
  want: number;
}

/** What {@linkcode LeaseLedger.take} spent, for settling later. */
export interface Grant {
  /** One part per demand, in order. */
  readonly parts: readonly { readonly counter: string; units: number }[];
}

/** Outcome of {@linkcode LeaseLedger.take}. */
export type TakeResult =
  | { ok: true; grant: Grant }
  | { ok: false; index: number; retryAt: number };

/** Options of {@linkcode createLeaseLedger}. */
export interface LeaseLedgerOptions {
  /** The store holding the counters. */
  store: Pick<Store, "takeLeases">;
  /** Clock (epoch ms): names windows, ages blocks. */
  now: () => number;
  /** Reports failed background leases. */
  logger: Logger;
  /** Keeps background work alive on platforms that need it (Workers' `waitUntil`). */
  background?: ((promise: Promise<unknown>) => void) | undefined;
  /** Overrides of {@linkcode DEFAULT_TUNING}. */
  tuning?: Partial<LeaseTuning>;
  /** Most counters followed at once; the least recent are handed back (default 10,000). */
  maxCounters?: number;
}

/** An instance's leases. */
export interface LeaseLedger {
  /**
   * Spends every demand's units, or none: from the local blocks when they hold enough (no
   * store call), else after leasing more.
   * @returns The grant, or the first refusing demand and when its window ends.
   * @throws {Error} When the store cannot be reached and the blocks hold too little.
   */
  take(demands: readonly Demand[]): Promise<TakeResult>;
  /** Settles one part of a grant to the units really spent: the rest comes back, or is owed. */
  settle(grant: Grant, index: number, units: number): void;
  /** Spends units whatever the caps say (what must be counted though it cannot be refused). */
  force(demands: readonly Demand[]): void;
  /**
   * When a counter is known to have nothing left for `demand`: its window's end, else 0. Never
   * waits; asks the store again in the background once the last answer is old enough.
   */
  blockedUntil(demand: Demand, at: number): number;
  /** Hands back idle blocks (all with `releaseAll`), sends what is owed, forgets ended windows. */
  sync(options?: { releaseAll?: boolean }): Promise<void>;
  /** A counter's local state, for tests and diagnostics. */
  inspect(counter: string): { window: string; held: number; owed: number } | null;
}

type Mode = "need" | "spare" | "probe" | "settle";
interface Queued {
  slot: Slot;
  mode: Mode;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** Rounds of leasing one take waits for before it is refused (others may spend what came). */
const MAX_ROUNDS = 8;
/** An idle, empty counter is forgotten after this long, ms. */
const FORGET_MS = 60_000;

/**
 * Creates the ledger.
 * @param options Store, clock, logger and tuning.
 * @returns The ledger; call its `sync` on the adapter's timer.
 */
export function createLeaseLedger(options: LeaseLedgerOptions): LeaseLedger {
  const { store, now, logger } = options;
  const tuning = { ...DEFAULT_TUNING, ...options.tuning };
  const maxCounters = options.maxCounters ?? 10_000;
  const slots = new Map<string, Slot>();
  const pending = new Set<Promise<unknown>>();
  let queue: Queued[] = [];
  let detached: LeaseRequest[] = [];
  let flushScheduled = false;
  let rtt = 0;

  function slotFor(demand: Demand, at: number): Slot {
    let slot = slots.get(demand.counter);
    if (!slot || at >= slot.window.end) {
      const window = windowAt(demand.kind, at);
      const ahead = slot?.next?.window.name === window.name ? slot.next : null;
      slot = ahead ?? newSlot(demand, window, { before: slot, at: now(), tuning });
      slots.delete(demand.counter);
      slots.set(demand.counter, slot);
      if (slots.size > maxCounters) evict();
    }
    if (demand.cap !== slot.cap) {
      // Units leased under a higher cap could take a lower one past its end: hand them back.
      if (demand.cap < slot.cap && slot.held > 0) {
        slot.owed -= slot.held;
        slot.held = 0;
      }
      slot.cap = demand.cap;
      slot.exhaustedAt = null;
    }
    return slot;
  }

  /** Hands back the least recent counters' blocks when too many are followed. */
  function evict(): void {
    for (const [counter, slot] of slots) {
      if (slots.size <= maxCounters) return;
      if (slot.refill || slot.waiting > 0) continue;
      slots.delete(counter);
      if (slot.held > 0 || slot.owed !== 0) {
        detached.push(leaseRequest(slot, slot.owed - slot.held, 0));
      }
    }
  }

  /** A lease for the slot, shared with any already on its way; one store call per tick. */
  function refill(slot: Slot, mode: Mode): Promise<void> {
    if (slot.refill) return slot.refill;
    const promise = new Promise<void>((resolve, reject) => {
      queue.push({ slot, mode, resolve, reject });
    });
    slot.refill = promise;
    // Registered before any waiter's: waiters resume with `refill` already cleared.
    promise.then(() => {
      if (slot.refill === promise) slot.refill = null;
    }, () => {
      if (slot.refill === promise) slot.refill = null;
    });
    if (!flushScheduled) {
      flushScheduled = true;
      queueMicrotask(() => void flush());
    }
    return promise;
  }

  function inBackground(promise: Promise<unknown>): void {
    const quiet = promise.catch((error) => {
      logger.log("warn", "limit lease failed: will retry", { error });
    });
    pending.add(quiet);
    void quiet.finally(() => pending.delete(quiet));
    options.background?.(quiet);
  }

  function wantOf(item: Queued, t: number): number {
    const slot = item.slot;
    const need = Math.max(0, slot.waiting - slot.held);
    if (item.mode === "settle" && need === 0) return 0;
    const spare = spareOf(slot, t, rtt, tuning);
    const want = need > 0 || item.mode !== "settle" ? need + spare : 0;
    return item.mode === "probe" ? Math.max(1, want) : want;
  }

  async function flush(): Promise<void> {
    const items = queue;
    const extra = detached;
    queue = [];
    detached = [];
    flushScheduled = false;
    const started = now();
    const sent = items.map((item) => item.slot.owed);
    const requests = items.map((item) => {
      const r = leaseRequest(item.slot, item.slot.owed, wantOf(item, started));
      item.slot.owed = 0;
      return r;
    });
    let grants: LeaseGrant[];
    try {
      grants = await store.takeLeases([...requests, ...extra]);
    } catch (error) {
      // Units owed must still be counted; units handed back may have reached the store already,
      // and handing them back twice could let a cap be passed: they are dropped instead.
      items.forEach((item, i) => item.slot.owed += Math.max(0, sent[i]!));
      for (const item of items) item.reject(error);
      return;
    }
    const done = now();
    rtt = rtt === 0 ? done - started : rtt * 0.8 + (done - started) * 0.2;
    items.forEach((item, i) => {
      const slot = item.slot;
      const grant = grants[i] ?? { granted: 0, used: requests[i]!.cap };
      slot.held += grant.granted;
      slot.used = grant.used;
      slot.exhaustedAt = grant.used >= requests[i]!.cap ? done : null;
      // Units owed meanwhile come out of what was just leased, the rest goes at once.
      const pay = Math.min(slot.held, Math.max(0, slot.owed));
      slot.held -= pay;
      slot.owed -= pay;
      slot.refill = null;
      item.resolve();
      if (slot.owed !== 0) inBackground(refill(slot, "settle"));
    });
  }

  /** Starts a background lease when the block runs low, and leases the next window ahead. */
  function topUp(slot: Slot, t: number): void {
    if (slot.refill || slot.exhaustedAt !== null) return;
    const spare = spareOf(slot, t, rtt, tuning);
    if (spare < 1) return;
    if (slot.held < Math.ceil(spare / 2) + slot.lastWant) inBackground(refill(slot, "spare"));
    const ahead = Math.max(tuning.aheadMs, 4 * rtt);
    if (!slot.next && slot.window.end - t <= ahead) {
      slot.next = newSlot(slot, windowAfter(slot.kind, slot.window), {
        before: slot,
        at: t,
        tuning,
      });
      inBackground(refill(slot.next, "spare"));
    }
  }

  function owe(slot: Slot, units: number, t: number): void {
    const fromHeld = Math.min(slot.held, units);
    slot.held -= fromHeld;
    slot.owed += units - fromHeld;
    noteSpent(slot, units, t, tuning);
    if (slot.owed > 0 && !slot.refill) inBackground(refill(slot, "settle"));
  }

  function refusal(slots: Slot[], indexes: number[]): TakeResult {
    let index = indexes[0]!;
    for (const i of indexes) if (slots[i]!.window.end > slots[index]!.window.end) index = i;
    return { ok: false, index, retryAt: slots[index]!.window.end };
  }

  /** Hands an idle block back and sends what is owed. */
  function tidy(slot: Slot, t: number, releaseAll: boolean): void {
    const idle = t - slot.lastSpendAt >= Math.max(tuning.idleMs, 8 * rtt);
    if (slot.held > 0 && slot.waiting === 0 && !slot.refill && (releaseAll || idle)) {
      slot.owed -= slot.held;
      slot.held = 0;
    }
    if (slot.owed !== 0 && !slot.refill) inBackground(refill(slot, "settle"));
  }

  return {
    async take(demands) {
      const taken = demands.map((d) => slotFor(d, now()));
      for (let round = 0;; round++) {
        const short = demands.flatMap((d, i) => taken[i]!.held < d.want ? [i] : []);
        if (short.length === 0) break;
        const t = now();
        const refused = short.filter((i) => !taken[i]!.refill && exhausted(taken[i]!, t, tuning));
        if (refused.length > 0 || round === MAX_ROUNDS) {
          return refusal(taken, refused.length > 0 ? refused : short);
        }
        for (const i of short) taken[i]!.waiting += demands[i]!.want;
        try {
          await Promise.all(short.map((i) => refill(taken[i]!, "need")));
        } finally {
          for (const i of short) taken[i]!.waiting -= demands[i]!.want;
        }
      }
      const t = now();
      const parts = demands.map((d, i) => {
        const slot = taken[i]!;
        slot.held -= d.want;
        noteSpent(slot, d.want, t, tuning);
        topUp(slot, t);
        return { counter: slot.counter, slot, units: d.want };
      });
      return { ok: true, grant: { parts } };
    },
    settle(grant, index, units) {
      const part = grant.parts[index] as { slot?: Slot; units: number } | undefined;
      const slot = part?.slot;
      // A window that ended (or a counter handed back) settles nothing: it is over.
      if (!part || !slot || slots.get(slot.counter) !== slot) return;
      const spent = Number.isFinite(units) ? Math.max(0, Math.ceil(units)) : part.units;
      const diff = spent - part.units;
      part.units = spent;
      if (diff < 0) slot.held -= diff;
      else if (diff > 0) owe(slot, diff, now());
    },
    force(demands) {
      const t = now();
      for (const d of demands) owe(slotFor(d, t), d.want, t);
    },
    blockedUntil(demand, at) {
      const slot = slots.get(demand.counter);
      if (!slot || at >= slot.window.end || slot.exhaustedAt === null) return 0;
      if (slot.held >= demand.want || demand.cap !== slot.cap) return 0;
      if (!exhausted(slot, at, tuning) && !slot.refill) inBackground(refill(slot, "probe"));
      return slot.window.end;
    },
    async sync(syncOptions = {}) {
      // Leases on their way first: what they bring can then be handed back too.
      await Promise.all([...pending]);
      const t = now();
      const releaseAll = syncOptions.releaseAll ?? false;
      for (const [counter, slot] of slots) {
        let current = slot;
        if (t >= slot.window.end) {
          if (!slot.next || t >= slot.next.window.end) {
            slots.delete(counter);
            continue;
          }
          slots.set(counter, current = slot.next);
        }
        tidy(current, t, releaseAll);
        if (current.next) tidy(current.next, t, releaseAll);
        const empty = current.held === 0 && current.owed === 0 && !current.next;
        if (empty && !current.refill && t - current.lastSpendAt > FORGET_MS) slots.delete(counter);
      }
      if (detached.length > 0 && !flushScheduled) inBackground(flush());
      // What is on its way now; later leases are the next sync's business.
      await Promise.all([...pending]);
    },
    inspect(counter) {
      const slot = slots.get(counter);
      return slot ? { window: slot.window.name, held: slot.held, owed: slot.owed } : null;
    },
  };
}
