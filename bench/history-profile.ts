/** Reads a workflow's history the way a profiler would: where the time between events went. */
import type { temporal as protoTypes } from '@temporalio/proto';
import proto from '@temporalio/proto';

import { summarize, type Summary } from './stats.js';

// The package is CommonJS: its namespace comes through the default export under Node's ESM loader.
const { temporal } = proto;
type History = protoTypes.api.history.v1.IHistory;
type HistoryEvent = protoTypes.api.history.v1.IHistoryEvent;
const EventType = temporal.api.enums.v1.EventType;

export function eventMillis(event: HistoryEvent): number {
  const t = event.eventTime;
  return Number(t?.seconds ?? 0) * 1000 + (t?.nanos ?? 0) / 1e6;
}

export function eventTypeName(event: HistoryEvent): string {
  return (EventType[event.eventType ?? 0] ?? String(event.eventType)).replace(/^EVENT_TYPE_/, '');
}

/** The encoded size of the history, as the server counts it (protobuf bytes). */
export function historyBytes(history: History): number {
  return temporal.api.history.v1.History.encode(history).finish().length;
}

export interface ActivitySpan {
  scheduledEventId: number;
  type: string;
  clipIndex?: number;
  scheduledAt: number;
  startedAt?: number;
  closedAt?: number;
  attempt: number;
  identity: string;
  outcome?: 'completed' | 'failed' | 'timedOut' | 'canceled';
  /** The clip activity whose completion made the workflow schedule this one (refills only). */
  triggeredByCompletionAt?: number;
}

export interface HistoryProfile {
  events: number;
  bytes: number;
  eventsByType: Record<string, number>;
  /** The largest single payload in the history, and where. */
  largestPayload: { bytes: number; where: string };
  /** Bytes of the payloads that grow with the number of clips. */
  payloads: { workflowInput: number; workflowResult: number };
  startAt: number;
  endAt: number;
  makespanMs: number;
  /** Workflow start → first generateClip scheduled (validation, jobSettings, checkBudget). */
  setupMs: number;
  /** Last generateClip closed → workflow completed (the writeReport local activity, final workflow task). */
  tailMs: number;
  spans: ActivitySpan[];
  /** generateClip: scheduled → started (how long an activity task waits to be picked up). */
  dispatchMs: Summary;
  /** generateClip: started → closed, less the provider latency L (poll lag, save, probe, cost record, completion). */
  runOverLatencyMs: Summary;
  /** A clip's completion → the next clip scheduled (a workflow task round trip). */
  refillMs: Summary;
  workflowTasks: {
    count: number;
    scheduleToStartMs: Summary;
    startToCompleteMs: Summary;
    timedOut: number;
    /** Each timed-out workflow task: how long after it was scheduled, and why (e.g. a dead worker's sticky queue). */
    timeouts: { scheduledAt: number; afterMs: number; type: string }[];
  };
}

function payloadSizes(event: HistoryEvent): { bytes: number; where: string }[] {
  const out: { bytes: number; where: string }[] = [];
  const name = eventTypeName(event);
  const add = (payloads: protoTypes.api.common.v1.IPayloads | null | undefined, what: string) => {
    for (const p of payloads?.payloads ?? [])
      out.push({ bytes: temporal.api.common.v1.Payload.encode(p).finish().length, where: `${name} ${what}` });
  };
  add(event.workflowExecutionStartedEventAttributes?.input, 'input');
  add(event.workflowExecutionCompletedEventAttributes?.result, 'result');
  const scheduled = event.activityTaskScheduledEventAttributes;
  if (scheduled) add(scheduled.input, `input (${scheduled.activityType?.name ?? '?'})`);
  add(event.activityTaskCompletedEventAttributes?.result, 'result');
  const marker = event.markerRecordedEventAttributes;
  if (marker) for (const [key, value] of Object.entries(marker.details ?? {})) add(value, `details.${key}`);
  return out;
}

