/** An in-memory ObjectStore with S3's conditional-write semantics and fault injection, for handler unit tests. */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { PreconditionFailedError, type ObjectInfo, type ObjectStore, type PutOptions } from '../../lambdas/src/core/ports.ts';

interface Stored {
  body: Buffer;
  info: ObjectInfo;
}

type Op = 'head' | 'get' | 'put' | 'delete' | 'list';

export class MemoryStore implements ObjectStore {
  readonly objects = new Map<string, Stored>();
  readonly log: { op: Op; key: string }[] = [];
  /** Return an Error to make that call fail (once per return). */
  fault: ((op: Op, key: string) => Error | null) | null = null;

  constructor(readonly bucket: string) {}

  private check(op: Op, key: string): void {
    this.log.push({ op, key });
    const err = this.fault?.(op, key);
    if (err) throw err;
  }

  text(key: string): string | undefined {
    return this.objects.get(key)?.body.toString('utf8');
  }

  json<T = unknown>(key: string): T | undefined {
    const t = this.text(key);
    return t === undefined ? undefined : (JSON.parse(t) as T);
  }

  seed(key: string, body: Uint8Array | string, contentType?: string, metadata: Record<string, string> = {}): string {
    const buf = Buffer.from(body);
    const etag = `"${createHash('md5').update(buf).digest('hex')}"`;
    const info: ObjectInfo = { key, size: buf.length, etag, metadata: { ...metadata }, lastModified: new Date() };
    if (contentType) info.contentType = contentType;
    this.objects.set(key, { body: buf, info });
    return etag;
  }

  async head(key: string): Promise<ObjectInfo | null> {
    await Promise.resolve();
    this.check('head', key);
    const o = this.objects.get(key);
    return o ? { ...o.info, metadata: { ...o.info.metadata } } : null;
  }

  async getStream(key: string): Promise<{ body: Readable; info: ObjectInfo } | null> {
    await Promise.resolve();
    this.check('get', key);
    const o = this.objects.get(key);
    return o ? { body: Readable.from([o.body]), info: { ...o.info } } : null;
  }

  async getBytes(key: string): Promise<{ body: Uint8Array; info: ObjectInfo } | null> {
    await Promise.resolve();
    this.check('get', key);
    const o = this.objects.get(key);
    return o ? { body: new Uint8Array(o.body), info: { ...o.info } } : null;
  }

  async put(key: string, body: Uint8Array | string | Readable, options: PutOptions & { contentLength?: number } = {}): Promise<{ etag: string }> {
    let buf: Buffer;
    if (body instanceof Readable) {
      const chunks: Buffer[] = [];
      for await (const c of body) chunks.push(Buffer.from(c as Buffer));
      buf = Buffer.concat(chunks);
    } else {
      buf = Buffer.from(body);
    }
    this.check('put', key);
    const current = this.objects.get(key);
    if (options.ifNoneMatch === '*' && current) throw new PreconditionFailedError(key);
    if (options.ifMatch !== undefined && current?.info.etag !== options.ifMatch) throw new PreconditionFailedError(key);
    return { etag: this.seed(key, buf, options.contentType, options.metadata) };
  }

  async delete(key: string): Promise<void> {
    await Promise.resolve();
    this.check('delete', key);
    this.objects.delete(key);
  }

  async list(prefix: string): Promise<ObjectInfo[]> {
    await Promise.resolve();
    this.check('list', prefix);
    return [...this.objects.values()].filter((o) => o.info.key.startsWith(prefix)).map((o) => ({ ...o.info }));
  }
}
