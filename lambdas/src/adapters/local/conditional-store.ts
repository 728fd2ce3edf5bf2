/**
 * s3rver 3.7 differs from Amazon S3 in two ways that matter to the job state kept in S3, and this
 * wrapper makes up for both in-process (test/local/s3rver.test.ts proves the differences):
 * - it ignores `If-None-Match` and `If-Match` on PUT (S3 answers 412 PreconditionFailed): here a
 *   conditional write first checks the current object, under a per-key lock;
 * - its writes are not atomic (it truncates the file, then writes it, then the metadata), so a read
 *   racing a rewrite of status.json can see an empty or partial object: here reads of a key wait for
 *   writes of that key (S3 always returns the old or the new object whole).
 *
 * It is exact as long as every writer goes through one wrapper instance, which is the case in the
 * local stack (one process owns the store; renders run in worker threads but their storage calls are
 * served by the main thread).
 */
import type { Readable } from 'node:stream';
import { PreconditionFailedError, type ObjectInfo, type ObjectStore, type PutOptions } from '../../core/ports.ts';

export class KeyedMutex {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    const tail = previous.then(() => mine);
    this.tails.set(key, tail);
    await previous;
    try {
      return await fn();
    } finally {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}

export class ConditionalWriteStore implements ObjectStore {
  private readonly locks = new KeyedMutex();

  constructor(private readonly inner: ObjectStore) {}

  get bucket(): string {
    return this.inner.bucket;
  }

  head(key: string): Promise<ObjectInfo | null> {
    return this.locks.run(key, () => this.inner.head(key));
  }

  /** Locked until the response starts; nothing rewrites the large objects that get streamed. */
  getStream(key: string): Promise<{ body: Readable; info: ObjectInfo } | null> {
    return this.locks.run(key, () => this.inner.getStream(key));
  }

  getBytes(key: string): Promise<{ body: Uint8Array; info: ObjectInfo } | null> {
    return this.locks.run(key, () => this.inner.getBytes(key));
  }

  list(prefix: string): Promise<ObjectInfo[]> {
    return this.inner.list(prefix);
  }

  put(key: string, body: Uint8Array | string | Readable, options: PutOptions & { contentLength?: number } = {}): Promise<{ etag: string }> {
    const { ifNoneMatch, ifMatch, ...rest } = options;
    return this.locks.run(key, async () => {
      if (ifNoneMatch !== undefined || ifMatch !== undefined) {
        const current = await this.inner.head(key); // not this.head(): we hold the lock already
        if (ifNoneMatch === '*' && current) throw new PreconditionFailedError(key);
        if (ifMatch !== undefined && (!current || current.etag !== ifMatch)) throw new PreconditionFailedError(key);
      }
      return this.inner.put(key, body, rest);
    });
  }

  delete(key: string): Promise<void> {
    return this.locks.run(key, () => this.inner.delete(key));
  }
}
