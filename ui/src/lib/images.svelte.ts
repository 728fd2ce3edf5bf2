/** The picked images, in video order, with their thumbnails and per-image durations. */
import type { SiteConfig } from '../../../contracts/index.ts';
import { moveItem, screenFiles, type Rejection } from './selection.ts';

export interface ImageItem {
  id: string;
  file: File;
  /** Object URL for the thumbnail; revoked when the image is removed. */
  url: string;
  /** Seconds for this image, or null for the form's "seconds per image". */
  duration: number | null;
}

let nextId = 1;

export class ImageStore {
  items = $state<ImageItem[]>([]);
  rejected = $state<Rejection[]>([]);
  #limits: () => SiteConfig['limits'];

  constructor(limits: () => SiteConfig['limits']) {
    this.#limits = limits;
  }

  /** Returns how many were added. */
  add(files: readonly File[]): number {
    const { accepted, rejected } = screenFiles(files, this.items.length, this.#limits());
    const added = accepted.map((file) => ({ id: `img-${nextId++}`, file, url: URL.createObjectURL(file), duration: null }));
    this.items = [...this.items, ...added];
    if (rejected.length) this.rejected = [...this.rejected, ...rejected];
    return added.length;
  }

  indexOf(id: string): number {
    return this.items.findIndex((i) => i.id === id);
  }

  move(id: string, to: number): void {
    const from = this.indexOf(id);
    if (from < 0 || from === to) return;
    this.items = moveItem(this.items, from, to);
  }

  remove(id: string): void {
    const item = this.items.find((i) => i.id === id);
    if (!item) return;
    URL.revokeObjectURL(item.url);
    this.items = this.items.filter((i) => i.id !== id);
  }

  clear(): void {
    for (const item of this.items) URL.revokeObjectURL(item.url);
    this.items = [];
    this.rejected = [];
  }

  dismissRejected(): void {
    this.rejected = [];
  }

  setDuration(id: string, value: number | null): void {
    const item = this.items.find((i) => i.id === id);
    if (item) item.duration = value;
  }
}