export function profileHistory(history: History, latencyMs = 0, clipActivity = 'generateClip'): HistoryProfile {
  const events = history.events ?? [];
  const eventsByType: Record<string, number> = {};
  const spans = new Map<number, ActivitySpan>();
  const wftScheduled = new Map<number, number>();
  const wftStarted = new Map<number, { at: number; scheduledAt: number }>();
  const wftScheduleToStart: number[] = [];
  const wftStartToComplete: number[] = [];
  let wftTimedOut = 0;
  const wftTimeouts: { scheduledAt: number; afterMs: number; type: string }[] = [];
  let largestPayload = { bytes: 0, where: '' };
  const payloads = { workflowInput: 0, workflowResult: 0 };
  let lastClipCompletionAt: number | undefined;
  let startAt = 0;
  let endAt = 0;

  for (const event of events) {
    const name = eventTypeName(event);
    eventsByType[name] = (eventsByType[name] ?? 0) + 1;
    for (const p of payloadSizes(event)) {
      if (p.bytes > largestPayload.bytes) largestPayload = p;
      if (p.where === 'WORKFLOW_EXECUTION_STARTED input') payloads.workflowInput += p.bytes;
      if (p.where === 'WORKFLOW_EXECUTION_COMPLETED result') payloads.workflowResult += p.bytes;
    }
    const at = eventMillis(event);
    const id = Number(event.eventId);
    switch (event.eventType) {
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
        startAt = at;
        break;
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED:
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED:
        endAt = at;
        break;
      case EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED:
        wftScheduled.set(id, at);
        break;
      case EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED: {
        const scheduledAt = wftScheduled.get(Number(event.workflowTaskStartedEventAttributes?.scheduledEventId)) ?? at;
        wftStarted.set(id, { at, scheduledAt });
        wftScheduleToStart.push(at - scheduledAt);
        break;
      }
      case EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED: {
        const started = wftStarted.get(Number(event.workflowTaskCompletedEventAttributes?.startedEventId));
        if (started) wftStartToComplete.push(at - started.at);
        break;
      }
      case EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT: {
        wftTimedOut++;
        const attrs = event.workflowTaskTimedOutEventAttributes;
        const scheduledAt = wftScheduled.get(Number(attrs?.scheduledEventId)) ?? at;
        const type = (temporal.api.enums.v1.TimeoutType[attrs?.timeoutType ?? 0] ?? '').replace(/^TIMEOUT_TYPE_/, '');
        wftTimeouts.push({ scheduledAt, afterMs: at - scheduledAt, type });
        break;
      }
      case EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED: {
        const attrs = event.activityTaskScheduledEventAttributes!;
        const type = attrs.activityType?.name ?? '';
        const data = attrs.input?.payloads?.[0]?.data;
        let clipIndex: number | undefined;
        if (type === clipActivity && data)
          clipIndex = (JSON.parse(Buffer.from(data).toString()) as { clip?: { clipIndex?: number } }).clip?.clipIndex;
        spans.set(id, {
          scheduledEventId: id,
          type,
          ...(clipIndex !== undefined ? { clipIndex } : {}),
          scheduledAt: at,
          attempt: 1,
          identity: '',
          ...(type === clipActivity && lastClipCompletionAt !== undefined ? { triggeredByCompletionAt: lastClipCompletionAt } : {}),
        });
        break;
      }
      case EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED: {
        const attrs = event.activityTaskStartedEventAttributes!;
        const span = spans.get(Number(attrs.scheduledEventId));
        if (span) {
          span.startedAt = at;
          span.attempt = attrs.attempt ?? 1;
          span.identity = attrs.identity ?? '';
        }
        break;
      }
      default: {
        const closed =
          event.activityTaskCompletedEventAttributes ??
          event.activityTaskFailedEventAttributes ??
          event.activityTaskTimedOutEventAttributes ??
          event.activityTaskCanceledEventAttributes;
        if (!closed) break;
        const span = spans.get(Number(closed.scheduledEventId));
        if (!span) break;
        span.closedAt = at;
        span.outcome = event.activityTaskCompletedEventAttributes
          ? 'completed'
          : event.activityTaskFailedEventAttributes
            ? 'failed'
            : event.activityTaskTimedOutEventAttributes
              ? 'timedOut'
              : 'canceled';
        if (span.type === clipActivity) lastClipCompletionAt = at;
      }
    }
  }

  const all = [...spans.values()];
  const clips = all.filter((s) => s.type === clipActivity);
  const firstClip = Math.min(...clips.map((c) => c.scheduledAt));
  const lastClose = Math.max(...clips.map((c) => c.closedAt ?? 0));
  return {
    events: events.length,
    bytes: historyBytes(history),
    eventsByType,
    largestPayload,
    payloads,
    startAt,
    endAt,
    makespanMs: endAt - startAt,
    setupMs: clips.length ? firstClip - startAt : Number.NaN,
    tailMs: clips.length ? endAt - lastClose : Number.NaN,
    spans: all,
    dispatchMs: summarize(clips.filter((c) => c.startedAt !== undefined).map((c) => c.startedAt! - c.scheduledAt)),
    runOverLatencyMs: summarize(
      clips.filter((c) => c.startedAt !== undefined && c.closedAt !== undefined).map((c) => c.closedAt! - c.startedAt! - latencyMs),
    ),
    refillMs: summarize(
      clips.filter((c) => c.triggeredByCompletionAt !== undefined).map((c) => c.scheduledAt - c.triggeredByCompletionAt!),
    ),
    workflowTasks: {
      count: wftStartToComplete.length,
      scheduleToStartMs: summarize(wftScheduleToStart),
      startToCompleteMs: summarize(wftStartToComplete),
      timedOut: wftTimedOut,
      timeouts: wftTimeouts,
    },
  };
}

