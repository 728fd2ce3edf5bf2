/**
 * Which picked files become part of the video, and why the others do not. Pure functions (no DOM):
 * the limits are the API's, from `config.json`, so a file refused here would be refused by the API too.
 */
import { ACCEPTED_IMAGE_TYPES, isAcceptedImageType } from '../../../contracts/index.ts';
import type { SiteConfig } from '../../../contracts/index.ts';

export interface FileLike {
  name: string;
  type: string;
  size: number;
}

export interface Rejection {
  name: string;
  reason: string;
}

/** For the file input's `accept` attribute. */
export const ACCEPT_ATTRIBUTE = ACCEPTED_IMAGE_TYPES.join(',');

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB'];
  let v = bytes / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  const digits = v >= 100 || Number.isInteger(v) ? 0 : 1;
  return `${v.toFixed(digits)} ${units[u]}`;
}

/** Split picked files into accepted ones (in order) and rejections with a reason each. */
export function screenFiles<T extends FileLike>(
  files: readonly T[],
  currentCount: number,
  limits: SiteConfig['limits'],
): { accepted: T[]; rejected: Rejection[] } {
  const accepted: T[] = [];
  const rejected: Rejection[] = [];
  for (const file of files) {
    const name = file.name || 'Pasted image';
    if (!isAcceptedImageType(file.type)) {
      const heic = /\.(heic|heif)$/i.test(name) || /hei[cf]/i.test(file.type);
      rejected.push({
        name,
        reason: heic
          ? 'HEIC photos are not supported: share or export them as JPEG first.'
          : `Not a JPEG, PNG or WebP image${file.type ? ` (it is ${file.type})` : ''}.`,
      });
    } else if (file.size === 0) {
      rejected.push({ name, reason: 'The file is empty.' });
    } else if (file.size > limits.maxImageBytes) {
      rejected.push({ name, reason: `Too large: ${formatBytes(file.size)}, the limit is ${formatBytes(limits.maxImageBytes)} per image.` });
    } else if (currentCount + accepted.length >= limits.maxImages) {
      rejected.push({ name, reason: `Too many images: one video takes at most ${limits.maxImages}.` });
    } else {
      accepted.push(file);
    }
  }
  return { accepted, rejected };
}

/** A copy of `list` with the element at `from` moved to index `to` (clamped). */
export function moveItem<T>(list: readonly T[], from: number, to: number): T[] {
  const out = [...list];
  if (from < 0 || from >= out.length) return out;
  const target = Math.max(0, Math.min(out.length - 1, to));
  const [item] = out.splice(from, 1);
  out.splice(target, 0, item as T);
  return out;
}

/** Refusals with the same reason as one line ("a.txt, b.txt and 3 more"), so 300 dropped files stay readable. */
export function groupRejections(rejected: readonly Rejection[], namesShown = 3): { names: string; reason: string; count: number }[] {
  const groups = new Map<string, string[]>();
  for (const r of rejected) {
    const list = groups.get(r.reason) ?? [];
    list.push(r.name);
    groups.set(r.reason, list);
  }
  return [...groups].map(([reason, names]) => {
    const shown = names.slice(0, namesShown).join(', ');
    const rest = names.length - namesShown;
    return { reason, count: names.length, names: rest > 0 ? `${shown} and ${rest} more` : shown };
  });
}
