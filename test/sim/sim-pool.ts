/**
 * The simulation's worker pool: the real persistence tasks, run one step at a time on the
 * test's thread, in the order a seeded scheduler picks.
 *
 * A piscina worker thread runs an encode task straight through; here each worker holds the
 * task's `encodePartSteps` generators (src/persist/encode.ts) and advances them one yield at a
 * time: before each segment's claim and, with a small `slotsPerStep`, inside a segment. Between
 * two steps of one worker the scheduler may run main-thread writes, cuts, releases and other
 * workers' steps, which is every interleaving two real threads can produce at the points where
 * they share memory (claim, read, done). Tasks wait in a FIFO queue for an idle worker, as in
 * piscina; taking a task off the queue is a step of its own. Commit, recover and remove tasks
 * run whole, in one step, on real files.
 */

import type { TaskRunner } from '../../src/persist/worker-pool.js';
import { encodeFailure, encodePartSteps, kEncodeBufferBytes, type EncodedFile, type EncodePart, type EncodeTask } from '../../src/persist/encode.js';
import { commitTask, recoverTask, removeTask, type CommitTask, type RecoverTask, type RemoveTask } from '../../src/persist/commit.js';
import { FsSeam } from '../../src/persist/fs-seam.js';

interface Queued {
  task: { kind: string };
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/** Called at every yield of an encode step: the worker is at frozen segment `index` of `part`. */
export type StepHook = (part: EncodePart, index: number) => void;

export class SimWorker {
  readonly id: number;
  /** Relative speed: the scheduler picks busy workers in proportion to it (a slow worker widens every window). */
  readonly speed: number;
  job: Queued | null = null;
  private partIndex = 0;
  private steps: Generator<number, EncodedFile | null, void> | null = null;
  private files: EncodedFile[] = [];
  stepCount = 0;
  /** Each simulated worker has its own output buffer, as each real thread does. */
  private readonly output = Buffer.allocUnsafe(kEncodeBufferBytes);

  constructor(id: number, speed: number) {
    this.id = id;
    this.speed = speed;
  }

  get busy(): boolean {
    return this.job !== null;
  }

  take(job: Queued): void {
    this.job = job;
    this.partIndex = 0;
    this.steps = null;
    this.files = [];
  }

  private finish(settle: (job: Queued) => void): void {
    const job = this.job as Queued;
    this.job = null;
    this.steps = null;
    settle(job);
  }

  /** One step of the current encode task. */
  stepEncode(slotsPerStep: number, hook: StepHook): void {
    const job = this.job as Queued;
    const task = job.task as EncodeTask;
    this.stepCount++;
    try {
      const part = task.parts[this.partIndex] as EncodePart;
      if (this.steps === null) this.steps = encodePartSteps(new FsSeam(task.faults), task.dir, part, { slotsPerStep, output: this.output });
      const step = this.steps.next();
      if (step.done !== true) {
        hook(part, step.value);
        return;
      }
      if (step.value !== null) this.files.push(step.value);
      this.steps = null;
      this.partIndex++;
      if (this.partIndex === task.parts.length) this.finish((done) => done.resolve({ ok: true, files: this.files }));
    } catch (error) {
      const failure = encodeFailure(error);
      // A failed check or fs step is a result, as in the real worker; anything else rejects the task.
      this.finish((done) => (failure !== null ? done.resolve({ ok: false, failure }) : done.reject(error)));
    }
  }

  /** Run a non-encode task whole. */
  runWhole(): void {
    const job = this.job as Queued;
    this.stepCount++;
    this.finish((done) => {
      try {
        done.resolve(runOther(done.task));
      } catch (error) {
        done.reject(error);
      }
    });
  }
}

function runOther(task: { kind: string }): unknown {
  switch (task.kind) {
    case 'commit':
      return commitTask(task as CommitTask);
    case 'recover':
      return recoverTask(task as RecoverTask);
    case 'remove':
      return removeTask(task as RemoveTask);
    default:
      throw new Error(`the simulation pool does not run ${task.kind} tasks`);
  }
}

export class SimPool implements TaskRunner {
  readonly options: { maxThreads: number };
  readonly workers: SimWorker[];
  private readonly queue: Queued[] = [];
  private readonly slotsPerStep: number;
  private readonly hook: StepHook;

  constructor(speeds: readonly number[], slotsPerStep: number, hook: StepHook) {
    this.options = { maxThreads: speeds.length };
    this.workers = speeds.map((speed, id) => new SimWorker(id, speed));
    this.slotsPerStep = slotsPerStep;
    this.hook = hook;
  }

  run(task: object): Promise<unknown> {
    return new Promise((resolve, reject) => this.queue.push({ task: task as { kind: string }, resolve, reject }));
  }

  get queued(): number {
    return this.queue.length;
  }

  get idle(): boolean {
    return this.queue.length === 0 && this.workers.every((worker) => !worker.busy);
  }

  /** Workers that can make progress now: busy ones, and idle ones when a task waits. */
  runnable(): SimWorker[] {
    const waiting = this.queue.length > 0;
    return this.workers.filter((worker) => worker.busy || waiting);
  }

  /** Advance `worker` by one step (an idle worker takes the oldest queued task). */
  step(worker: SimWorker): void {
    if (!worker.busy) {
      const job = this.queue.shift();
      if (job === undefined) return;
      worker.take(job);
      if (job.task.kind !== 'encode') worker.runWhole();
      return;
    }
    worker.stepEncode(this.slotsPerStep, this.hook);
  }
}