export interface TimelineEntry {
  /** ms after `fromMs`. */
  offsetMs: number;
  type: string;
  detail: string;
}

/** The history's events after `fromMs`, in time order, with what each was about (for the crash timeline). */
export function timeline(history: History, fromMs: number): TimelineEntry[] {
  const clipOf = new Map<number, string>();
  const out: TimelineEntry[] = [];
  for (const event of history.events ?? []) {
    const id = Number(event.eventId);
    const scheduled = event.activityTaskScheduledEventAttributes;
    if (scheduled) {
      const data = scheduled.input?.payloads?.[0]?.data;
      const name = scheduled.activityType?.name ?? '?';
      const clip =
        name === 'generateClip' && data
          ? (JSON.parse(Buffer.from(data).toString()) as { clip?: { clipIndex?: number } }).clip?.clipIndex
          : undefined;
      clipOf.set(id, clip !== undefined ? `${name} clip ${clip}` : name);
    }
    const at = eventMillis(event);
    if (at < fromMs) continue;
    const pid = (identity: string | null | undefined) => (identity ? `pid ${identity.split('@')[0]}` : '');
    let detail = '';
    if (scheduled) detail = clipOf.get(id) ?? '';
    const started = event.activityTaskStartedEventAttributes;
    if (started)
      detail = `${clipOf.get(Number(started.scheduledEventId)) ?? ''}, attempt ${started.attempt ?? 1}, ${pid(started.identity)}`;
    const closed =
      event.activityTaskCompletedEventAttributes ?? event.activityTaskFailedEventAttributes ?? event.activityTaskTimedOutEventAttributes;
    if (closed) detail = clipOf.get(Number(closed.scheduledEventId)) ?? '';
    const wftStarted = event.workflowTaskStartedEventAttributes;
    if (wftStarted) detail = pid(wftStarted.identity);
    const wftTimedOut = event.workflowTaskTimedOutEventAttributes;
    if (wftTimedOut) detail = (temporal.api.enums.v1.TimeoutType[wftTimedOut.timeoutType ?? 0] ?? '').replace(/^TIMEOUT_TYPE_/, '');
    out.push({ offsetMs: at - fromMs, type: eventTypeName(event), detail });
  }
  return out.sort((a, b) => a.offsetMs - b.offsetMs);
}
