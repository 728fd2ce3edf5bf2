/**
 * SegmentInvoker for the local stack and the benchmark: runs the render-segment handler in this process
 * (its renders run in worker threads through WorkerRenderer, so segments really render in parallel on
 * the machine's cores). Request and answer go through JSON exactly as over Lambda's Invoke API, so
 * anything that would not survive the wire fails here too. At most `concurrency` segments run at once.
 */
import { CodedError, type SegmentInvoker, type SegmentRequest, type SegmentResponse, type SegmentResult } from '../../core/ports.ts';
import { segmentResultOf } from '../../handlers/render-segment.ts';

export type SegmentHandler = (request: SegmentRequest, context?: { getRemainingTimeInMillis(): number; abortSignal?: AbortSignal }) => Promise<SegmentResponse>;

export class LocalSegmentInvoker implements SegmentInvoker {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly handler: SegmentHandler,
    private readonly concurrency: number = Infinity,
  ) {}

  private async slot(): Promise<() => void> {
    if (this.running >= this.concurrency) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.running++;
    return () => {
      this.running--;
      this.waiting.shift()?.();
    };
  }

  async invoke(request: SegmentRequest, signal?: AbortSignal): Promise<SegmentResult> {
    const release = await this.slot();
    try {
      if (signal?.aborted) throw new CodedError('render_failed', `Segment ${request.segment} was stopped.`);
      const wire = JSON.parse(JSON.stringify(request)) as SegmentRequest;
      const deadline = Date.now() + wire.timeoutMs;
      // Unlike Lambda (where aborting the request leaves the function running), a stop ends the render
      // here, and we wait for it: nothing is still writing when the coordinator cleans up.
      const response = await this.handler(wire, { getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()), ...(signal ? { abortSignal: signal } : {}) });
      return segmentResultOf(JSON.parse(JSON.stringify(response)), request.segment);
    } finally {
      release();
    }
  }
}
