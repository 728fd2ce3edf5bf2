/**
 * SegmentInvoker on AWS Lambda: a synchronous (RequestResponse) Invoke of the render-segment function
 * per segment, from process-media. Synchronous because the coordinator needs every segment before it
 * can join, and a direct invoke needs no queue, table or polling: process-media waits (it is billed for
 * that time, mostly idle) and its own timeout bounds the whole job. See docs/architecture.md.
 */
import { InvokeCommand, LambdaClient, type LambdaClientConfig } from '@aws-sdk/client-lambda';
import { CodedError, type SegmentInvoker, type SegmentRequest, type SegmentResult } from '../../core/ports.ts';
import { segmentResultOf } from '../../handlers/render-segment.ts';

/** The one call we make (so tests can pass a fake client). */
export interface InvokeClient {
  send(command: InvokeCommand, options?: { abortSignal?: AbortSignal }): Promise<{ StatusCode?: number; FunctionError?: string; Payload?: Uint8Array }>;
}

/** A Lambda client for long synchronous invokes: no socket timeout below Lambda's 15 minutes, one retry. */
export function createLambdaClient(config: LambdaClientConfig = {}): LambdaClient {
  return new LambdaClient({ maxAttempts: 2, ...config });
}

export class LambdaSegmentInvoker implements SegmentInvoker {
  constructor(
    private readonly client: InvokeClient,
    private readonly functionName: string,
  ) {}

  async invoke(request: SegmentRequest, signal?: AbortSignal): Promise<SegmentResult> {
    const command = new InvokeCommand({
      FunctionName: this.functionName,
      InvocationType: 'RequestResponse',
      Payload: new TextEncoder().encode(JSON.stringify(request)),
    });
    let out;
    try {
      out = await this.client.send(command, signal ? { abortSignal: signal } : {});
    } catch (err) {
      if (signal?.aborted) throw new CodedError('render_failed', `Segment ${request.segment} was stopped.`);
      const e = err as Error;
      // Throttling or a service error: transient, process-media's retry will try the job again.
      throw new CodedError('render_failed', `Could not invoke the segment worker for segment ${request.segment}: ${e.name}: ${e.message}`);
    }
    const text = out.Payload ? new TextDecoder().decode(out.Payload) : '';
    if (out.FunctionError) {
      // The function crashed or timed out (Lambda's own error payload: errorType, errorMessage).
      let detail = text.slice(0, 500);
      try {
        const p = JSON.parse(text) as { errorType?: string; errorMessage?: string };
        detail = `${p.errorType ?? 'Error'}: ${p.errorMessage ?? ''}`;
      } catch {
        /* keep the raw text */
      }
      const code = /timed out/i.test(detail) ? 'render_timeout' : 'render_failed';
      throw new CodedError(code, `Segment ${request.segment} failed in its worker (${out.FunctionError}): ${detail}`);
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new CodedError('render_failed', `Segment ${request.segment}: the worker's answer is not JSON.`);
    }
    return segmentResultOf(body, request.segment);
  }
}
