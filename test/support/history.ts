import { temporal } from '@temporalio/proto';

type History = temporal.api.history.v1.IHistory;
const EventType = temporal.api.enums.v1.EventType;

export interface ActivityRun {
  scheduledEventId: number;
  activityType: string;
  input: unknown;
  startedAt: number;
  endedAt: number;
  attempt: number;
  /** The worker that ran the final attempt. */
  identity: string;
  outcome: 'completed' | 'failed' | 'timedOut' | 'canceled';
}

function millis(time: temporal.api.history.v1.IHistoryEvent['eventTime']): number {
  return Number(time?.seconds ?? 0) * 1000 + Math.floor((time?.nanos ?? 0) / 1e6);
}

/** Each activity's final run, as the server recorded it: when it started and ended. */
export function activityRuns(history: History, activityType?: string): ActivityRun[] {
  const scheduled = new Map<number, { type: string; input: unknown }>();
  const started = new Map<number, { at: number; attempt: number; identity: string }>();
  const runs: ActivityRun[] = [];
  for (const event of history.events ?? []) {
    const id = Number(event.eventId);
    switch (event.eventType) {
      case EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED: {
        const attrs = event.activityTaskScheduledEventAttributes!;
        const payload = attrs.input?.payloads?.[0]?.data;
        scheduled.set(id, {
          type: attrs.activityType?.name ?? '',
          input: payload ? JSON.parse(Buffer.from(payload).toString()) : undefined,
        });
        break;
      }
      case EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED: {
        const attrs = event.activityTaskStartedEventAttributes!;
        started.set(Number(attrs.scheduledEventId), {
          at: millis(event.eventTime),
          attempt: attrs.attempt ?? 1,
          identity: attrs.identity ?? '',
        });
        break;
      }
      default: {
        const ended =
          event.activityTaskCompletedEventAttributes ??
          event.activityTaskFailedEventAttributes ??
          event.activityTaskTimedOutEventAttributes ??
          event.activityTaskCanceledEventAttributes;
        if (!ended) break;
        const scheduledEventId = Number(ended.scheduledEventId);
        const info = scheduled.get(scheduledEventId);
        const start = started.get(scheduledEventId);
        if (!info || !start) break;
        runs.push({
          scheduledEventId,
          activityType: info.type,
          input: info.input,
          startedAt: start.at,
          endedAt: millis(event.eventTime),
          attempt: start.attempt,
          identity: start.identity,
          outcome: event.activityTaskCompletedEventAttributes
            ? 'completed'
            : event.activityTaskFailedEventAttributes
              ? 'failed'
              : event.activityTaskTimedOutEventAttributes
                ? 'timedOut'
                : 'canceled',
        });
      }
    }
  }
  return activityType ? runs.filter((r) => r.activityType === activityType) : runs;
}

/** The most runs that were in flight at one instant. */
export function maxOverlap(runs: readonly { startedAt: number; endedAt: number }[]): number {
  const edges = runs.flatMap((r) => [
    { at: r.startedAt, delta: 1 },
    { at: r.endedAt, delta: -1 },
  ]);
  // At equal times an end comes before a start: a lane that frees up and is refilled is not two.
  edges.sort((a, b) => a.at - b.at || a.delta - b.delta);
  let current = 0;
  let peak = 0;
  for (const edge of edges) {
    current += edge.delta;
    peak = Math.max(peak, current);
  }
  return peak;
}
