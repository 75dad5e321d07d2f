/**
 * The latency-over-time chart of bench/vs-redis.ts: write latency of each server around one
 * save under load, rendered with vega-lite -> vega (renderer 'none', toSVG; no browser).
 *
 * Guarantees: the SVG is produced by vega from a vega-lite spec (never hand-built); every
 * request is represented (the per-bucket maximum is drawn, so a single stalled request is
 * visible), while the file stays small.
 */

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { compile, type TopLevelSpec } from 'vega-lite';
import { parse, View } from 'vega';

export interface SystemTimeline {
  system: string;
  /** Every request: start time relative to the save start (ms), latency (ms). */
  points: Array<{ tMs: number; latencyMs: number }>;
  /** When the save ran, relative to its own start (so from 0). */
  saveEndMs: number;
  /** Cut pause / fork time (ms), for the caption. */
  pauseMs: number;
}

const kBucketMs = 20;

export async function renderLatencyChart(path: string, timelines: readonly SystemTimeline[], caption: string): Promise<number> {
  const rows: Array<{ system: string; tSec: number; stat: string; latencyMs: number }> = [];
  for (const timeline of timelines) {
    const buckets = new Map<number, number[]>();
    for (const point of timeline.points) {
      const bucket = Math.floor(point.tMs / kBucketMs);
      const list = buckets.get(bucket);
      if (list === undefined) buckets.set(bucket, [point.latencyMs]);
      else list.push(point.latencyMs);
    }
    for (const [bucket, list] of [...buckets.entries()].sort((a, b) => a[0] - b[0])) {
      list.sort((a, b) => a - b);
      const tSec = (bucket * kBucketMs) / 1000;
      rows.push({ system: timeline.system, tSec, stat: `max per ${kBucketMs} ms`, latencyMs: Math.max(0.01, list[list.length - 1] as number) });
      rows.push({ system: timeline.system, tSec, stat: `median per ${kBucketMs} ms`, latencyMs: Math.max(0.01, list[Math.floor((list.length - 1) / 2)] as number) });
    }
  }
  const panel = (timeline: SystemTimeline): Record<string, unknown> => ({
    title: `${timeline.system}: save from 0 to ${(timeline.saveEndMs / 1000).toFixed(2)} s (shaded), pause at the cut/fork ${timeline.pauseMs.toFixed(3)} ms`,
    width: 760,
    height: 220,
    layer: [
      {
        data: { values: [{ start: 0, end: timeline.saveEndMs / 1000 }] },
        mark: { type: 'rect', color: '#f4c27a', opacity: 0.35 },
        encoding: { x: { field: 'start', type: 'quantitative' }, x2: { field: 'end' } },
      },
      {
        data: { values: rows.filter((row) => row.system === timeline.system) },
        mark: { type: 'line', strokeWidth: 1, interpolate: 'step-after' },
        encoding: {
          x: { field: 'tSec', type: 'quantitative', title: 'time since the save started (s)' },
          y: { field: 'latencyMs', type: 'quantitative', scale: { type: 'log' }, title: 'SET latency (ms, log)' },
          color: { field: 'stat', type: 'nominal', title: null, scale: { range: ['#d62728', '#1f77b4'] } },
        },
      },
    ],
  });
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: 'Write latency during one save under write load', subtitle: caption },
    vconcat: timelines.map(panel),
    resolve: { scale: { x: 'shared', y: 'shared', color: 'shared' } },
    config: { background: 'white', font: 'sans-serif' },
  } as unknown as TopLevelSpec;
  const view = new View(parse(compile(spec).spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, svg);
  return svg.length;
}
